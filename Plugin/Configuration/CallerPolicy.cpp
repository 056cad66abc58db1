#include "Configuration/CallerPolicy.h"

#include "Operations/DeidentificationEvents.h"
#include "Operations/EncryptionRecipients.h"
#include "Orthanc/CallerContext.h"
#include "Orthanc/OrthancApi.h"

#include "Engine/DeidError.h"
#include "Engine/EncryptedAttributes.h"
#include "Engine/SafeText.h"

#include <algorithm>
#include <memory>

namespace Deid
{
  namespace
  {
    std::unique_ptr<CallerPolicy> global_;
    const char* const WHERE = "Deidentification.CallerPolicy";

    // "*" or a list of strings.
    void ReadList(const Json::Value& value, const std::string& key, bool& all, std::vector<std::string>& names)
    {
      all = false;
      names.clear();
      if (value.isString() && value.asString() == "*")
      {
        all = true;
      }
      else if (value.isArray())
      {
        for (Json::ArrayIndex i = 0; i < value.size(); i++)
        {
          if (!value[i].isString())
          {
            throw ConfigurationError(std::string(WHERE) + "." + key + " must be \"*\" or a list of names");
          }
          names.push_back(value[i].asString());
        }
      }
      else
      {
        throw ConfigurationError(std::string(WHERE) + "." + key + " must be \"*\" or a list of names");
      }
    }

    // What the configuration says of a profile ("Project", "Recipients", "Cipher").
    const Json::Value& ProfileSection(const std::string& name)
    {
      static const Json::Value none(Json::objectValue);
      const Json::Value& profiles = Configuration::Get().GetSection()["Profiles"];
      return (profiles.isObject() && profiles[name].isObject()) ? profiles[name] : none;
    }

    std::string CipherName(const std::string& text)
    {
      return ToString(ParseContentCipher(text));   // throws DeidError(BadOption)
    }

    [[noreturn]] void Refuse(const NamedProfile& profile, const Json::Value& body, const std::string& what,
                             const std::string& key)
    {
      const std::string reason = what + " is not allowed to callers (" + WHERE + "." + key + ")";
      OperationDescription operation;
      operation.kind = CallerContext::GetCurrentRoute();
      operation.profileName = profile.name;
      operation.request = body;
      operation.caller = CallerContext::GetCurrent();
      DeidentificationEvents::ReportRefused(operation, reason);
      throw OrthancApi::HttpError::Forbidden("Refused by the caller policy: " + reason);
    }
  }


  CallerPolicy::CallerPolicy()
  {
    profiles_.all = true;
    options_.Add(Option::CleanPixelData);
    options_.Add(Option::CleanRecognizableVisualFeatures);
    ciphers_.names.insert(ToString(ContentCipher::AES256));
  }


  void CallerPolicy::Initialize(const Json::Value& section, const std::vector<std::string>& knownProjects)
  {
    std::unique_ptr<CallerPolicy> policy(new CallerPolicy);
    const Json::Value& c = section["CallerPolicy"];
    const Configuration& configuration = Configuration::Get();

    if (c.isNull())
    {
      // the secure default
    }
    else if (c.isString() && c.asString() == "*")
    {
      policy->profiles_.all = true;
      policy->allOptions_ = true;
      policy->projects_.all = true;
      policy->recipients_.all = true;
      policy->ciphers_.all = true;
    }
    else if (!c.isObject())
    {
      throw ConfigurationError(std::string(WHERE) + " must be \"*\" or an object with Profiles, Options, "
                               "Projects, Recipients, Ciphers");
    }
    else
    {
      for (const std::string& key : c.getMemberNames())
      {
        if (key != "Profiles" && key != "Options" && key != "Projects" && key != "Recipients" && key != "Ciphers")
        {
          throw ConfigurationError(std::string(WHERE) + ": unknown key " + SafeText::Quote(key) +
                                   " (known keys: Profiles, Options, Projects, Recipients, Ciphers)");
        }
      }

      std::vector<std::string> names;
      if (c.isMember("Profiles"))
      {
        ReadList(c["Profiles"], "Profiles", policy->profiles_.all, names);
        for (const std::string& name : names)
        {
          if (configuration.FindProfile(name) == nullptr)
          {
            throw ConfigurationError(std::string(WHERE) + ".Profiles: unknown profile " + SafeText::Quote(name));
          }
        }
        policy->profiles_.names.insert(names.begin(), names.end());
      }

      if (c.isMember("Options"))
      {
        policy->options_ = OptionSet();
        if (c["Options"].isString() && c["Options"].asString() == "*")
        {
          policy->allOptions_ = true;
        }
        else
        {
          try
          {
            policy->options_ = Configuration::ParseOptions(c["Options"], std::string(WHERE) + ".Options");
          }
          catch (const DeidError& e)
          {
            throw ConfigurationError(std::string(WHERE) + ".Options: " + e.what());
          }
        }
      }

      if (c.isMember("Projects"))
      {
        ReadList(c["Projects"], "Projects", policy->projects_.all, names);
        for (const std::string& name : names)
        {
          if (std::find(knownProjects.begin(), knownProjects.end(), name) == knownProjects.end())
          {
            throw ConfigurationError(std::string(WHERE) + ".Projects: unknown project " + SafeText::Quote(name));
          }
        }
        policy->projects_.names.insert(names.begin(), names.end());
      }

      if (c.isMember("Recipients"))
      {
        ReadList(c["Recipients"], "Recipients", policy->recipients_.all, names);
        policy->recipients_.names.insert(names.begin(), names.end());   // may be key store certificates
      }

      if (c.isMember("Ciphers"))
      {
        ReadList(c["Ciphers"], "Ciphers", policy->ciphers_.all, names);
        policy->ciphers_.names.clear();
        for (const std::string& name : names)
        {
          try
          {
            policy->ciphers_.names.insert(CipherName(name));
          }
          catch (const DeidError& e)
          {
            throw ConfigurationError(std::string(WHERE) + ".Ciphers: " + e.what());
          }
        }
      }
    }

    global_ = std::move(policy);
  }


  void CallerPolicy::Finalize()
  {
    global_.reset();
  }


  const CallerPolicy& CallerPolicy::Get()
  {
    static const CallerPolicy secureDefault;
    return global_ ? *global_ : secureDefault;
  }


  void CallerPolicy::Check(const NamedProfile& profile, bool named, const OptionSet& options,
                           const Json::Value& body) const
  {
    // The default profile is the configuration's choice: always allowed.
    if (named && profile.name != Configuration::Get().GetDefaultProfileName() && !profiles_.Contains(profile.name))
    {
      Refuse(profile, body, "the profile " + SafeText::Quote(profile.name), "Profiles");
    }

    for (Option option : options.List())
    {
      if (!profile.options.Has(option) && !allOptions_ && !options_.Has(option))
      {
        Refuse(profile, body, std::string("the option ") + GetOptionName(option) + " (on top of the profile " +
               SafeText::Quote(profile.name) + ")", "Options");
      }
    }

    if (!body.isObject())
    {
      return;
    }
    const Json::Value& configured = ProfileSection(profile.name);

    // Values of the wrong type are left to the 400 answers of their readers.
    if (body["Project"].isString())
    {
      const std::string own = configured["Project"].isString() ? configured["Project"].asString() : "default";
      const std::string project = body["Project"].asString();
      if (project != own && !projects_.Contains(project))
      {
        Refuse(profile, body, "the project " + SafeText::Quote(project), "Projects");
      }
    }

    if (body.isMember("Recipients") && !body["Recipients"].isNull())
    {
      std::vector<std::string> own;
      try
      {
        if (configured.isMember("Recipients"))
        {
          own = EncryptionRecipients::ParseNames(configured["Recipients"], "Profile");
        }
        for (const std::string& name : EncryptionRecipients::ParseNames(body["Recipients"], "Request"))
        {
          if (std::find(own.begin(), own.end(), name) == own.end() && !recipients_.Contains(name))
          {
            Refuse(profile, body, "the recipient " + SafeText::Quote(name), "Recipients");
          }
        }
      }
      catch (const DeidError&)
      {
        // not a list of names: EncryptionRecipients answers the 400
      }
    }

    if (body["Cipher"].isString())
    {
      std::string cipher;
      try
      {
        cipher = CipherName(body["Cipher"].asString());
      }
      catch (const DeidError&)
      {
        return;   // an unknown cipher: EncryptionRecipients answers the 400
      }
      const std::string own = configured["Cipher"].isString() ?
        CipherName(configured["Cipher"].asString()) : ToString(ContentCipher::AES256);
      if (cipher != own && !ciphers_.Contains(cipher))
      {
        Refuse(profile, body, "the cipher " + cipher, "Ciphers");
      }
    }
  }
}
