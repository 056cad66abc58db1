// Creates the replacement-value providers of one de-identification operation
// (a job, or one request on a single instance). The one place that decides
// which UID / pseudonym / date offset providers and text cleaner are used:
// the key store replaces the defaults here with keyed (HMAC) providers.
#pragma once

#include "Engine/Deidentifier.h"
#include "Engine/SeriesDefacer.h"

#include <json/value.h>

#include <memory>
#include <string>

namespace Deid
{
  // What the factory may need to know about the operation.
  struct OperationDescription
  {
    std::string kind;            // "job", "instance", "tool", "preview"
    std::string level;           // "Patient", "Study", "Series", "Instance" (empty for "tool")
    std::string sourceId;        // Orthanc ID of the source resource (empty for "tool")
    std::string profileName;
    std::shared_ptr<const Profile> profile;
    Json::Value request;         // the JSON body (or GET arguments) of the request
    std::string caller;          // who asked (compact JSON: remote IP, user), set at request time
  };

  // Owns the providers for the life of one operation; the engine's
  // DeidentificationContext points into it. One instance per operation keeps
  // UIDs consistent across all instances of that operation (PS3.15 E.1-1a, U).
  class OperationProviders
  {
  public:
    virtual ~OperationProviders() = default;

    DeidentificationContext& GetContext()
    {
      return context_;
    }

  protected:
    DeidentificationContext context_;
  };

  class ProviderFactory
  {
  public:
    // Default: RandomUidProvider, RandomPseudonymProvider,
    // FixedDateOffsetProvider (0 days), VocabularyTextCleaner (Engine/TextCleaner.h).
    static std::unique_ptr<OperationProviders> Create(const OperationDescription& operation);

    // Clean Recognizable Visual Features (E.3.2): where the other slices of a
    // series come from. The plugin reads them from Orthanc
    // (StoredSeriesSlices.h); without a loader (the command line), head CT is
    // refused under that option. Set once at start-up.
    static void SetSeriesLoader(SeriesDefacer::SeriesLoader loader);
  };
}
