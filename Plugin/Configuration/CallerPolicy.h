// What callers of the REST routes may ask for beyond the configuration: which
// profiles they may name, which options they may add on top of a profile,
// which projects, recipients and ciphers they may choose. Every option of
// PS3.15 E.3 except Clean Pixel Data and Clean Recognizable Visual Features
// keeps more than the Basic Profile (the Retain options keep values, the
// Clean options keep cleaned text the Basic Profile removes), another
// project links pseudonyms to its data, another recipient can re-identify,
// a weaker cipher weakens the Encrypted Attributes Sequence (E.1.1). So the
// default only lets callers make the protection stronger:
//
//   "Deidentification": {
//     "CallerPolicy": {
//       "Profiles": "*",        // default: any configured profile; or a list of names
//       "Options": [ "CleanPixelData", "CleanRecognizableVisualFeatures" ],   // the default;
//                               // a list (names or CID 7050 codes) allows exactly those; "*" all
//       "Projects": [],         // default: none besides the project of the profile; a list or "*"
//       "Recipients": [],       // default: none besides the recipients of the profile; a list or "*"
//       "Ciphers": [ "AES256" ] // default: AES256 and the cipher of the profile; a list or "*"
//     }
//   }
//
// "CallerPolicy": "*" trusts every caller with everything (a trusted set-up).
// A refused request is a 403 naming what was refused, logged and audited
// (status "Refused"). Requests made by the configuration itself (rules:
// DeidentificationRequest::FromConfiguration) are not subject to the policy.
#pragma once

#include "Configuration/Configuration.h"

#include <json/value.h>

#include <set>
#include <string>

namespace Deid
{
  class CallerPolicy
  {
  public:
    // Reads "CallerPolicy" of the section. Throws ConfigurationError for
    // unknown keys, profiles, options, projects (knownProjects) or ciphers.
    static void Initialize(const Json::Value& section, const std::vector<std::string>& knownProjects);
    static void Finalize();
    static const CallerPolicy& Get();   // the secure default until Initialize()

    // Checks a caller's request: "profile" is the resolved profile (named by
    // the caller if "named"), "options" the options the request adds,
    // "body" the whole request (Project, Recipients, Cipher). Throws
    // HttpError 403 naming the first refused item, after logging and
    // auditing the refusal.
    void Check(const NamedProfile& profile, bool named, const OptionSet& options, const Json::Value& body) const;

  private:
    struct Allowed
    {
      bool all = false;
      std::set<std::string> names;

      bool Contains(const std::string& name) const { return all || names.count(name) > 0; }
    };

    Allowed profiles_;
    bool allOptions_ = false;
    OptionSet options_;
    Allowed projects_;
    Allowed recipients_;
    Allowed ciphers_;

    CallerPolicy();   // the default
  };
}
