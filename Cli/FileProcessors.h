// What the command-line front end does to one file: read it, de-identify (or
// re-identify) it with the plugin's per-instance path, and write it as
// OUTPUT/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm with
// the UIDs of the written copy (never the input path: folder names can
// identify). Failures are FileFailure with a reason holding no value.
#pragma once

#include "ParallelRunner.h"

#include "Operations/ProviderFactory.h"

#include "Engine/Reidentifier.h"

#include <cstdint>
#include <string>

namespace Deid
{
  namespace Cli
  {
    // The reason given for inputs that are not DICOM files.
    extern const char* const NOT_DICOM;

    void DeidentifyFile(const std::string& path, uint64_t& inputBytes, const std::string& outputDir,
                        const OperationDescription& operation, DeidentificationContext& context);

    void ReidentifyFile(const std::string& path, uint64_t& inputBytes, const std::string& outputDir,
                        const RecipientPrivateKey& key);
  }
}
