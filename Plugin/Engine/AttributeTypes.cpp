// Loads Profiles/AttributeTypes.json (see AttributeTypes.h).
#include "AttributeTypes.h"

#include "DeidError.h"

#include <json/json.h>

#include <algorithm>
#include <cstdio>

namespace Deid
{
  namespace
  {
    const char* const FILE_NAME = "AttributeTypes.json";

    [[noreturn]] void Fail(const std::string& message)
    {
      throw DeidError(ErrorCode::BadProfile, std::string("Invalid profile table ") + FILE_NAME + ": " + message);
    }

    int Strictness(const std::string& type)
    {
      if (type == "1" || type == "1C")
      {
        return 1;
      }
      if (type == "2" || type == "2C")
      {
        return 2;
      }
      return 3;
    }

    bool ParseTagKey(const std::string& text, DcmTagKey& key)
    {
      if (text.size() != 8)
      {
        return false;
      }
      std::string hex = text;
      std::replace(hex.begin(), hex.end(), 'x', '0');
      unsigned int g = 0, e = 0;
      if (sscanf(hex.c_str(), "%4x%4x", &g, &e) != 2)
      {
        return false;
      }
      key = DcmTagKey(static_cast<Uint16>(g), static_cast<Uint16>(e));
      return true;
    }
  }

  std::string MakeTypePathKey(const DcmTagKey& key)
  {
    char buffer[16];
    const Uint16 group = key.getGroup();
    if ((group & 0xFF01) == 0x5000 || (group & 0xFF01) == 0x6000)
    {
      snprintf(buffer, sizeof(buffer), "%02Xxx%04X", group >> 8, key.getElement());
    }
    else
    {
      snprintf(buffer, sizeof(buffer), "%04X%04X", group, key.getElement());
    }
    return buffer;
  }

  std::string MakeTypePath(const std::string& parent, const DcmTagKey& key)
  {
    return parent.empty() ? MakeTypePathKey(key) : parent + ">" + MakeTypePathKey(key);
  }

  bool IodAttributeTypes::Find(const std::string& path, AttributeTypeInfo& info) const
  {
    bool found = false;
    for (const Module& module : modules_)
    {
      auto it = module.types->find(path);
      if (it == module.types->end())
      {
        continue;
      }
      const int strictness = Strictness(it->second);
      // PS3.3: where several modules of the IOD define the attribute, the
      // strictest Type holds.
      if (!found || strictness < info.type)
      {
        info.type = strictness;
        info.typeText = it->second;
        info.module = &module.name;
        info.mandatoryModule = (module.usage == "M");
        found = true;
      }
    }
    return found;
  }

  std::vector<DcmTagKey> IodAttributeTypes::GetType1Children(const std::string& path) const
  {
    std::vector<DcmTagKey> result;
    const std::string prefix = path + ">";
    for (const Module& module : modules_)
    {
      for (const auto& entry : *module.types)
      {
        DcmTagKey key;
        if (entry.second == "1" && entry.first.size() == prefix.size() + 8 &&
            entry.first.compare(0, prefix.size(), prefix) == 0 &&
            ParseTagKey(entry.first.substr(prefix.size()), key) &&
            std::find(result.begin(), result.end(), key) == result.end())
        {
          result.push_back(key);
        }
      }
    }
    std::sort(result.begin(), result.end(), [] (const DcmTagKey& a, const DcmTagKey& b) { return a < b; });
    return result;
  }

  std::shared_ptr<const AttributeTypes> AttributeTypes::FromJson(const std::string& text)
  {
    Json::CharReaderBuilder builder;
    Json::CharReaderBuilder::strictMode(&builder.settings_);
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    if (!reader->parse(text.data(), text.data() + text.size(), &root, &errors) || !root.isObject())
    {
      Fail("not a valid JSON object");
    }
    if (!root["Modules"].isObject() || !root["IODs"].isArray())
    {
      Fail("missing Modules or IODs");
    }

    std::shared_ptr<AttributeTypes> result(new AttributeTypes);
    const Json::Value& modules = root["Modules"];
    for (const std::string& name : modules.getMemberNames())
    {
      const Json::Value& paths = modules[name];
      if (!paths.isObject())
      {
        Fail("module " + name + " is not an object");
      }
      auto& target = result->modules_[name];
      for (const std::string& path : paths.getMemberNames())
      {
        if (!paths[path].isString())
        {
          Fail("module " + name + ": the Type of " + path + " is not a string");
        }
        target[path] = paths[path].asString();
      }
    }

    static const std::unordered_map<std::string, std::string> empty;
    const Json::Value& iods = root["IODs"];
    for (Json::ArrayIndex i = 0; i < iods.size(); i++)
    {
      const Json::Value& iod = iods[i];
      if (!iod.isObject() || !iod["IOD"].isString() || !iod["SOPClassUIDs"].isArray() || !iod["Modules"].isArray())
      {
        Fail("IODs[" + std::to_string(i) + "] is malformed");
      }
      std::unique_ptr<IodAttributeTypes> entry(new IodAttributeTypes);
      entry->name_ = iod["IOD"].asString();
      for (const Json::Value& m : iod["Modules"])
      {
        if (!m.isArray() || m.size() != 2 || !m[0].isString() || !m[1].isString())
        {
          Fail("IOD " + entry->name_ + ": malformed module");
        }
        IodAttributeTypes::Module module;
        module.name = m[0].asString();
        module.usage = m[1].asString();
        auto found = result->modules_.find(module.name);
        module.types = (found == result->modules_.end()) ? &empty : &found->second;
        entry->modules_.push_back(module);
      }
      for (const Json::Value& uid : iod["SOPClassUIDs"])
      {
        result->bySopClass_[uid.asString()] = entry.get();
      }
      result->iods_.push_back(std::move(entry));
    }
    return result;
  }

  const IodAttributeTypes* AttributeTypes::FindBySopClass(const std::string& sopClassUid) const
  {
    auto it = bySopClass_.find(sopClassUid);
    return it == bySopClass_.end() ? nullptr : it->second;
  }
}
