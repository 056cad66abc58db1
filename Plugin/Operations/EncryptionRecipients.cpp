#include "Operations/EncryptionRecipients.h"

#include "Configuration/Configuration.h"
#include "Operations/KeyStoreService.h"

#include "Engine/DeidError.h"
#include "Engine/SafeText.h"

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace Deid
{
  namespace
  {
    std::mutex mutex_;
    std::map<std::string, std::string> configured_;   // name -> PEM
    std::map<std::string, std::shared_ptr<const EncryptedAttributesWriter>> writers_;   // cache

    std::string ReadFile(const std::string& path)
    {
      std::ifstream in(path, std::ios::binary);
      if (!in)
      {
        return "";
      }
      std::ostringstream s;
      s << in.rdbuf();
      return s.str();
    }

    // ["a", "b"] or "a,b" (from a header).
    std::vector<std::string> ParseNames(const Json::Value& value, const std::string& where)
    {
      std::vector<std::string> names;
      if (value.isString())
      {
        std::stringstream s(value.asString());
        std::string name;
        while (std::getline(s, name, ','))
        {
          const size_t first = name.find_first_not_of(" \t");
          const size_t last = name.find_last_not_of(" \t");
          if (first != std::string::npos)
          {
            names.push_back(name.substr(first, last - first + 1));
          }
        }
      }
      else if (value.isArray())
      {
        for (Json::ArrayIndex i = 0; i < value.size(); i++)
        {
          if (!value[i].isString())
          {
            throw DeidError(ErrorCode::BadOption, where + ": \"Recipients\" must be a list of recipient names");
          }
          names.push_back(value[i].asString());
        }
      }
      else
      {
        throw DeidError(ErrorCode::BadOption, where + ": \"Recipients\" must be a list of recipient names");
      }
      return names;
    }

    std::string FindCertificate(const std::string& name)
    {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        auto found = configured_.find(name);
        if (found != configured_.end())
        {
          return found->second;
        }
      }

      if (KeyStoreService::IsInitialized())
      {
        std::optional<std::string> pem = KeyStoreService::Get().GetStore().GetCertificate(name);
        if (pem)
        {
          return *pem;
        }
      }

      throw DeidError(ErrorCode::BadOption, "Unknown recipient " + SafeText::Quote(name) + " for the Encrypted "
                      "Attributes Sequence (neither in Deidentification.Recipients nor in the key store)");
    }
  }


  void EncryptionRecipients::Initialize(const Json::Value& section)
  {
    std::map<std::string, std::string> configured;
    const Json::Value& recipients = section["Recipients"];

    if (!recipients.isNull())
    {
      if (!recipients.isObject())
      {
        throw ConfigurationError("Deidentification.Recipients must be a JSON object "
                                 "(recipient name -> path of a PEM certificate)");
      }

      for (const std::string& name : recipients.getMemberNames())
      {
        const std::string where = "Deidentification.Recipients." + name;
        if (!recipients[name].isString())
        {
          throw ConfigurationError(where + " must be the path of a PEM certificate");
        }
        const std::string pem = ReadFile(recipients[name].asString());
        if (pem.empty())
        {
          throw ConfigurationError(where + ": cannot read the certificate file");
        }
        try
        {
          EncryptedAttributesWriter check({pem});
        }
        catch (const DeidError& e)
        {
          throw ConfigurationError(where + ": " + e.what());
        }
        configured[name] = pem;
      }
    }

    // The recipients and cipher of the profiles must be valid too.
    const Json::Value& profiles = section["Profiles"];
    if (profiles.isObject())
    {
      for (const std::string& profile : profiles.getMemberNames())
      {
        const Json::Value& p = profiles[profile];
        const std::string where = "Deidentification.Profiles." + profile;
        try
        {
          if (p.isObject() && p.isMember("Recipients"))
          {
            for (const std::string& name : ParseNames(p["Recipients"], where))
            {
              if (configured.find(name) == configured.end())
              {
                throw ConfigurationError(where + ": recipient \"" + name +
                                         "\" is not defined in Deidentification.Recipients");
              }
            }
          }
          if (p.isObject() && p.isMember("Cipher"))
          {
            if (!p["Cipher"].isString())
            {
              throw ConfigurationError(where + ".Cipher must be a string");
            }
            ParseContentCipher(p["Cipher"].asString());
          }
        }
        catch (const DeidError& e)
        {
          throw ConfigurationError(where + ": " + e.what());
        }
      }
    }

    std::lock_guard<std::mutex> lock(mutex_);
    configured_ = configured;
    writers_.clear();
  }


  void EncryptionRecipients::Finalize()
  {
    std::lock_guard<std::mutex> lock(mutex_);
    configured_.clear();
    writers_.clear();
  }


  std::shared_ptr<const EncryptedAttributesWriter> EncryptionRecipients::ForOperation(const OperationDescription& operation)
  {
    const Json::Value* recipients = nullptr;
    const Json::Value* cipher = nullptr;
    std::string where = "Request";

    if (operation.request.isObject() && operation.request.isMember("Recipients"))
    {
      recipients = &operation.request["Recipients"];
    }
    if (operation.request.isObject() && operation.request.isMember("Cipher"))
    {
      cipher = &operation.request["Cipher"];
    }

    const Json::Value& profiles = Configuration::Get().GetSection()["Profiles"];
    if (profiles.isObject() && profiles.isMember(operation.profileName) &&
        profiles[operation.profileName].isObject())
    {
      const Json::Value& p = profiles[operation.profileName];
      if (recipients == nullptr && p.isMember("Recipients"))
      {
        recipients = &p["Recipients"];
        where = "Profile " + operation.profileName;
      }
      if (cipher == nullptr && p.isMember("Cipher"))
      {
        cipher = &p["Cipher"];
      }
    }

    if (recipients == nullptr || recipients->isNull())
    {
      return nullptr;
    }

    const std::vector<std::string> names = ParseNames(*recipients, where);
    if (names.empty())
    {
      return nullptr;
    }

    ContentCipher contentCipher = ContentCipher::AES256;
    if (cipher != nullptr && !cipher->isNull())
    {
      if (!cipher->isString())
      {
        throw DeidError(ErrorCode::BadOption, where + ": \"Cipher\" must be AES256, AES128 or TripleDES");
      }
      contentCipher = ParseContentCipher(cipher->asString());
    }

    std::vector<std::string> pems;
    std::string cacheKey = ToString(contentCipher);
    for (const std::string& name : names)
    {
      pems.push_back(FindCertificate(name));
      cacheKey += "\n" + pems.back();   // a changed key-store certificate is a new writer
    }

    std::lock_guard<std::mutex> lock(mutex_);
    auto found = writers_.find(cacheKey);
    if (found != writers_.end())
    {
      return found->second;
    }

    std::shared_ptr<const EncryptedAttributesWriter> writer =
      std::make_shared<EncryptedAttributesWriter>(pems, contentCipher);
    if (writers_.size() > 64)
    {
      writers_.clear();
    }
    writers_[cacheKey] = writer;
    return writer;
  }


  std::vector<std::string> EncryptionRecipients::ParseNames(const Json::Value& value, const std::string& where)
  {
    return Deid::ParseNames(value, where);
  }


  Json::Value EncryptionRecipients::List()
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Json::Value names(Json::arrayValue);
    for (const auto& r : configured_)
    {
      names.append(r.first);
    }
    return names;
  }
}
