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
  };
}
