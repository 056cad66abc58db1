// Sending de-identified instances to a destination (issue "rules per
// destination"): decides by the rules, de-identifies, and sends by C-STORE
// (Modality), to another Orthanc (Peer), by STOW-RS (DicomWeb, through the
// orthanc-dicomweb plugin), or stores the copy here (Store). Used by the
// send route's job and by the automatic rules.
#pragma once

#include "Rules/RuleTypes.h"

#include <string>

namespace Deid
{
  namespace Sending
  {
    // The outcome of one instance for one destination. Messages hold
    // Orthanc IDs, destination and rule names, never DICOM values.
    struct InstanceOutcome
    {
      bool refused = false;        // a rule refused (or no rule covers): nothing was sent
      bool sent = false;           // delivered to the destination (or stored, for "Store")
      std::string error;           // why it failed or was refused
      std::string storedId;        // Orthanc ID of the stored copy, when one was kept
      Rules::RuleDecision decision;
    };

    // Decides by the rules, de-identifies the stored instance with the
    // decided profile and delivers it; with "keepCopy" the de-identified
    // copy is also stored in this Orthanc. Never throws.
    InstanceOutcome ProcessInstance(const std::string& instanceId,
                                    const Rules::Destination& destination,
                                    bool keepCopy);

    // Throws HttpError unless the destination is configured in Orthanc:
    // 404 naming an unknown modality, peer or DICOMweb server (or DicomWeb
    // without the DICOMweb plugin); 400 for a kind that is not sent to.
    void CheckDestination(const Rules::Destination& destination);
  }
}
