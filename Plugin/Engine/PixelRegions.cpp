// Configured blackout regions for Clean Pixel Data (PS3.15 E.3.1).
#include "PixelRegions.h"

#include "DeidError.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dctag.h>

#include <cmath>
#include <cstdio>

namespace Deid
{
  bool MatchesWildcard(const std::string& pattern, const std::string& value)
  {
    // Iterative glob with one backtrack point (linear in practice).
    size_t p = 0, v = 0, star = std::string::npos, mark = 0;
    while (v < value.size())
    {
      if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == value[v]))
      {
        p++;
        v++;
      }
      else if (p < pattern.size() && pattern[p] == '*')
      {
        star = p++;
        mark = v;
      }
      else if (star != std::string::npos)
      {
        p = star + 1;
        v = ++mark;
      }
      else
      {
        return false;
      }
    }
    while (p < pattern.size() && pattern[p] == '*')
    {
      p++;
    }
    return p == pattern.size();
  }

  namespace
  {
    DcmTagKey ParseAttribute(const std::string& text, const std::string& where)
    {
      unsigned int group = 0, element = 0;
      char end = 0;
      if (text.size() == 9 && sscanf(text.c_str(), "%4x,%4x%c", &group, &element, &end) == 2)
      {
        return DcmTagKey(static_cast<Uint16>(group), static_cast<Uint16>(element));
      }
      DcmTag tag;
      if (DcmTag::findTagFromName(text.c_str(), tag).good())
      {
        return tag.getXTag();
      }
      throw DeidError(ErrorCode::BadProfile, where + ": unknown attribute \"" + text +
                      "\" (a DICOM keyword or \"gggg,eeee\")");
    }

    std::string ValueOf(DcmItem& dataset, const DcmTagKey& key)
    {
      std::string value = GetString(dataset, key);
      if (value.empty())
      {
        DcmElement* element = nullptr;
        OFString s;
        if (dataset.findAndGetElement(key, element, OFFalse).good() && element != nullptr &&
            element->isLeaf() && element->getOFStringArray(s).good())
        {
          value = Trim(std::string(s.c_str(), s.length()));
        }
      }
      return value;
    }
  }

  AttributeMatch ParseAttributeMatch(const Json::Value& match, const std::string& where)
  {
    AttributeMatch result;
    if (match.isNull())
    {
      return result;
    }
    if (!match.isObject())
    {
      throw DeidError(ErrorCode::BadProfile, where + " must be an object (attribute -> values)");
    }
    for (const std::string& attribute : match.getMemberNames())
    {
      std::vector<std::string> values;
      const Json::Value& v = match[attribute];
      if (v.isString())
      {
        values.push_back(v.asString());
      }
      else if (v.isArray() && v.size() > 0)
      {
        for (const Json::Value& item : v)
        {
          if (!item.isString())
          {
            throw DeidError(ErrorCode::BadProfile, where + "." + attribute + ": values must be strings");
          }
          values.push_back(item.asString());
        }
      }
      else
      {
        throw DeidError(ErrorCode::BadProfile, where + "." + attribute +
                        " must be a string or a non-empty list of strings");
      }
      result.emplace_back(ParseAttribute(attribute, where), values);
    }
    return result;
  }

  bool MatchesAttributes(const AttributeMatch& match, DcmItem& dataset)
  {
    for (const auto& condition : match)
    {
      const std::string value = ValueOf(dataset, condition.first);
      bool any = false;
      for (const std::string& pattern : condition.second)
      {
        if (MatchesWildcard(pattern, value))
        {
          any = true;
          break;
        }
      }
      if (!any)
      {
        return false;
      }
    }
    return true;
  }

  PixelRegionRules PixelRegionRules::Parse(const Json::Value& rules, const std::string& where)
  {
    PixelRegionRules result;
    if (rules.isNull())
    {
      return result;
    }
    if (!rules.isArray())
    {
      throw DeidError(ErrorCode::BadProfile, where + " must be a list of region rules");
    }

    for (Json::ArrayIndex i = 0; i < rules.size(); i++)
    {
      const Json::Value& r = rules[i];
      const std::string at = where + "[" + std::to_string(i) + "]";
      if (!r.isObject())
      {
        throw DeidError(ErrorCode::BadProfile, at + " must be an object with \"Match\" and \"Regions\"");
      }
      for (const std::string& key : r.getMemberNames())
      {
        if (key != "Name" && key != "Match" && key != "Regions" && key != "Units")
        {
          throw DeidError(ErrorCode::BadProfile, at + ": unknown key \"" + key + "\"");
        }
      }

      PixelRegionRule rule;
      if (r.isMember("Name"))
      {
        if (!r["Name"].isString())
        {
          throw DeidError(ErrorCode::BadProfile, at + ".Name must be a string");
        }
        rule.name = r["Name"].asString();
      }
      else
      {
        rule.name = "rule " + std::to_string(i);
      }

      const std::string units = r.isMember("Units") && r["Units"].isString() ? r["Units"].asString() :
        (r.isMember("Units") ? std::string("?") : std::string("Pixels"));
      if (units == "Fraction")
      {
        rule.fraction = true;
      }
      else if (units != "Pixels")
      {
        throw DeidError(ErrorCode::BadProfile, at + ".Units must be \"Pixels\" or \"Fraction\"");
      }

      rule.match = ParseAttributeMatch(r["Match"], at + ".Match");

      const Json::Value& regions = r["Regions"];
      if (!regions.isArray() || regions.size() == 0)
      {
        throw DeidError(ErrorCode::BadProfile, at + ".Regions must be a non-empty list of [x, y, width, height]");
      }
      for (const Json::Value& region : regions)
      {
        if (!region.isArray() || region.size() != 4)
        {
          throw DeidError(ErrorCode::BadProfile, at + ".Regions: each region is [x, y, width, height]");
        }
        std::vector<double> rect;
        for (const Json::Value& n : region)
        {
          if (!n.isNumeric() || n.asDouble() < 0 || !std::isfinite(n.asDouble()) ||
              (rule.fraction && n.asDouble() > 1.0))
          {
            throw DeidError(ErrorCode::BadProfile, at + ".Regions: coordinates must be numbers >= 0" +
                            std::string(rule.fraction ? " and <= 1 (Units: Fraction)" : ""));
          }
          rect.push_back(n.asDouble());
        }
        rule.regions.push_back(rect);
      }
      result.rules_.push_back(rule);
    }
    return result;
  }

  std::vector<const PixelRegionRule*> PixelRegionRules::FindMatching(DcmItem& dataset) const
  {
    std::vector<const PixelRegionRule*> found;
    for (const PixelRegionRule& rule : rules_)
    {
      if (MatchesAttributes(rule.match, dataset))
      {
        found.push_back(&rule);
      }
    }
    return found;
  }

  std::vector<PixelRectangle> PixelRegionRules::Resolve(const PixelRegionRule& rule, uint32_t columns, uint32_t rows)
  {
    std::vector<PixelRectangle> result;
    for (const std::vector<double>& r : rule.regions)
    {
      double x0 = r[0], y0 = r[1], x1 = r[0] + r[2], y1 = r[1] + r[3];
      if (rule.fraction)
      {
        // Outward rounding: a fraction never covers less than asked.
        x0 = std::floor(x0 * columns);
        y0 = std::floor(y0 * rows);
        x1 = std::ceil(x1 * columns);
        y1 = std::ceil(y1 * rows);
      }
      x0 = std::min<double>(x0, columns);
      y0 = std::min<double>(y0, rows);
      x1 = std::min<double>(x1, columns);
      y1 = std::min<double>(y1, rows);
      if (x1 > x0 && y1 > y0)
      {
        PixelRectangle p;
        p.x = static_cast<uint32_t>(x0);
        p.y = static_cast<uint32_t>(y0);
        p.width = static_cast<uint32_t>(x1) - p.x;
        p.height = static_cast<uint32_t>(y1) - p.y;
        result.push_back(p);
      }
    }
    return result;
  }
}
