// Configured blackout regions for Clean Pixel Data (PS3.15 E.3.1): rules that
// match an instance on its ORIGINAL attributes (Modality, Manufacturer,
// ManufacturerModelName, Rows, Columns, SOPClassUID, ...) and give the
// rectangles to black out on every frame, in pixels or as fractions of the
// image, in the spirit of CTP's pixel anonymizer scripts.
//
//   "PixelRegions": [
//     { "Name": "Acme US banner",
//       "Match": { "Modality": "US", "Manufacturer": ["Acme*", "ACME"], "Rows": "480" },
//       "Regions": [ [0, 0, 640, 40] ],          // x, y, width, height
//       "Units": "Pixels" }                      // or "Fraction" (0..1 of Columns/Rows)
//   ]
//
// Match: attribute keyword (DCMTK dictionary) or "gggg,eeee" -> a value or a
// list of values; "*" and "?" are wildcards; every attribute must match one
// of its values; an empty "Match" matches every instance. Every matching rule
// contributes its regions.
#pragma once

#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dctagkey.h>
#include <json/value.h>

#include <cstdint>
#include <string>
#include <vector>

namespace Deid
{
  // A rectangle in pixels, clipped to the image.
  struct PixelRectangle
  {
    uint32_t x = 0;
    uint32_t y = 0;
    uint32_t width = 0;
    uint32_t height = 0;
  };

  // Attribute -> accepted values (wildcards); all attributes must match.
  typedef std::vector<std::pair<DcmTagKey, std::vector<std::string>>> AttributeMatch;

  // A "Match" object; throws DeidError(BadProfile) naming "where".
  AttributeMatch ParseAttributeMatch(const Json::Value& match, const std::string& where);
  bool MatchesAttributes(const AttributeMatch& match, DcmItem& dataset);

  struct PixelRegionRule
  {
    std::string name;
    AttributeMatch match;
    std::vector<std::vector<double>> regions;   // [x, y, w, h]
    bool fraction = false;
  };

  class PixelRegionRules
  {
  public:
    // Throws DeidError(BadProfile) naming the offending entry.
    static PixelRegionRules Parse(const Json::Value& rules, const std::string& where = "PixelRegions");

    void Add(const PixelRegionRule& rule) { rules_.push_back(rule); }
    bool IsEmpty() const { return rules_.empty(); }
    size_t GetSize() const { return rules_.size(); }

    // The rules that match the data set (original values), and their
    // rectangles in pixels for an image of columns x rows.
    std::vector<const PixelRegionRule*> FindMatching(DcmItem& dataset) const;
    static std::vector<PixelRectangle> Resolve(const PixelRegionRule& rule, uint32_t columns, uint32_t rows);

  private:
    std::vector<PixelRegionRule> rules_;
  };

  // "*" any sequence, "?" one character; the whole value must match.
  bool MatchesWildcard(const std::string& pattern, const std::string& value);
}
