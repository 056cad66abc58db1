#include "Configuration/DeidentificationRequest.h"

#include "Configuration/CallerPolicy.h"
#include "Configuration/RequestProfile.h"

#include "Orthanc/CallerContext.h"
#include "Orthanc/KnownKeys.h"
#include "Engine/DeidError.h"
#include "Engine/SafeText.h"

namespace Deid
{
  using OrthancApi::HttpError;

  // "fromCaller": a REST request, subject to the caller policy; otherwise
  // the configuration's own (rules), trusted.
  static void Resolve(DeidentificationRequest& r, const Json::Value& body, bool fromCaller)
  {
    RequestCheck check;
    if (fromCaller)
    {
      check = [&body](const NamedProfile& profile, bool named, const OptionSet& extra)
      {
        CallerPolicy::Get().Check(profile, named, extra, body);   // 403 if refused
      };
    }

    RequestProfile resolved;
    try
    {
      resolved = ResolveRequestProfile(body, check);
    }
    catch (const DeidError& e)
    {
      throw HttpError::BadRequest(e.what());   // unknown profile or option, refused combination
    }
    r.profileName = resolved.profileName;
    r.options = resolved.options;
    r.profile = resolved.profile;
  }

  static bool GetBoolean(const Json::Value& body, const char* key, bool defaultValue)
  {
    if (!body.isMember(key))
    {
      return defaultValue;
    }
    else if (body[key].isBool())
    {
      return body[key].asBool();
    }
    else
    {
      throw HttpError::BadRequest(std::string("\"") + key + "\" must be true or false");
    }
  }

  static DeidentificationRequest Parse(const Json::Value& body, bool fromCaller)
  {
    if (!body.isObject())
    {
      throw HttpError::BadRequest("The body must be a JSON object");
    }

    DeidentificationRequest r;
    r.body = body;
    Resolve(r, body, fromCaller);
    r.keepSource = GetBoolean(body, "KeepSource", true);
    r.synchronous = GetBoolean(body, "Synchronous", false);
    r.store = GetBoolean(body, "Store", false);

    if (body.isMember("Priority"))
    {
      if (!body["Priority"].isInt())
      {
        throw HttpError::BadRequest("\"Priority\" must be an integer");
      }
      r.priority = body["Priority"].asInt();
    }
    return r;
  }

  DeidentificationRequest DeidentificationRequest::FromJson(const Json::Value& body)
  {
    return Parse(body, true);
  }

  DeidentificationRequest DeidentificationRequest::FromConfiguration(const Json::Value& body)
  {
    return Parse(body, false);   // the configuration is trusted: no caller policy
  }

  DeidentificationRequest DeidentificationRequest::FromArguments(const OrthancApi::RestRequest& request)
  {
    KnownKeys::CheckArguments(request, GetRequestKeys());
    KnownKeys::CheckHeaders(request, "x-deidentification-",
                            { "x-deidentification-profile", "x-deidentification-options", "x-deidentification-project",
                              "x-deidentification-recipients", "x-deidentification-cipher" });

    Json::Value body(Json::objectValue);
    for (const auto& argument : request.arguments)
    {
      body[argument.first] = argument.second;
    }

    // Orthanc 1.10.1 gives plugins no GET arguments on POST requests: the
    // same values are accepted as HTTP headers.
    static const char* const HEADERS[][2] =
    {
      { "x-deidentification-profile", "Profile" },
      { "x-deidentification-options", "Options" },
      { "x-deidentification-project", "Project" },         // key store project (KeyStoreService.h)
      { "x-deidentification-recipients", "Recipients" },   // E.1.1 Encrypted Attributes (EncryptionRecipients.h)
      { "x-deidentification-cipher", "Cipher" }
    };
    for (const auto& header : HEADERS)
    {
      const std::string* value = request.GetHeader(header[0]);
      if (value != nullptr)
      {
        if (body.isMember(header[1]) && body[header[1]].asString() != *value)
        {
          throw HttpError::BadRequest(std::string("\"") + header[1] + "\" is given twice, with different values");
        }
        body[header[1]] = *value;
      }
    }

    DeidentificationRequest r;
    r.body = body;
    Resolve(r, body, true);   // Options: comma-separated
    return r;
  }

  const std::vector<std::string>& DeidentificationRequest::GetRequestKeys()
  {
    static const std::vector<std::string> keys = { "Profile", "Options", "Project", "Recipients", "Cipher" };
    return keys;
  }

  OperationDescription DeidentificationRequest::Describe(const std::string& kind, const std::string& level,
                                                         const std::string& sourceId) const
  {
    OperationDescription d;
    d.kind = kind;
    d.level = level;
    d.sourceId = sourceId;
    d.profileName = profileName;
    d.profile = profile;
    d.request = body;
    d.caller = CallerContext::GetCurrent();
    return d;
  }

  Json::Value DeidentificationRequest::GetOptionNames() const
  {
    Json::Value names(Json::arrayValue);
    for (Option o : options.List())
    {
      names.append(GetOptionName(o));
    }
    return names;
  }
}
