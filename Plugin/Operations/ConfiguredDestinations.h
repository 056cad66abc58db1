// The destinations a caller names, and whether Orthanc knows them: a DICOM
// modality of "DicomModalities", a peer of "OrthancPeers", a server of the
// DICOMweb plugin, or this Orthanc ("Store", "Ingest").
#pragma once

#include "Rules/RuleTypes.h"

#include <json/value.h>

#include <string>

namespace Deid
{
  namespace ConfiguredDestinations
  {
    // { "Modality": "X" } | { "Peer": "X" } | { "DicomWeb": "X" } | { "Store": true } | { "Ingest": true }.
    // Throws HttpError(BadRequest) for anything else.
    Rules::Destination Parse(const Json::Value& value);

    // From a kind and a name (e.g. HTTP headers). Throws HttpError(BadRequest).
    Rules::Destination Make(const std::string& kind, const std::string& name);

    // Throws HttpError(NotFound) naming the destination if Orthanc does not
    // configure it (or the DICOMweb plugin is not loaded).
    void CheckConfigured(const Rules::Destination& destination);
  }
}
