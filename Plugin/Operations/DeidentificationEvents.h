// The events of de-identification operations. The one place where a finished
// operation is reported (log now; the audit trail of the key store hooks in
// here). Reports hold Orthanc IDs, counts and options, never DICOM values.
#pragma once

#include "Operations/ProviderFactory.h"

#include <map>
#include <string>
#include <vector>

namespace Deid
{
  struct OperationReport
  {
    OperationDescription operation;
    std::string jobId;                      // empty unless run as an Orthanc job
    size_t instancesCount = 0;
    size_t failedInstancesCount = 0;
    std::vector<std::string> newInstances;  // Orthanc IDs of the stored copies
    std::vector<std::string> newResources;  // Orthanc IDs at the operation's level
    bool stored = false;                    // false for answers that stored nothing
    bool sourceDeleted = false;

    // Sending (Jobs/SendJob): set for sends only.
    std::string destination;                // "Modality \"TRIAL\""; empty for other operations
    size_t sentInstancesCount = 0;
    size_t refusedInstancesCount = 0;       // refused by the rules: never sent
    std::vector<std::string> rules;         // names of the deciding rules
    std::vector<std::string> profiles;      // the profiles the rules chose
    std::string status;                     // empty: from the counts; "Refused" (caller policy)
    std::string reason;                     // why it was refused (no patient data)
    // Clean Pixel Data (E.3.1): source instance ID -> the blacked-out
    // rectangles, coordinates only (never the text OCR read).
    std::map<std::string, std::vector<PixelRectangle>> pixelRegions;
  };

  class DeidentificationEvents
  {
  public:
    // Called once per operation, when it has finished (with or without
    // failures). Must not throw.
    static void ReportFinished(const OperationReport& report);

    // A request refused before anything was done (the caller policy):
    // logged and audited with status "Refused". Must not throw.
    static void ReportRefused(const OperationDescription& operation, const std::string& reason);
  };
}
