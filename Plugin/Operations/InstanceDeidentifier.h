// De-identifies one DICOM file held in memory: the per-instance path shared
// by the jobs and the single-instance routes.
#pragma once

#include "Operations/ProviderFactory.h"

#include "Engine/Deidentifier.h"

#include <string>

namespace Deid
{
  struct DeidentifiedInstance
  {
    std::string dicom;                 // the de-identified Part 10 file
    DeidentificationResult result;     // changes (if recorded); no originals (they may borrow from the input)
    // The new UIDs of the copy (empty if absent), e.g. to name output files.
    std::string studyInstanceUid;
    std::string seriesInstanceUid;
    std::string sopInstanceUid;
  };

  class InstanceDeidentifier
  {
  public:
    // Throws DeidError (BadInput for non-DICOM or truncated input). Messages
    // name the instance by "label" (an Orthanc ID, or "the uploaded file").
    static DeidentifiedInstance Apply(const void* data, size_t size,
                                      const OperationDescription& operation,
                                      DeidentificationContext& context,
                                      const DeidentificationSettings& settings,
                                      const std::string& label);
  };
}
