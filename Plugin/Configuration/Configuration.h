// The "Deidentification" section of the Orthanc configuration file. Read
// once in OrthancPluginInitialize(); read-only afterwards (thread-safe).
//
//   "Deidentification": {
//     "Enable": true,                    // false: the plugin registers nothing
//     "DefaultProfile": "Basic",         // used when a request names no profile
//     "Profiles": {                      // named profiles; "Basic" (no option) is built in
//       "research": { "Options": [ "RetainLongitudinalModifiedDates", "113105" ],
//                     "AcceptBurnedInAnnotationRisk": false }   // true: no refusal on burned-in text
//     },
//     "SourceMetadata": "DeidentifiedFrom",   // instance metadata linking a copy to its source
//     "JobMetadata": "DeidentificationJob",   // optional: instance metadata with the job ID
//     "ThreadsPerJob": 2,                // instances de-identified in parallel by one job (default: cores)
//     "MaximumNestingDepth": 32,         // deeper sequences are refused (1..40, Engine/NestingDepth.h)
//     "PixelRegions": [ { "Name": "...", "Match": { "Modality": "US" },   // CleanPixelData (E.3.1)
//                         "Regions": [[0, 0, 640, 40]], "Units": "Pixels" } ],
//     "PixelOcr": { "Enable": true, "Words": "All", "Match": { "Modality": "US" } },  // Tesseract
//     "BurnedInAnnotation": { "Modalities": ["US", ...], "SOPClassUIDs": [...] },  // refused without CleanPixelData
//     "KeyStore": {}, "Recipients": {}, "Rules": {}   // read by the key store, encryption, rules
//   }
#pragma once

#include "Engine/Option.h"
#include "Engine/NestingDepth.h"
#include "Engine/PixelRegions.h"
#include "Engine/TextDetection.h"
#include "Engine/Profile.h"

#include <json/value.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace Deid
{
  // A bad configuration: the message is logged and the plugin refuses to start.
  class ConfigurationError : public std::runtime_error
  {
  public:
    explicit ConfigurationError(const std::string& message) : std::runtime_error(message) {}
  };

  struct NamedProfile
  {
    std::string name;
    std::string description;                   // free text from the configuration, may be empty
    OptionSet options;
    std::shared_ptr<const Profile> profile;    // validated at start-up
  };

  class Configuration
  {
  public:
    static constexpr const char* SECTION = "Deidentification";
    static constexpr const char* BUILT_IN_PROFILE = "Basic";

    // Parses the whole Orthanc configuration. Throws ConfigurationError.
    static std::unique_ptr<Configuration> Parse(const Json::Value& orthancConfiguration,
                                                std::shared_ptr<const ProfileTables> tables);

    // The global configuration, set by Plugin.cpp at start-up.
    static void SetGlobal(std::unique_ptr<Configuration> configuration);
    static const Configuration& Get();

    bool IsEnabled() const { return enabled_; }
    const std::string& GetDefaultProfileName() const { return defaultProfile_; }
    const std::map<std::string, NamedProfile>& GetProfiles() const { return profiles_; }
    const NamedProfile* FindProfile(const std::string& name) const;   // nullptr if unknown
    const NamedProfile& GetDefaultProfile() const;
    const std::shared_ptr<const ProfileTables>& GetTables() const { return tables_; }

    // Metadata names (or numeric indices as text) to write on each new instance.
    const std::string& GetSourceMetadata() const { return sourceMetadata_; }
    const std::string& GetJobMetadata() const { return jobMetadata_; }   // empty: not written

    // Instances de-identified in parallel within one job (default: the
    // number of CPU cores, at most 4).
    unsigned int GetThreadsPerJob() const { return threadsPerJob_; }

    // Inputs with sequences nested deeper are refused (Engine/NestingDepth.h).
    // At most 40: Orthanc 1.10.1 parses what the plugin stores on its HTTP
    // threads (100 KB stacks), where about 46 levels crash it.
    static constexpr unsigned int HIGHEST_NESTING_DEPTH = 40;
    unsigned int GetMaximumNestingDepth() const { return maximumNestingDepth_; }
    // Clean Pixel Data (PS3.15 E.3.1): the configured blackout regions.
    const PixelRegionRules& GetPixelRegions() const { return pixelRegions_; }
    const OcrSettings& GetPixelOcr() const { return pixelOcr_; }

    // The raw section, and the sub-sections filled in by later features
    // (null values when absent).
    const Json::Value& GetSection() const { return section_; }
    const Json::Value& GetKeyStoreSection() const { return section_["KeyStore"]; }
    const Json::Value& GetRecipientsSection() const { return section_["Recipients"]; }
    const Json::Value& GetRulesSection() const { return section_["Rules"]; }

    // Parses a list of option names or CID 7050 codes (a JSON array or a
    // comma-separated string). Throws DeidError(BadOption) with a message
    // naming the offending entry and the accepted names.
    static OptionSet ParseOptions(const Json::Value& options, const std::string& where);

  private:
    bool enabled_ = true;
    std::string defaultProfile_ = BUILT_IN_PROFILE;
    std::map<std::string, NamedProfile> profiles_;
    std::shared_ptr<const ProfileTables> tables_;
    std::string sourceMetadata_ = "DeidentifiedFrom";
    std::string jobMetadata_;
    unsigned int threadsPerJob_ = 1;
    unsigned int maximumNestingDepth_ = DEFAULT_MAXIMUM_NESTING_DEPTH;
    PixelRegionRules pixelRegions_;
    OcrSettings pixelOcr_;
    Json::Value section_;
  };
}
