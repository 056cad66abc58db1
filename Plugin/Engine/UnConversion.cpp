// Elements encoded with VR UN (PS3.5 6.2.2): re-created with their dictionary
// VR, and UN sequences re-parsed as implicit VR little endian, so that their
// items can be processed and nothing identifying survives as UN.

#include "DeidentificationWalker.h"
#include "DummyValues.h"

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cstring>

namespace Deid
{
  // An element encoded as UN whose dictionary VR is SQ (defined length,
  // explicit VR input): its value is an implicit VR little endian sequence
  // (PS3.5 6.2.2). Parse it to process its items. nullptr if it cannot be.
  DcmSequenceOfItems* DeidentificationWalker::ReparseAsSequence(DcmItem& item, DcmElement*& element, const ElementInfo& info)
  {
    Uint8* bytes = nullptr;
    Uint32 length = element->getLength();
    if (length == 0)
    {
      DcmSequenceOfItems* empty = new DcmSequenceOfItems(DcmTag(info.key, DcmVR(EVR_SQ)));
      item.insert(empty, OFTrue);
      element = empty;
      return empty;
    }

    if (element->getUint8Array(bytes).bad() || bytes == nullptr)
    {
      return nullptr;
    }

    // Wrap the value as one implicit VR little endian element and let DCMTK
    // parse it with the dictionary VR (SQ).
    std::vector<Uint8> buffer(8 + static_cast<size_t>(length));
    const Uint16 group = info.key.getGroup();
    const Uint16 elem = info.key.getElement();
    buffer[0] = static_cast<Uint8>(group & 0xFF);
    buffer[1] = static_cast<Uint8>(group >> 8);
    buffer[2] = static_cast<Uint8>(elem & 0xFF);
    buffer[3] = static_cast<Uint8>(elem >> 8);
    for (int i = 0; i < 4; i++)
    {
      buffer[4 + i] = static_cast<Uint8>((length >> (8 * i)) & 0xFF);
    }
    memcpy(buffer.data() + 8, bytes, length);

    DcmDataset wrapper;
    DcmInputBufferStream stream;
    stream.setBuffer(buffer.data(), static_cast<offile_off_t>(buffer.size()));
    stream.setEos();
    wrapper.transferInit();
    OFCondition status = wrapper.read(stream, EXS_LittleEndianImplicit, EGL_noChange, DCM_MaxReadLength);
    wrapper.transferEnd();
    if (status.bad())
    {
      return nullptr;
    }

    DcmElement* parsed = nullptr;
    if (wrapper.findAndGetElement(info.key, parsed, OFFalse).bad() || parsed == nullptr ||
        dynamic_cast<DcmSequenceOfItems*>(parsed) == nullptr)
    {
      return nullptr;
    }
    std::unique_ptr<DcmSequenceOfItems> sequence(static_cast<DcmSequenceOfItems*>(wrapper.remove(parsed)));

    DcmSequenceOfItems* result = sequence.release();
    item.insert(result, OFTrue);   // deletes the UN element
    element = result;
    return result;
  }

  // Re-creates an element read as UN with its real VR, keeping its value.
  void DeidentificationWalker::ConvertFromUN(DcmItem& parent, DcmElement* element, const ElementInfo& info)
  {
    if (info.vr == EVR_UN || info.vr == EVR_SQ)
    {
      return;   // unknown VR: stays UN
    }

    if (info.isString)
    {
      if (!info.value)
      {
        return;
      }
      DcmElement* target = CreateElement(parent, info, info.vr);
      target->putString(info.value->c_str(), static_cast<Uint32>(info.value->size()));
      return;
    }

    // Binary VRs: UN values are little endian (PS3.5 6.2.2 / implicit VR).
    if (gLocalByteOrder != EBO_LittleEndian)
    {
      return;
    }

    Uint8* bytes = nullptr;
    const Uint32 length = element->getLength();
    if (length > 0 && (element->getUint8Array(bytes).bad() || bytes == nullptr))
    {
      return;
    }
    std::vector<Uint8> copy(bytes, bytes + length);

    size_t unit = 0;
    switch (info.vr)
    {
      case EVR_US: case EVR_SS: case EVR_OW: unit = 2; break;
      case EVR_UL: case EVR_SL: case EVR_FL: case EVR_OL: case EVR_OF: unit = 4; break;
      case EVR_FD: case EVR_OD: unit = 8; break;
      case EVR_OB: unit = 1; break;
      default: return;   // AT, SV, UV, OV: stay UN
    }
    if (copy.size() % unit != 0)
    {
      return;
    }

    const unsigned long count = static_cast<unsigned long>(copy.size() / unit);
    DcmElement* target = CreateElement(parent, info, info.vr);
    if (count == 0)
    {
      return;
    }

    switch (info.vr)
    {
      case EVR_US: case EVR_OW:
      {
        std::vector<Uint16> v(count);
        memcpy(v.data(), copy.data(), copy.size());
        target->putUint16Array(v.data(), count);
        break;
      }
      case EVR_SS:
      {
        std::vector<Sint16> v(count);
        memcpy(v.data(), copy.data(), copy.size());
        target->putSint16Array(v.data(), count);
        break;
      }
      case EVR_UL: case EVR_OL:
      {
        std::vector<Uint32> v(count);
        memcpy(v.data(), copy.data(), copy.size());
        target->putUint32Array(v.data(), count);
        break;
      }
      case EVR_SL:
      {
        std::vector<Sint32> v(count);
        memcpy(v.data(), copy.data(), copy.size());
        target->putSint32Array(v.data(), count);
        break;
      }
      case EVR_FL: case EVR_OF:
      {
        std::vector<Float32> v(count);
        memcpy(v.data(), copy.data(), copy.size());
        target->putFloat32Array(v.data(), count);
        break;
      }
      case EVR_FD: case EVR_OD:
      {
        std::vector<Float64> v(count);
        memcpy(v.data(), copy.data(), copy.size());
        target->putFloat64Array(v.data(), count);
        break;
      }
      default:
        target->putUint8Array(copy.data(), count);
        break;
    }
  }
}
