// D (PS3.15 Table E.1-1a: "replace with a non-zero length value that may be
// a dummy value and consistent with the VR"), pseudonyms for Patient Name and
// Patient ID, and U (replacement UIDs, one per original UID).

#include "DeidentificationWalker.h"
#include "DeidError.h"
#include "DummyValues.h"
#include "ElementValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cstring>

namespace Deid
{
  namespace
  {
    constexpr size_t GetDummyBinarySizeMax = 8;
  }

  void DeidentificationWalker::Dummy(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option)
  {
    if (info.isSequence)
    {
      // A dummy sequence: same items, contents replaced by dummies (see the
      // top comment). Each replaced element is recorded with its path.
      DcmSequenceOfItems* sequence = static_cast<DcmSequenceOfItems*>(element);
      AttributeTypeInfo type;
      if (sequence->card() == 0 && iod_ != nullptr && iod_->Find(info.typePath, type) && type.type == 1)
      {
        // A Type 1 sequence has at least one item: one with dummy Type 1
        // content (TypeResolution.cpp).
        DcmItem* item = new DcmItem;
        FillDummyItem(*item, info.typePath, 0);
        sequence->insert(item);
        Record(info, "D", option, std::nullopt);
        return;
      }
      ProcessSequenceItems(*sequence, info, DummyMode::All);
      return;
    }

    if (info.vr == EVR_UI)
    {
      // A dummy UID is a replacement UID (consistent within the operation).
      ReplaceUids(parent, element, info, option, "D");
      return;
    }

    if (info.isString)
    {
      const std::string dummy = GetDummyString(info.vr);
      DcmElement* target = CreateElement(parent, info, info.vr);
      if (target->putString(dummy.c_str()).bad())
      {
        throw DeidError(ErrorCode::Internal, "Cannot set a dummy value for " + FormatTag(info.key));
      }
      Record(info, "D", option, dummy);
      return;
    }

    if (info.vr == EVR_UN && info.encodedUN && !IsInDictionary(info.key, info.privateCreator))
    {
      // The VR is unknown: a dummy "consistent with the VR" cannot be made.
      Remove(parent, element, info, option);
      return;
    }

    if ((info.vr == EVR_OB || info.vr == EVR_OW) && ((info.key.getGroup() & 0xFF01) == 0x5000 ||
                                                     (info.key.getGroup() & 0xFF01) == 0x6000))
    {
      // Overlay / Curve Data of a mandatory module: zeros of the same length,
      // consistent with the rows, columns and points that stay.
      const std::vector<Uint8> zeros(element->getLength() + (element->getLength() & 1), 0);
      DcmElement* target = CreateElement(parent, info, info.vr);
      if (target->putUint8Array(zeros.data(), static_cast<unsigned long>(zeros.size())).bad())
      {
        throw DeidError(ErrorCode::Internal, "Cannot set a dummy value for " + FormatTag(info.key));
      }
      Record(info, "D", option, std::nullopt);
      return;
    }

    DcmElement* target = CreateElement(parent, info, info.vr);
    OFCondition status;
    switch (info.vr)
    {
      case EVR_US: status = target->putUint16(0); break;
      case EVR_SS: status = target->putSint16(0); break;
      case EVR_UL: status = target->putUint32(0); break;
      case EVR_SL: status = target->putSint32(0); break;
      case EVR_FL: status = target->putFloat32(0); break;
      case EVR_FD: status = target->putFloat64(0); break;
      case EVR_AT: status = target->putTagVal(DcmTagKey(0, 0)); break;
      case EVR_OW:
      {
        const Uint16 zero[1] = { 0 };
        status = target->putUint16Array(zero, 1);
        break;
      }
      case EVR_OL:
      {
        const Uint32 zero[1] = { 0 };
        status = target->putUint32Array(zero, 1);
        break;
      }
      case EVR_OF:
      {
        const Float32 zero[1] = { 0 };
        status = target->putFloat32Array(zero, 1);
        break;
      }
      case EVR_OD:
      {
        const Float64 zero[1] = { 0 };
        status = target->putFloat64Array(zero, 1);
        break;
      }
      case EVR_SV: case EVR_UV:
        status = target->putString("0");
        break;
      default:
      {
        const Uint8 zero[GetDummyBinarySizeMax] = { 0 };
        size_t size = GetDummyBinarySize(info.vr);
        if (size == 0 || size > GetDummyBinarySizeMax)
        {
          size = 2;
        }
        status = target->putUint8Array(zero, static_cast<unsigned long>(size));
        break;
      }
    }

    if (status.bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set a dummy value for " + FormatTag(info.key));
    }
    Record(info, "D", option, std::nullopt);
  }

  // PatientName / PatientID with Z or D: the pseudonym of the patient.
  void DeidentificationWalker::Pseudonymize(DcmItem& parent, const ElementInfo& info, std::optional<Option> option)
  {
    const Pseudonym& pseudonym = GetPseudonym();
    const std::string& value = (info.key == DCM_PatientName) ? pseudonym.patientName : pseudonym.patientId;
    DcmElement* target = CreateElement(parent, info, info.vr == EVR_UN ? (info.key == DCM_PatientName ? EVR_PN : EVR_LO) : info.vr);
    if (target->putString(value.c_str()).bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set the pseudonym in " + FormatTag(info.key));
    }
    Record(info, "pseudonym", option, value);
  }

  void DeidentificationWalker::ReplaceUids(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                           std::optional<Option> option, const char* action)
  {
    if (info.isSequence)
    {
      ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info);
      return;
    }

    if (!info.value)
    {
      // Not readable as text: never keep it.
      Remove(parent, element, info, option);
      return;
    }

    std::vector<std::string> values = SplitValues(*info.value);
    bool any = false;
    for (std::string& v : values)
    {
      std::string t = Trim(v);
      while (!t.empty() && t.back() == '\0')
      {
        t.pop_back();
      }
      if (!t.empty())
      {
        v = context_.uids->MapUid(t);
        any = true;
      }
      else
      {
        v = t;
      }
    }

    if (!any)
    {
      if (strcmp(action, "D") == 0)
      {
        const std::string uid = context_.uids->MapUid(std::string());
        DcmElement* target = CreateElement(parent, info, EVR_UI);
        target->putString(uid.c_str());
        Record(info, action, option, uid);
      }
      return;   // U on an empty value: nothing to map
    }

    const std::string joined = JoinValues(values);
    DcmElement* target = CreateElement(parent, info, EVR_UI);
    if (target->putString(joined.c_str()).bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set the UID of " + FormatTag(info.key));
    }
    Record(info, action, option, joined);
  }
}
