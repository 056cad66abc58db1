#include "IdentifyingValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcvr.h>

namespace Deid
{
  std::vector<IdentifyingValue> CollectIdentifyingValues(DcmDataset& dataset)
  {
    // The patient's and the encounter's identity at the top level (E.1-1
    // attributes the Basic Profile removes or replaces).
    static const DcmTagKey tags[] = {
      DCM_PatientName, DCM_PatientID, DCM_RETIRED_OtherPatientIDs, DCM_OtherPatientNames,
      DCM_PatientBirthName, DCM_PatientMotherBirthName, DCM_PatientBirthDate,
      DCM_PatientAddress, DCM_PatientTelephoneNumbers, DCM_AccessionNumber,
      DCM_ReferringPhysicianName, DCM_PerformingPhysicianName, DCM_OperatorsName,
      DCM_NameOfPhysiciansReadingStudy, DCM_PhysiciansOfRecord, DCM_InstitutionName,
      DCM_InstitutionAddress, DCM_StudyID, DCM_StudyDate
    };

    std::vector<IdentifyingValue> values;
    for (const DcmTagKey& tag : tags)
    {
      DcmElement* element = nullptr;
      OFString value;
      if (dataset.findAndGetElement(tag, element, OFFalse).good() && element != nullptr &&
          element->getOFStringArray(value).good() && !value.empty())
      {
        IdentifyingValue item;
        item.tag = tag;
        item.vr = DcmVR(element->getTag().getEVR()).getVRName();
        item.value.assign(value.c_str(), value.length());
        values.push_back(item);
      }
    }
    return values;
  }
}
