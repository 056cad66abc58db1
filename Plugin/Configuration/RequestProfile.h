// The profile of a de-identification request body { "Profile": "research",
// "Options": [ ... ] }: the named profile (default: the configured
// DefaultProfile) plus the listed options. Orthanc-independent: shared by the
// plugin's routes (Configuration/DeidentificationRequest) and the
// command-line front end (Cli/), so both resolve a body the same way.
#pragma once

#include "Configuration/Configuration.h"

#include <json/value.h>

#include <functional>
#include <memory>
#include <string>

namespace Deid
{
  struct RequestProfile
  {
    std::string profileName;
    OptionSet options;                       // the profile's options plus the request's
    std::shared_ptr<const Profile> profile;
  };

  // Called with the named profile, whether the body named it, and the
  // options the body adds, before the profile is built (the plugin's caller
  // policy; the configuration and the command line are trusted: no check).
  using RequestCheck = std::function<void(const NamedProfile& profile, bool named, const OptionSet& extra)>;

  // Throws DeidError(BadOption) for an unknown profile or option, a value of
  // the wrong type, or a refused option combination.
  RequestProfile ResolveRequestProfile(const Json::Value& body, const RequestCheck& check = RequestCheck());
}
