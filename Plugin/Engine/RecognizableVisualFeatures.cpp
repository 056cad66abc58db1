// Which instances can show a face (PS3.15 E.3.2). See the header for the rules.
#include "RecognizableVisualFeatures.h"

#include "BurnedInText.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace Deid
{
  namespace
  {
    const std::set<std::string> CT_CLASSES = {
      "1.2.840.10008.5.1.4.1.1.2",      // CT Image Storage
      "1.2.840.10008.5.1.4.1.1.2.1",    // Enhanced CT Image Storage
      "1.2.840.10008.5.1.4.1.1.2.2"     // Legacy Converted Enhanced CT Image Storage
    };

    const std::set<std::string> MR_CLASSES = {
      "1.2.840.10008.5.1.4.1.1.4",      // MR Image Storage
      "1.2.840.10008.5.1.4.1.1.4.1",    // Enhanced MR Image Storage
      "1.2.840.10008.5.1.4.1.1.4.3",    // Enhanced MR Color Image Storage
      "1.2.840.10008.5.1.4.1.1.4.4"     // Legacy Converted Enhanced MR Image Storage
    };

    // Visible light of the outside of the body (faces, skin, eyes).
    const std::set<std::string> PHOTOGRAPH_CLASSES = {
      "1.2.840.10008.5.1.4.1.1.77.1.4",     // VL Photographic Image Storage
      "1.2.840.10008.5.1.4.1.1.77.1.4.1",   // Video Photographic Image Storage
      "1.2.840.10008.5.1.4.1.1.77.1.7",     // Dermoscopic Photography Image Storage
      "1.2.840.10008.5.1.4.1.1.77.1.5.1",   // Ophthalmic Photography 8 Bit Image Storage
      "1.2.840.10008.5.1.4.1.1.77.1.5.2"    // Ophthalmic Photography 16 Bit Image Storage
    };

    const std::set<std::string> RENDERING_CLASSES = {
      "1.2.840.10008.5.1.4.1.1.11.9",   // Volume Rendering Volumetric Presentation State Storage
      "1.2.840.10008.5.1.4.1.1.11.10",  // Segmented Volume Rendering Volumetric Presentation State Storage
      "1.2.840.10008.5.1.4.1.1.11.11"   // Multiple Volume Rendering Volumetric Presentation State Storage
    };

    const std::set<std::string> SURFACE_CLASSES = {
      "1.2.840.10008.5.1.4.1.1.66.4",   // Segmentation Storage
      "1.2.840.10008.5.1.4.1.1.66.5",   // Surface Segmentation Storage
      "1.2.840.10008.5.1.4.1.1.66.7",   // Label Map Segmentation Storage
      "1.2.840.10008.5.1.4.1.1.68.1",   // Surface Scan Mesh Storage
      "1.2.840.10008.5.1.4.1.1.68.2"    // Surface Scan Point Cloud Storage
    };

    // Body Part Examined (PS3.16 Annex L, CID 4031 "Common Anatomic Regions")
    // values that include the face.
    const std::set<std::string> HEAD_BODY_PARTS = {
      "HEAD", "BRAIN", "SKULL", "HEADNECK", "HEAD_NECK", "HEADANDNECK", "FACE", "EAR", "EYE", "ORBIT", "NOSE",
      "JAW", "MANDIBLE", "MAXILLA", "SINUS", "NASOPHARYNX", "OROPHARYNX", "MOUTH", "TMJ", "NECK", "IAC",
      "CHIN", "FOREHEAD", "LIP", "TEMPORALBONE", "PITUITARY", "CEREBRUM", "CEREBELLUM"
    };

    // Anatomic Region Sequence codes (SNOMED CT and the retired SRT codes).
    const std::set<std::string> HEAD_CODES = {
      "69536005", "T-D1100",     // Head
      "12738006", "T-A0100",     // Brain
      "89546000", "T-11100",     // Skull
      "774007", "T-D1000",       // Head and Neck
      "89545001", "T-D1200",     // Face
      "45048000", "T-D1600",     // Neck
      "81745001", "T-AA000",     // Eye
      "117590005", "T-AB000",    // Ear
      "45206002", "T-21000",     // Nose
      "91609006", "T-D1213"      // Mandible / jaw
    };

    const char* const HEAD_WORDS[] = { "HEAD", "BRAIN", "SKULL", "FACE", "FACIAL", "SINUS", "ORBIT",
                                       "CRANI", "NEURO", "CEREB", "MAXILLO", "DENTAL" };

    // Reconstruction field of view of a head (fail closed when the body
    // part is unknown): both directions at most this many millimetres.
    const double HEAD_FIELD_OF_VIEW_MM = 300.0;

    std::string Upper(std::string s)
    {
      for (char& c : s)
      {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      return s;
    }

    std::string DescribeSopClass(const std::string& uid)
    {
      // DCMTK's keyword ("MRImageStorage") spelt as in PS3.6 ("MR Image Storage").
      const char* name = dcmFindNameOfUID(uid.c_str(), nullptr);
      if (name == nullptr)
      {
        return "SOP Class " + uid;
      }
      const std::string keyword(name);
      std::string spelt;
      for (size_t i = 0; i < keyword.size(); i++)
      {
        const bool upper = std::isupper(static_cast<unsigned char>(keyword[i])) != 0;
        if (i > 0 && upper &&
            (std::islower(static_cast<unsigned char>(keyword[i - 1])) ||
             (i + 1 < keyword.size() && std::isupper(static_cast<unsigned char>(keyword[i - 1])) &&
              std::islower(static_cast<unsigned char>(keyword[i + 1])))))
        {
          spelt += ' ';
        }
        spelt += keyword[i];
      }
      return spelt + " (" + uid + ")";
    }

    enum class Head { Yes, No, Unknown };

    // From the coded or enumerated body part: Yes, No (a known other part), Unknown.
    Head BodyPartSaysHead(DcmItem& dataset, std::string& why)
    {
      const std::string bodyPart = Upper(GetString(dataset, DCM_BodyPartExamined));
      if (!bodyPart.empty())
      {
        std::string compact;
        for (char c : bodyPart)
        {
          if (c != ' ')
          {
            compact += c;
          }
        }
        why = "Body Part Examined (0018,0015)";
        return HEAD_BODY_PARTS.count(compact) ? Head::Yes : Head::No;
      }

      DcmItem* region = nullptr;
      if (dataset.findAndGetSequenceItem(DCM_AnatomicRegionSequence, region, 0).good() && region != nullptr)
      {
        const std::string code = GetString(*region, DCM_CodeValue);
        if (!code.empty())
        {
          why = "Anatomic Region Sequence (0008,2218)";
          return HEAD_CODES.count(code) ? Head::Yes : Head::No;
        }
      }
      return Head::Unknown;
    }

    bool DescriptionsSayHead(DcmItem& dataset, std::string& why)
    {
      const std::pair<DcmTagKey, const char*> descriptions[] = {
        { DCM_StudyDescription, "Study Description (0008,1030)" },
        { DCM_SeriesDescription, "Series Description (0008,103E)" },
        { DCM_ProtocolName, "Protocol Name (0018,1030)" }
      };
      for (const auto& d : descriptions)
      {
        const std::string text = Upper(GetString(dataset, d.first));
        for (const char* word : HEAD_WORDS)
        {
          if (text.find(word) != std::string::npos)
          {
            why = d.second;
            return true;
          }
        }
      }
      return false;
    }

    bool HeadSizedFieldOfView(DcmItem& dataset)
    {
      Float64 rowSpacing = 0, columnSpacing = 0;
      Uint16 rows = 0, columns = 0;
      if (dataset.findAndGetFloat64(DCM_PixelSpacing, rowSpacing, 0).bad() ||
          dataset.findAndGetFloat64(DCM_PixelSpacing, columnSpacing, 1).bad() ||
          dataset.findAndGetUint16(DCM_Rows, rows).bad() ||
          dataset.findAndGetUint16(DCM_Columns, columns).bad())
      {
        return true;   // unknown geometry: fail closed
      }
      return rows * rowSpacing <= HEAD_FIELD_OF_VIEW_MM && columns * columnSpacing <= HEAD_FIELD_OF_VIEW_MM;
    }

    bool ImageTypeSaysRendering(DcmItem& dataset)
    {
      const std::vector<std::string> values = SplitValues(Upper(GetString(dataset, DCM_ImageType)));
      for (const std::string& v : values)
      {
        const std::string t = Trim(v);
        if (t == "3D" || t == "VOLUME_RENDER" || t == "SURFACE_RENDER" || t == "VR" ||
            (t.find("RENDER") != std::string::npos &&
             (t.find("VOLUME") != std::string::npos || t.find("SURFACE") != std::string::npos)))
        {
          return true;
        }
      }
      return false;
    }

    VisualFeatureRisk Make(VisualFeatureKind kind, const std::string& reason)
    {
      VisualFeatureRisk risk;
      risk.kind = kind;
      risk.reason = reason;
      return risk;
    }
  }

  VisualFeatureRisk ClassifyVisualFeatures(DcmItem& dataset)
  {
    const std::string sopClass = GetString(dataset, DCM_SOPClassUID);
    const std::string modality = Upper(GetString(dataset, DCM_Modality));
    const std::string what = DescribeSopClass(sopClass);

    if (PHOTOGRAPH_CLASSES.count(sopClass))
    {
      return Make(VisualFeatureKind::Photograph, what + " is a visible-light photograph that can show a face");
    }
    if (modality == "XC" && HasPixelData(dataset))
    {
      return Make(VisualFeatureKind::Photograph, what + " with Modality (0008,0060) XC (external camera) can "
                  "show a face");
    }
    if (RENDERING_CLASSES.count(sopClass))
    {
      return Make(VisualFeatureKind::Rendering, what + " renders a volume in 3D, which can show a face");
    }
    if (HasPixelData(dataset) && ImageTypeSaysRendering(dataset))
    {
      return Make(VisualFeatureKind::Rendering, what + " whose Image Type (0008,0008) says it is a 3D rendering "
                  "can show a face");
    }

    std::string why;
    const Head head = BodyPartSaysHead(dataset, why);
    if (SURFACE_CLASSES.count(sopClass))
    {
      if (head == Head::No)
      {
        return VisualFeatureRisk();
      }
      return Make(VisualFeatureKind::Surface, what + (head == Head::Yes ? " of the head (" + why + ")" :
                                                      " of an unknown body part") +
                  " can describe the surface of a face");
    }

    const bool ct = CT_CLASSES.count(sopClass) > 0;
    const bool mr = MR_CLASSES.count(sopClass) > 0;
    if ((!ct && !mr) || !HasPixelData(dataset) || head == Head::No)
    {
      return VisualFeatureRisk();
    }

    std::string reason;
    if (head == Head::Yes)
    {
      reason = what + " whose " + why + " is the head";
    }
    else if (DescriptionsSayHead(dataset, why))
    {
      reason = what + " without a body part, whose " + why + " names the head";
    }
    else if (HeadSizedFieldOfView(dataset))
    {
      reason = what + " without a body part, with a head-sized field of view (at most 300 mm)";
    }
    else
    {
      return VisualFeatureRisk();
    }
    return Make(ct ? VisualFeatureKind::HeadCt : VisualFeatureKind::HeadMr, reason);
  }
}
