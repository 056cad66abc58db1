#include "Configuration/Configuration.h"

#include "Engine/DeidError.h"

#include <algorithm>
#include <set>
#include <cstdlib>
#include <thread>

namespace Deid
{
  static std::unique_ptr<Configuration> global_;

  void Configuration::SetGlobal(std::unique_ptr<Configuration> configuration)
  {
    global_ = std::move(configuration);
  }

  const Configuration& Configuration::Get()
  {
    if (!global_)
    {
      throw std::logic_error("The de-identification configuration is not loaded");
    }
    return *global_;
  }


  OptionSet Configuration::ParseOptions(const Json::Value& options, const std::string& where)
  {
    OptionSet result;
    if (options.isNull())
    {
      return result;
    }
    else if (options.isString())
    {
      // "CleanDescriptors,113110"
      return OptionSet::Parse(options.asString());
    }
    else if (options.isArray())
    {
      for (Json::ArrayIndex i = 0; i < options.size(); i++)
      {
        if (!options[i].isString())
        {
          throw DeidError(ErrorCode::BadOption, where + ": each option must be a string "
                          "(an option name of PS3.15 E.3 or a CID 7050 code value)");
        }
        result.Add(ParseOption(options[i].asString()));
      }
      return result;
    }
    else
    {
      throw DeidError(ErrorCode::BadOption, where + ": \"Options\" must be a list of option names");
    }
  }


  static bool GetBoolean(const Json::Value& section, const char* key, bool defaultValue)
  {
    if (!section.isMember(key))
    {
      return defaultValue;
    }
    if (!section[key].isBool())
    {
      throw ConfigurationError(std::string("Deidentification.") + key + " must be true or false");
    }
    return section[key].asBool();
  }

  static std::string GetString(const Json::Value& section, const char* key, const std::string& defaultValue)
  {
    if (!section.isMember(key))
    {
      return defaultValue;
    }
    if (!section[key].isString())
    {
      throw ConfigurationError(std::string("Deidentification.") + key + " must be a string");
    }
    return section[key].asString();
  }


  static bool IsNumericMetadata(const std::string& name)
  {
    if (name.empty() || name.size() > 5 || name.find_first_not_of("0123456789") != std::string::npos)
    {
      return false;
    }
    long value = std::strtol(name.c_str(), nullptr, 10);
    return value >= 1024 && value <= 65535;   // user-defined metadata in Orthanc
  }

  // Orthanc only accepts user metadata given by a number in 1024..65535 or by
  // a name declared in its "UserMetadata" option.
  static void CheckMetadata(const Json::Value& orthanc, const std::string& key, const std::string& name)
  {
    if (name.empty() || IsNumericMetadata(name))
    {
      return;
    }
    const Json::Value& user = orthanc["UserMetadata"];
    if (!user.isObject() || !user.isMember(name))
    {
      throw ConfigurationError("Deidentification." + key + " is \"" + name +
                               "\", which is neither declared in the \"UserMetadata\" option of "
                               "Orthanc nor a number between 1024 and 65535");
    }
  }


  static NamedProfile MakeProfile(const std::string& name, const OptionSet& options,
                                  const std::string& description,
                                  const std::shared_ptr<const ProfileTables>& tables,
                                  const BurnedInTextPolicy& burnedInText)
  {
    NamedProfile p;
    p.name = name;
    p.description = description;
    p.options = options;
    p.profile = std::make_shared<Profile>(tables, options, name, burnedInText);
    return p;
  }


  static std::set<std::string> GetStringSet(const Json::Value& section, const char* key,
                                            const std::set<std::string>& defaultValue)
  {
    if (!section.isMember(key))
    {
      return defaultValue;
    }
    std::set<std::string> result;
    const Json::Value& list = section[key];
    if (!list.isArray())
    {
      throw ConfigurationError(std::string("Deidentification.BurnedInAnnotation.") + key + " must be a list of strings");
    }
    for (const Json::Value& item : list)
    {
      if (!item.isString())
      {
        throw ConfigurationError(std::string("Deidentification.BurnedInAnnotation.") + key + " must be a list of strings");
      }
      result.insert(item.asString());
    }
    return result;
  }

  // Which instances may carry burned-in text (refused without CleanPixelData).
  static BurnedInTextPolicy ParseBurnedInTextPolicy(const Json::Value& section)
  {
    BurnedInTextPolicy policy = BurnedInTextPolicy::Default();
    if (!section.isMember("BurnedInAnnotation"))
    {
      return policy;
    }
    const Json::Value& b = section["BurnedInAnnotation"];
    if (!b.isObject())
    {
      throw ConfigurationError("Deidentification.BurnedInAnnotation must be an object "
                               "{ \"Modalities\": [...], \"SOPClassUIDs\": [...] }");
    }
    for (const std::string& key : b.getMemberNames())
    {
      if (key != "Modalities" && key != "SOPClassUIDs")
      {
        throw ConfigurationError("Deidentification.BurnedInAnnotation: unknown key \"" + key + "\"");
      }
    }
    policy.modalities = GetStringSet(b, "Modalities", policy.modalities);
    policy.sopClassUids = GetStringSet(b, "SOPClassUIDs", policy.sopClassUids);
    return policy;
  }


  std::unique_ptr<Configuration> Configuration::Parse(const Json::Value& orthanc,
                                                      std::shared_ptr<const ProfileTables> tables)
  {
    std::unique_ptr<Configuration> c(new Configuration);
    c->tables_ = tables;

    if (orthanc.isObject() && orthanc.isMember(SECTION) && !orthanc[SECTION].isNull())
    {
      c->section_ = orthanc[SECTION];
      if (!c->section_.isObject())
      {
        throw ConfigurationError("The \"Deidentification\" section of the configuration must be a JSON object");
      }
    }
    else
    {
      c->section_ = Json::Value(Json::objectValue);
    }

    const Json::Value& section = c->section_;
    c->enabled_ = GetBoolean(section, "Enable", true);
    c->defaultProfile_ = GetString(section, "DefaultProfile", BUILT_IN_PROFILE);

    // Only declared names (or numbers) are accepted by Orthanc. The default
    // name falls back to the index 4601 when not declared.
    bool explicitSource = section.isMember("SourceMetadata");
    c->sourceMetadata_ = GetString(section, "SourceMetadata", "DeidentifiedFrom");
    if (!explicitSource &&
        !(orthanc["UserMetadata"].isObject() && orthanc["UserMetadata"].isMember(c->sourceMetadata_)))
    {
      c->sourceMetadata_ = "4601";
    }
    CheckMetadata(orthanc, "SourceMetadata", c->sourceMetadata_);

    bool explicitJob = section.isMember("JobMetadata");
    c->jobMetadata_ = GetString(section, "JobMetadata", "DeidentificationJob");
    if (!explicitJob &&
        !(orthanc["UserMetadata"].isObject() && orthanc["UserMetadata"].isMember(c->jobMetadata_)))
    {
      c->jobMetadata_.clear();   // optional: only written when declared
    }
    CheckMetadata(orthanc, "JobMetadata", c->jobMetadata_);
    if (!c->jobMetadata_.empty() && c->jobMetadata_ == c->sourceMetadata_)
    {
      throw ConfigurationError("Deidentification.SourceMetadata and JobMetadata must differ");
    }

    {
      unsigned int cores = std::thread::hardware_concurrency();
      c->threadsPerJob_ = std::min(64u, std::max(1u, cores));   // default: the number of cores
      if (section.isMember("ThreadsPerJob"))
      {
        if (!section["ThreadsPerJob"].isInt() || section["ThreadsPerJob"].asInt() < 1 ||
            section["ThreadsPerJob"].asInt() > 64)
        {
          throw ConfigurationError("Deidentification.ThreadsPerJob must be an integer between 1 and 64");
        }
        c->threadsPerJob_ = static_cast<unsigned int>(section["ThreadsPerJob"].asInt());
      }
    }

    if (section.isMember("MaximumNestingDepth"))
    {
      const Json::Value& depth = section["MaximumNestingDepth"];
      if (!depth.isInt() || depth.asInt() < 1 || depth.asInt() > static_cast<int>(HIGHEST_NESTING_DEPTH))
      {
        throw ConfigurationError("Deidentification.MaximumNestingDepth must be an integer between 1 and " +
                                 std::to_string(HIGHEST_NESTING_DEPTH));
      }
      c->maximumNestingDepth_ = static_cast<unsigned int>(depth.asInt());
    }
    try
    {
      c->pixelRegions_ = PixelRegionRules::Parse(section["PixelRegions"], "Deidentification.PixelRegions");
      c->pixelOcr_ = OcrSettings::Parse(section["PixelOcr"], "Deidentification.PixelOcr");
    }
    catch (const DeidError& e)
    {
      throw ConfigurationError(e.what());
    }
    const BurnedInTextPolicy burnedInText = ParseBurnedInTextPolicy(section);

    // The built-in Basic Profile, which a configured profile of the same name replaces.
    c->profiles_[BUILT_IN_PROFILE] = MakeProfile(BUILT_IN_PROFILE, OptionSet(),
                                                 "PS3.15 Basic Application Level Confidentiality Profile",
                                                 tables, burnedInText);

    if (section.isMember("Profiles"))
    {
      const Json::Value& profiles = section["Profiles"];
      if (!profiles.isObject())
      {
        throw ConfigurationError("Deidentification.Profiles must be a JSON object (name -> profile)");
      }

      for (const std::string& name : profiles.getMemberNames())
      {
        const Json::Value& p = profiles[name];
        std::string where = "Deidentification.Profiles." + name;
        if (name.empty())
        {
          throw ConfigurationError("Deidentification.Profiles: a profile name cannot be empty");
        }
        if (!p.isObject())
        {
          throw ConfigurationError(where + " must be a JSON object such as { \"Options\": [...] }");
        }

        OptionSet options;
        std::string description;
        try
        {
          options = ParseOptions(p["Options"], where);
          if (p.isMember("Description"))
          {
            if (!p["Description"].isString())
            {
              throw ConfigurationError(where + ".Description must be a string");
            }
            description = p["Description"].asString();
          }
          BurnedInTextPolicy policy = burnedInText;
          if (p.isMember("AcceptBurnedInAnnotationRisk"))
          {
            if (!p["AcceptBurnedInAnnotationRisk"].isBool())
            {
              throw ConfigurationError(where + ".AcceptBurnedInAnnotationRisk must be true or false");
            }
            policy.acceptRisk = p["AcceptBurnedInAnnotationRisk"].asBool();
          }
          c->profiles_[name] = MakeProfile(name, options, description, tables, policy);
        }
        catch (const DeidError& e)
        {
          throw ConfigurationError(where + ": " + e.what());
        }
      }
    }

    if (c->profiles_.find(c->defaultProfile_) == c->profiles_.end())
    {
      throw ConfigurationError("Deidentification.DefaultProfile is \"" + c->defaultProfile_ +
                               "\", which is not defined in Deidentification.Profiles");
    }

    return c;
  }


  const NamedProfile* Configuration::FindProfile(const std::string& name) const
  {
    auto found = profiles_.find(name);
    return found == profiles_.end() ? nullptr : &found->second;
  }

  const NamedProfile& Configuration::GetDefaultProfile() const
  {
    return profiles_.at(defaultProfile_);
  }
}
