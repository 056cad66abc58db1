// Clean Graphics Option (PS3.15 E.3.3): "any information encoded in graphics,
// text annotations or overlays corresponding to the Attribute information
// specified to be removed by the Profile and any other Options specified
// shall also be removed". Table E.1-1 gives C to the Graphic Annotation
// Sequence (0070,0001), Overlay Data (60xx,3000), Overlay Comments (60xx,4000)
// and Curve Data (50xx,xxxx). Text goes through the text cleaner (chosenBy
// CleanGraphics); non-text graphics are kept:
//  - Graphic Annotation Sequence: each Text Object's Unformatted Text Value is
//    cleaned; a text object whose text cannot be cleaned is removed, an item
//    left with neither text nor graphics goes, and if none is left the
//    sequence goes (its module is conditional) unless the IOD needs it (the
//    Basic Profile's D then). Graphic and compound graphic objects, layers and
//    references (UIDs replaced as elsewhere) are kept; Tick Labels and Tracking
//    IDs are cleaned (a dummy if they cannot be).
//  - Overlay Data: the 1-bit overlay is read by Tesseract (TextDetection.h);
//    an overlay that holds text, or that cannot be read, goes with its whole
//    Overlay Plane module (FindRemovedOverlays, TypeResolution.cpp). Overlay
//    Comments, Description and Label are cleaned text (removed otherwise:
//    Type 3). Overlays in the high bits of Pixel Data (no Overlay Data) keep
//    the Basic Profile's handling.
//  - Curves (retired): the numeric data and codes are kept; Curve
//    Description, Axis Units and Labels, Curve Label and Audio Comments are
//    cleaned text; audio samples are removed.

#include "DeidentificationWalker.h"
#include "DeidError.h"
#include "ElementValues.h"
#include "TextDetection.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <set>

namespace Deid
{
  namespace
  {
    const DcmTagKey COMPOUND_GRAPHIC_SEQUENCE(0x0070, 0x0209);
    const DcmTagKey TICK_LABEL(0x0070, 0x0289);
    const DcmTagKey TRACKING_ID(0x0062, 0x0020);
    const uint32_t MAXIMUM_OVERLAY_PIXELS = 4096u * 4096u;
    const size_t MAXIMUM_OVERLAY_FRAMES = 8;   // distinct non-empty frames read by OCR

    bool IsOverlayGroup(Uint16 group)
    {
      return (group & 0xFF01) == 0x6000;
    }

    bool IsCurveGroup(Uint16 group)
    {
      return (group & 0xFF01) == 0x5000;
    }

    bool IsFreeText(DcmEVR vr)
    {
      return vr == EVR_LO || vr == EVR_SH || vr == EVR_LT || vr == EVR_ST || vr == EVR_UT ||
        vr == EVR_UC || vr == EVR_PN;
    }

    unsigned long CountItems(DcmItem& item, const DcmTagKey& key)
    {
      DcmSequenceOfItems* sequence = nullptr;
      return (item.findAndGetSequence(key, sequence).good() && sequence != nullptr) ? sequence->card() : 0;
    }

    std::string Index(const std::string& base, unsigned long i)
    {
      return base + "[" + std::to_string(i) + "]";
    }

    // The bits of Overlay Data, pixel p at bit p % 8 of byte p / 8 (PS3.5
    // 8.1.2: OW words in little endian order give the same bytes).
    bool GetOverlayBytes(DcmElement& element, std::vector<Uint8>& bytes)
    {
      bytes.clear();
      if (element.ident() == EVR_OW)
      {
        Uint16* words = nullptr;
        if (element.getUint16Array(words).bad() || (words == nullptr && element.getLength() != 0))
        {
          return false;
        }
        const size_t count = element.getLength() / 2;
        bytes.reserve(count * 2);
        for (size_t i = 0; i < count; i++)
        {
          bytes.push_back(static_cast<Uint8>(words[i] & 0xFF));
          bytes.push_back(static_cast<Uint8>(words[i] >> 8));
        }
        return true;
      }
      Uint8* data = nullptr;
      if (element.getUint8Array(data).bad() || (data == nullptr && element.getLength() != 0))
      {
        return false;
      }
      bytes.assign(data, data + element.getLength());
      return true;
    }
  }

  bool DeidentificationWalker::IsMandatoryOverlay(const DcmTagKey& key) const
  {
    AttributeTypeInfo type;
    return iod_ != nullptr && iod_->Find(MakeTypePath(tagPath_, key), type) && type.mandatoryModule;
  }

  // Why the overlay of this group must go (empty: it holds no text, keep it).
  // Fails closed: an overlay that cannot be read goes.
  std::string DeidentificationWalker::InspectOverlay(DcmItem& item, Uint16 group)
  {
    Uint16 rows = 0, columns = 0, bitsAllocated = 0, bitPosition = 0;
    if (item.findAndGetUint16(DcmTagKey(group, 0x0010), rows).bad() ||
        item.findAndGetUint16(DcmTagKey(group, 0x0011), columns).bad() || rows == 0 || columns == 0)
    {
      return "overlay size unknown";
    }
    if (item.findAndGetUint16(DcmTagKey(group, 0x0100), bitsAllocated).bad() || bitsAllocated != 1 ||
        (item.findAndGetUint16(DcmTagKey(group, 0x0102), bitPosition).good() && bitPosition != 0))
    {
      return "overlay not in the 1-bit Overlay Data layout";
    }
    Sint32 frames = 1;
    if (item.tagExists(DcmTagKey(group, 0x0015)) &&
        (item.findAndGetSint32(DcmTagKey(group, 0x0015), frames).bad() || frames < 1 || frames > 100000))
    {
      return "bad Number of Frames in Overlay";
    }
    const uint32_t pixels = static_cast<uint32_t>(rows) * columns;
    if (pixels > MAXIMUM_OVERLAY_PIXELS || static_cast<uint64_t>(pixels) * frames > 16 * uint64_t(MAXIMUM_OVERLAY_PIXELS))
    {
      return "overlay too large for text detection";
    }
    DcmElement* data = nullptr;
    std::vector<Uint8> bytes;
    if (item.findAndGetElement(DcmTagKey(group, 0x3000), data, OFFalse).bad() || data == nullptr ||
        !GetOverlayBytes(*data, bytes) || bytes.size() * 8 < static_cast<uint64_t>(pixels) * frames)
    {
      return "Overlay Data shorter than the overlay";
    }

    // Distinct frames with something drawn: often one shape on every frame.
    std::set<std::vector<bool>> distinct;
    for (Sint32 f = 0; f < frames; f++)
    {
      std::vector<bool> bits(pixels);
      bool any = false;
      const uint64_t start = static_cast<uint64_t>(f) * pixels;
      for (uint32_t p = 0; p < pixels; p++)
      {
        const uint64_t bit = start + p;
        bits[p] = ((bytes[bit / 8] >> (bit % 8)) & 1) != 0;
        any = any || bits[p];
      }
      if (any)
      {
        distinct.insert(std::move(bits));
        if (distinct.size() > MAXIMUM_OVERLAY_FRAMES)
        {
          return "too many distinct overlay frames for text detection";
        }
      }
    }

    // Black on white, enlarged (small fonts read better) with a white margin.
    const uint32_t scale = std::max<uint32_t>(1, std::min<uint32_t>(4, 1024 / std::max(rows, columns)));
    const uint32_t margin = 16;
    const uint32_t width = columns * scale + 2 * margin, height = rows * scale + 2 * margin;
    for (const std::vector<bool>& bits : distinct)
    {
      std::vector<uint8_t> gray(static_cast<size_t>(width) * height, 255);
      for (uint32_t y = 0; y < rows; y++)
      {
        for (uint32_t x = 0; x < columns; x++)
        {
          if (bits[static_cast<size_t>(y) * columns + x])
          {
            for (uint32_t dy = 0; dy < scale; dy++)
            {
              std::fill_n(gray.begin() + static_cast<size_t>(margin + y * scale + dy) * width + margin + x * scale,
                          scale, 0);
            }
          }
        }
      }
      try
      {
        if (!RecognizeWords(gray, width, height).empty())
        {
          return "text found in the overlay";
        }
      }
      catch (DeidError&)
      {
        return "text detection unavailable";
      }
    }
    return std::string();
  }

  bool DeidentificationWalker::CleanGraphicsText(const ElementInfo& info, std::string& value,
                                                 std::vector<std::string>& categories)
  {
    return CleanTextWith(Option::CleanGraphics, info.key, info.vr, value, categories);
  }

  // Sets the cleaned value (if it changed) and records it with the
  // categories of what was removed, never the removed text.
  void DeidentificationWalker::RecordCleaned(DcmItem& parent, const ElementInfo& info, const std::string& value,
                                             const std::vector<std::string>& categories)
  {
    if (info.value && value == *info.value && !info.encodedUN && parent.tagExists(info.key, OFFalse))
    {
      return;
    }
    DcmElement* target = CreateElement(parent, info, info.vr);
    if (target->putString(value.c_str(), static_cast<Uint32>(value.size())).bad())
    {
      throw DeidError(ErrorCode::Internal, "Cannot set the cleaned value of " + FormatTag(info.key));
    }
    const ElementInfo* reasonFor = reasonFor_;
    const std::string reason = reason_;
    if (!categories.empty())
    {
      reason_ = DescribeRemoved(categories);
      reasonFor_ = &info;
    }
    Record(info, "C", Option::CleanGraphics, value);
    reasonFor_ = reasonFor;
    reason_ = reason;
  }

  // The Basic Profile action of an attribute that cannot be cleaned (as at the
  // end of Clean, CleanAction.cpp): never leaks.
  void DeidentificationWalker::ApplyBasicAction(DcmItem& parent, const ElementInfo& info, const AttributeRule* rule)
  {
    ActionCode basic = (rule != nullptr) ? rule->basic : ActionCode::X;
    if (basic == ActionCode::C || basic == ActionCode::K || basic == ActionCode::None)
    {
      basic = ActionCode::X;
    }
    DcmElement* current = nullptr;
    if (parent.findAndGetElement(info.key, current, OFFalse).good() && current != nullptr)
    {
      Apply(parent, current, info, basic, std::nullopt, rule, DummyMode::Off);
    }
  }

  void DeidentificationWalker::CleanTextOrBasic(DcmItem& parent, const ElementInfo& info, const AttributeRule* rule)
  {
    std::vector<std::string> categories;
    std::string value = info.value ? *info.value : std::string();
    if (info.isString && info.value && CleanGraphicsText(info, value, categories))
    {
      RecordCleaned(parent, info, value, categories);
    }
    else
    {
      ApplyBasicAction(parent, info, rule);
    }
  }

  bool DeidentificationWalker::CleanGraphics(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                             const AttributeRule* rule, DummyMode mode)
  {
    if (mode != DummyMode::Off)
    {
      return false;   // inside a D sequence: everything there becomes a dummy
    }
    const Uint16 group = info.key.getGroup();
    const Uint16 number = info.key.getElement();

    if (info.key == DCM_GraphicAnnotationSequence && info.isSequence)
    {
      CleanGraphicAnnotations(parent, element, info, rule);
      return true;
    }

    if (IsOverlayGroup(group) && number == 0x3000)
    {
      // Outside a mandatory module FindRemovedOverlays removed it if it holds
      // text; a mandatory Overlay Plane (Standalone Overlay) is checked here.
      const std::string why = IsMandatoryOverlay(info.key) ? InspectOverlay(parent, group) : std::string();
      if (why.empty())
      {
        Keep(parent, element, info);
      }
      else
      {
        reasonFor_ = &info;
        reason_ = "Clean Graphics: " + why;
        ApplyBasicAction(parent, info, rule);
      }
      return true;
    }

    if (IsOverlayGroup(group) && number == 0x4000)
    {
      CleanTextOrBasic(parent, info, rule);   // Overlay Comments
      return true;
    }

    if (IsCurveGroup(group))
    {
      if (info.isSequence)
      {
        Keep(parent, element, info);   // Curve Referenced Overlay Sequence: references
      }
      else if (number == 0x200C || info.vr == EVR_UN)
      {
        ApplyBasicAction(parent, info, rule);   // Audio Sample Data, or unknown content
      }
      else if (IsFreeText(info.vr))
      {
        CleanTextOrBasic(parent, info, rule);   // descriptions, labels, units, audio comments
      }
      else
      {
        Keep(parent, element, info);   // Curve Data, dimensions, codes, ranges
      }
      return true;
    }
    return false;
  }

  // Overlay Description (60xx,0022) and Overlay Label (60xx,1500) are not in
  // Table E.1-1 but are free text of the overlay Clean Graphics keeps.
  bool DeidentificationWalker::CleanOverlayLabel(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                                 DummyMode mode)
  {
    (void) element;
    const Uint16 number = info.key.getElement();
    if (mode != DummyMode::Off || !IsOverlayGroup(info.key.getGroup()) || (number != 0x0022 && number != 0x1500) ||
        !profile_.GetOptions().Has(Option::CleanGraphics))
    {
      return false;
    }
    CleanTextOrBasic(parent, info, nullptr);   // Type 3: removed if it cannot be cleaned
    return true;
  }

  void DeidentificationWalker::CleanGraphicAnnotations(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                                       const AttributeRule* rule)
  {
    DcmSequenceOfItems& annotations = *static_cast<DcmSequenceOfItems*>(element);
    const std::string base = info.path.empty() ? info.name : info.path;

    struct TextObject
    {
      DcmItem* annotation = nullptr;
      DcmSequenceOfItems* sequence = nullptr;
      DcmItem* item = nullptr;
      ElementInfo info;
      std::string cleaned;
      std::vector<std::string> categories;
      bool keep = false;
    };
    std::vector<TextObject> texts;
    std::vector<DcmItem*> emptied;   // annotation items left with neither text nor graphics

    // 1. What stays, changing nothing yet.
    unsigned long i = 0;
    for (DcmObject* o = annotations.nextInContainer(nullptr); o != nullptr; o = annotations.nextInContainer(o), i++)
    {
      DcmItem& annotation = *static_cast<DcmItem*>(o);
      unsigned long left = CountItems(annotation, DCM_GraphicObjectSequence) +
        CountItems(annotation, COMPOUND_GRAPHIC_SEQUENCE);
      DcmSequenceOfItems* textObjects = nullptr;
      if (annotation.findAndGetSequence(DCM_TextObjectSequence, textObjects).good() && textObjects != nullptr)
      {
        unsigned long j = 0;
        for (DcmObject* t = textObjects->nextInContainer(nullptr); t != nullptr; t = textObjects->nextInContainer(t), j++)
        {
          DcmItem& textObject = *static_cast<DcmItem*>(t);
          DcmElement* value = nullptr;
          if (textObject.findAndGetElement(DCM_UnformattedTextValue, value, OFFalse).bad() || value == nullptr)
          {
            left++;   // no text to clean
            continue;
          }
          TextObject text;
          text.annotation = &annotation;
          text.sequence = textObjects;
          text.item = &textObject;
          text.info = Describe(*value, Index(Index(base, i) + ".TextObjectSequence", j), "");
          text.cleaned = text.info.value ? *text.info.value : std::string();
          text.keep = text.info.isString && text.info.value &&
            (Trim(text.cleaned).empty() ||   // nothing to clean
             (CleanGraphicsText(text.info, text.cleaned, text.categories) && !Trim(text.cleaned).empty()));
          left += text.keep ? 1 : 0;
          texts.push_back(std::move(text));
        }
      }
      if (left == 0)
      {
        emptied.push_back(&annotation);
      }
    }

    if (annotations.card() > 0 && emptied.size() == annotations.card())
    {
      // Nothing left: the Graphic Annotation module is conditional ("Required
      // if Graphic Annotations are to be applied"); where the IOD needs the
      // sequence (or without IOD data), the Basic Profile's D instead.
      AttributeTypeInfo type;
      if (iod_ != nullptr && iod_->Find(info.typePath, type) && !type.mandatoryModule)
      {
        reasonFor_ = &info;
        reason_ = "Clean Graphics: no annotation left once the text objects that cannot be cleaned are removed";
        Remove(parent, element, info, Option::CleanGraphics);
        reasonFor_ = nullptr;
      }
      else
      {
        ApplyBasicAction(parent, info, rule);
      }
      return;
    }

    // 2. Text objects whose text cannot be cleaned go; the cleaned text is
    // set aside so that the walk below does not make it a dummy.
    for (TextObject& text : texts)
    {
      delete text.item->remove(DCM_UnformattedTextValue);
      if (!text.keep)
      {
        reasonFor_ = &text.info;
        reason_ = "Clean Graphics: text object removed (its text cannot be cleaned)";
        Record(text.info, "X", Option::CleanGraphics, std::nullopt);
        reasonFor_ = nullptr;
        delete text.sequence->remove(text.item);
        text.item = nullptr;
        if (text.sequence->card() == 0)
        {
          delete text.annotation->remove(text.sequence);   // Type 1C: never left with zero items
        }
      }
    }
    for (DcmItem* annotation : emptied)
    {
      delete annotations.remove(annotation);
    }

    // Where each kept text object is now (the walk must not hold our pointers).
    std::vector<std::pair<unsigned long, unsigned long>> positions(texts.size());
    i = 0;
    for (DcmObject* o = annotations.nextInContainer(nullptr); o != nullptr; o = annotations.nextInContainer(o), i++)
    {
      DcmSequenceOfItems* textObjects = nullptr;
      if (static_cast<DcmItem*>(o)->findAndGetSequence(DCM_TextObjectSequence, textObjects).good() && textObjects)
      {
        unsigned long j = 0;
        for (DcmObject* t = textObjects->nextInContainer(nullptr); t != nullptr; t = textObjects->nextInContainer(t), j++)
        {
          for (size_t k = 0; k < texts.size(); k++)
          {
            if (texts[k].item == t)
            {
              positions[k] = { i, j };
            }
          }
        }
      }
    }

    // 3. The items as the profile says (references: UIDs replaced).
    ProcessSequenceItems(annotations, info);

    // 4. The cleaned text back in its text object; labels cleaned.
    for (size_t k = 0; k < texts.size(); k++)
    {
      DcmItem* annotation = nullptr;
      DcmItem* textObject = nullptr;
      if (texts[k].item == nullptr ||
          parent.findAndGetSequenceItem(info.key, annotation, static_cast<int>(positions[k].first)).bad() ||
          annotation == nullptr ||
          annotation->findAndGetSequenceItem(DCM_TextObjectSequence, textObject,
                                             static_cast<int>(positions[k].second)).bad() || textObject == nullptr)
      {
        continue;
      }
      RecordCleaned(*textObject, texts[k].info, texts[k].cleaned, texts[k].categories);
    }
    i = 0;
    for (DcmObject* o = annotations.nextInContainer(nullptr); o != nullptr; o = annotations.nextInContainer(o), i++)
    {
      CleanAnnotationLabels(*static_cast<DcmItem*>(o), Index(base, i), 0);
    }
  }

  // Tick Label (0070,0289) and Tracking ID (0062,0020), at any depth of an
  // annotation: free text not in Table E.1-1, which the Basic Profile's D on
  // the sequence makes dummies. Cleaned, else a dummy (Type 1 where present).
  void DeidentificationWalker::CleanAnnotationLabels(DcmItem& item, const std::string& itemPath, int depth)
  {
    if (depth > 8)
    {
      return;
    }
    for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o))
    {
      DcmElement& element = *static_cast<DcmElement*>(o);
      const DcmTagKey key = element.getTag();
      if (DcmSequenceOfItems* sequence = dynamic_cast<DcmSequenceOfItems*>(&element))
      {
        DcmTag tag(key);
        const std::string base = itemPath + "." + tag.getTagName();
        unsigned long i = 0;
        for (DcmObject* c = sequence->nextInContainer(nullptr); c != nullptr; c = sequence->nextInContainer(c), i++)
        {
          CleanAnnotationLabels(*static_cast<DcmItem*>(c), Index(base, i), depth + 1);
        }
      }
      else if (key == TICK_LABEL || key == TRACKING_ID)
      {
        ElementInfo info = Describe(element, itemPath, "");
        std::string value = info.value ? *info.value : std::string();
        std::vector<std::string> categories;
        if (info.isEmpty || !info.isString)
        {
          continue;
        }
        if (!CleanGraphicsText(info, value, categories) || Trim(value).empty())
        {
          value = "ANONYMOUS";
          categories = { "text that cannot be cleaned" };
        }
        RecordCleaned(item, info, value, categories);
        o = nullptr;   // the element was replaced: start again (the others are done)
        for (DcmObject* again = item.nextInContainer(nullptr); again != nullptr; again = item.nextInContainer(again))
        {
          o = again;
          if (again->getTag() == key)
          {
            break;
          }
        }
        if (o == nullptr)
        {
          break;
        }
      }
    }
  }
}
