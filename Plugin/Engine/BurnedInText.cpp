// Fail closed on burned-in text (PS3.15 E.3.1).
#include "BurnedInText.h"

#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <cctype>

namespace Deid
{
  BurnedInTextPolicy BurnedInTextPolicy::Default()
  {
    BurnedInTextPolicy p;
    p.modalities = { "US", "SC", "OT", "XC", "ES" };
    p.sopClassUids = {
      "1.2.840.10008.5.1.4.1.1.7",     // Secondary Capture Image Storage
      "1.2.840.10008.5.1.4.1.1.7.1",   // Multi-frame Single Bit Secondary Capture
      "1.2.840.10008.5.1.4.1.1.7.2",   // Multi-frame Grayscale Byte Secondary Capture
      "1.2.840.10008.5.1.4.1.1.7.3",   // Multi-frame Grayscale Word Secondary Capture
      "1.2.840.10008.5.1.4.1.1.7.4",   // Multi-frame True Color Secondary Capture
      "1.2.840.10008.5.1.4.1.1.6.1",   // Ultrasound Image Storage
      "1.2.840.10008.5.1.4.1.1.3.1",   // Ultrasound Multi-frame Image Storage
      "1.2.840.10008.5.1.4.1.1.6.2"    // Enhanced US Volume Storage
    };
    return p;
  }

  bool HasPixelData(DcmItem& dataset)
  {
    return dataset.tagExists(DCM_PixelData, OFFalse) || dataset.tagExists(DCM_FloatPixelData, OFFalse) ||
      dataset.tagExists(DCM_DoubleFloatPixelData, OFFalse);
  }

  std::string MayCarryBurnedInText(DcmItem& dataset, const BurnedInTextPolicy& policy)
  {
    if (!HasPixelData(dataset))
    {
      return std::string();
    }

    std::string burnedIn = GetString(dataset, DCM_BurnedInAnnotation);
    for (char& c : burnedIn)
    {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (burnedIn == "YES")
    {
      return "Burned In Annotation (0028,0301) is YES";
    }

    // Enumerated values from a fixed set: safe to name in the reason.
    const std::string modality = GetString(dataset, DCM_Modality);
    if (policy.modalities.count(modality) > 0)
    {
      return "Modality (0008,0060) is " + modality;
    }
    const std::string sopClass = GetString(dataset, DCM_SOPClassUID);
    if (policy.sopClassUids.count(sopClass) > 0)
    {
      return "SOP Class UID (0008,0016) is " + sopClass;
    }
    return std::string();
  }
}
