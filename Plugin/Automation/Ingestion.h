// De-identification at ingestion ("Deidentification.Ingestion"): every
// instance Orthanc receives (C-STORE, REST, plugins) is decided by the rules
// per destination for destination kind "Ingest" and de-identified before it
// is stored (Orthanc's received-instance callback, SDK 1.10), so that the
// identified original is never written to disk.
//
//   "Ingestion": {
//     "Enable": false,            // secure default: nothing changes unless true
//     "RefuseUnmatched": true     // no rule covers the instance: discarded (false: stored as received)
//   }
//
// An instance that a rule refuses, or that cannot be de-identified, is
// discarded (never stored as received); a C-STORE sender gets the failure
// status 0124H (Refused: Not authorized), a REST caller Orthanc's
// "FilteredOut". The plugin's own output is stored as is.
//
// Orthanc 1.10.1 gives the received-instance callback the origin kind only:
// "Ingest" rules match on the origin kind and the attributes, never on the
// calling AET (use Orthanc's DicomModalities and "DicomAlwaysAllowStore":
// false to choose who may send).
#pragma once

#include <json/value.h>

namespace Deid
{
  namespace Automation
  {
    class Ingestion
    {
    public:
      // Reads the section and, if enabled, registers Orthanc's
      // received-instance callback and C-STORE filter. Throws ConfigurationError.
      static void Initialize(const Json::Value& deidentificationSection);
      static bool IsEnabled();
    };
  }
}
