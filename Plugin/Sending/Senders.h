// How a de-identified file reaches each kind of destination, through
// Orthanc's own REST routes (one file per kind), and the check that a
// destination is configured. Internal to Sending/: callers use
// DestinationSender.h. Every error is an HttpError whose message names the
// instance by its Orthanc ID ("label") and the destination, never a DICOM value.
#pragma once

#include "Rules/RuleTypes.h"

#include <string>

namespace Deid
{
  namespace Sending
  {
    // "Modality \"TRIAL\"", with the name escaped as a JSON string (names
    // come from callers: never log them raw).
    std::string DescribeDestination(const Rules::Destination& destination);

    // Modality: C-STORE SCU through POST /modalities/{name}/store-straight
    // (ModalitySender.cpp).
    void SendToModality(const std::string& dicom, const Rules::Destination& destination,
                        const std::string& label);

    // Peer: another Orthanc through POST /peers/{name}/store-straight
    // (PeerSender.cpp).
    void SendToPeer(const std::string& dicom, const Rules::Destination& destination,
                    const std::string& label);

    // DicomWeb: STOW-RS by the orthanc-dicomweb plugin, which sends stored
    // resources only: POST {root}servers/{name}/stow with the Orthanc ID of
    // the stored copy (DicomWebSender.cpp).
    std::string GetDicomWebRoot();   // "DicomWeb.Root" of the configuration, default "/dicom-web/"

    void SendByStowRs(const std::string& storedId, const Rules::Destination& destination,
                      const std::string& label);

    // A de-identified copy stored in this Orthanc, linked to its source by
    // the DeidentifiedFrom metadata (LocalCopy.cpp).
    struct LocalCopy
    {
      std::string id;                // Orthanc ID of the copy
      bool alreadyStored = false;    // Orthanc held this copy before: not ours to delete
    };

    LocalCopy StoreLocalCopy(const std::string& dicom, const std::string& sourceId, const std::string& label);

    // Deletes a copy stored only for sending; false if Orthanc refused.
    bool DeleteLocalCopy(const LocalCopy& copy);
  }
}
