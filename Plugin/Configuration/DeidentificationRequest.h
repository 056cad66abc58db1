// The common arguments of the de-identification routes, from a JSON body
//   { "Profile": "research", "Options": [ "CleanDescriptors", "113110" ],
//     "KeepSource": true, "Priority": 0, "Synchronous": false, "Store": false }
// or from GET arguments (?Profile=research&Options=CleanDescriptors,113110)
// and their equivalent HTTP headers (X-Deidentification-Profile,
// X-Deidentification-Options), needed for POST in Orthanc 1.10.1.
// The profile is the named profile (default: the configured DefaultProfile)
// plus the listed options.
#pragma once

#include "Configuration/Configuration.h"
#include "Orthanc/OrthancApi.h"
#include "Operations/ProviderFactory.h"

#include <json/value.h>

#include <memory>
#include <string>
#include <vector>

namespace Deid
{
  struct DeidentificationRequest
  {
    std::string profileName;
    OptionSet options;                       // the profile's options plus the request's
    std::shared_ptr<const Profile> profile;
    bool keepSource = true;
    int priority = 0;
    bool synchronous = false;
    bool store = false;
    Json::Value body;                        // the whole request, for later features

    // Throw HttpError(BadRequest) with a clear message for unknown options,
    // unknown profiles, and values of the wrong type.
    // A request from a caller (REST body): the caller policy applies.
    static DeidentificationRequest FromJson(const Json::Value& body);

    // A request made by the configuration itself (rules, automatic rules,
    // ingestion): trusted, the caller policy does not apply.
    static DeidentificationRequest FromConfiguration(const Json::Value& body);
    static DeidentificationRequest FromArguments(const OrthancApi::RestRequest& request);

    // The keys every de-identification request may hold (Profile, Options,
    // Project, Recipients, Cipher); each route adds its own (KnownKeys.h).
    static const std::vector<std::string>& GetRequestKeys();

    OperationDescription Describe(const std::string& kind, const std::string& level,
                                  const std::string& sourceId) const;

    // The options as names, in CID 7050 order.
    Json::Value GetOptionNames() const;
  };
}
