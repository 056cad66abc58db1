// Applies the Basic Application Level Confidentiality Profile and its Options
// (PS3.15 E.1, E.3) to one DICOM instance.
//
// Choices (README):
//  - Combined actions of Table E.1-1a (X/Z, Z/D, X/D, X/Z/D, X/Z/U*) depend on
//    the IOD Type of the attribute ("X unless Z or D is required to maintain
//    IOD conformance"). Without IOD tables the engine takes the variant that
//    keeps a valid instance whatever the Type: the attribute stays present
//    with minimal content: Z/D, X/D, X/Z/D -> D; X/Z -> Z; X/Z/U* -> the
//    sequence is kept and its items are processed recursively, which replaces
//    the contained instance UIDs (U) and applies every other rule. If the
//    original value is empty, D becomes Z: an empty value is exactly as
//    valid as the original one and leaks nothing.
//  - D: the ASCII dummies of DummyValues.h (DA 19000101, TM 000000, DT
//    19000101000000, AS 000D, DS/IS 0, UR urn:deidentified, other text
//    "ANONYMOUS", binary VRs one zero value); on a UI a replacement UID (as
//    U). D on an element read as UN whose VR is unknown to the dictionary
//    removes it (no dummy "consistent with the VR" can be made). Z on a
//    sequence: the sequence is emptied (no items).
//  - D on a sequence (Content, Verifying Observer, Graphic Annotation,
//    Waveform Annotation, Operator Identification, ... Sequences, also from
//    X/D, X/Z/D): the structure is kept and the content replaced by dummies,
//    so that the Type 1 attributes of the items stay present (RelationshipType,
//    VerifyingObserverName, ReferencedWaveformChannels, ...). The items are
//    kept (none if there were none) and processed in "dummy mode":
//    . attributes of Table E.1-1 get their resolved action (options apply),
//      but X and Z on a non-sequence become D (Z if the value is empty);
//      U, K and C apply as usual. A sequence listed X is still removed (icons,
//      signatures, original attributes cannot be made dummies), Z emptied,
//      D processed in dummy mode again;
//    . attributes not listed: AE AS DA DT TM LO LT PN SH ST UC UR UT values
//      become dummies (empty ones stay empty); CS (enumerated values such as
//      RelationshipType, ValueType), UI (class and coding scheme UIDs: the
//      instance UIDs are listed U), numbers and binary values (measurements,
//      channels, waveform data) are kept; an element read as UN whose VR is
//      unknown is removed; sequences are processed in dummy mode, and in their
//      items the coded attributes of the Code Sequence Macro (Code Value,
//      Coding Scheme Designator/Version, Code Meaning, Long/URN Code Value,
//      Context Identifier, ...) are kept: concept names are standard codes.
//      The coded attributes directly in the items of a D sequence (Person
//      Identification Code Sequence, Institution Code Sequence) become dummies;
//    . private elements: the rules below.
//    Each replaced element is recorded with its path; for E.1.1 the whole
//    top-level sequence is copied if anything in it changed.
//  - K and C on a sequence, and sequences not listed in Table E.1-1: the items
//    are processed recursively ("K: cleaned for Sequences", E.1-1a note).
//  - PatientName / PatientID with Z or D get the pseudonym of the provider
//    (computed from the original PatientID, IssuerOfPatientID, PatientName).
//  - C from RetainLongitudinalModifiedDates: DA and DT values are shifted by
//    the patient's offset in days (time and time zone kept), TM is kept.
//    C from RetainSafePrivate: the (safe) private element is kept. Any other
//    C goes to the text cleaner; when it cannot clean, the Basic Profile
//    action applies (never leaks).
//  - Elements encoded with VR UN are handled with their dictionary VR (for
//    private tags: with their private creator); a kept or replaced element is
//    re-created with its real VR when that is known.
//  - Private elements are removed unless RetainSafePrivate and listed in
//    Table E.3.10-1 for their own private creator; a private creator is
//    removed when nothing of its block is kept. Private sequences are removed
//    with the Basic Profile; with RetainSafePrivate their items are processed
//    (E.3.10) and the sequence is kept only if something is left in them.
//  - Group 0004 is removed (E.1). A DICOMDIR is refused (NotImplemented):
//    its record offsets cannot survive the changes, and E.1 asks for a new
//    DICOMDIR "created from the de-identified DICOM Files it references".
//  - E.1.1 (collectOriginals): a copy of each top-level element as it was
//    before, for every element that was modified or removed (whole sequence
//    if anything inside changed); the attributes added by the engine only if
//    they existed before with another value.
//  - The File Meta Information is replaced (E.1): only the SOP Class, the new
//    SOP Instance UID and the transfer syntax are kept; DCMTK adds its
//    implementation identification when writing. WriteDicom writes a zero
//    preamble.
#include "Deidentifier.h"
#include "DeidError.h"
#include "DummyValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

namespace Deid
{
  namespace
  {
    const char* const DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10";

    std::string FormatTag(const DcmTagKey& key)
    {
      char buffer[16];
      snprintf(buffer, sizeof(buffer), "(%04X,%04X)", key.getGroup(), key.getElement());
      return buffer;
    }

    bool IsPrivateCreatorTag(const DcmTagKey& key)
    {
      return (key.getGroup() & 1) != 0 && key.getElement() >= 0x0010 && key.getElement() <= 0x00FF;
    }

    // The VR from the DCMTK dictionary, EVR_UN if unknown.
    DcmEVR DictionaryVR(const DcmTagKey& key, const std::string& privateCreator)
    {
      const DcmDataDictionary& dict = dcmDataDict.rdlock();
      const DcmDictEntry* entry = dict.findEntry(key, privateCreator.empty() ? nullptr : privateCreator.c_str());
      DcmEVR vr = (entry != nullptr) ? entry->getEVR() : EVR_UN;
      dcmDataDict.rdunlock();
      return NormalizeVR(vr);
    }

    std::vector<std::string> SplitValues(const std::string& value)
    {
      std::vector<std::string> result;
      size_t start = 0;
      for (;;)
      {
        size_t pos = value.find('\\', start);
        result.push_back(value.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
        if (pos == std::string::npos)
        {
          return result;
        }
        start = pos + 1;
      }
    }

    std::string JoinValues(const std::vector<std::string>& values)
    {
      std::string s;
      for (size_t i = 0; i < values.size(); i++)
      {
        if (i > 0)
        {
          s += '\\';
        }
        s += values[i];
      }
      return s;
    }

    std::string Trim(const std::string& s)
    {
      size_t b = s.find_first_not_of(" \t\r\n");
      if (b == std::string::npos)
      {
        return std::string();
      }
      size_t e = s.find_last_not_of(" \t\r\n");
      return s.substr(b, e - b + 1);
    }

    bool AllDigits(const std::string& s)
    {
      for (char c : s)
      {
        if (c < '0' || c > '9')
        {
          return false;
        }
      }
      return true;
    }

    // Shifts "YYYY", "YYYYMM" or "YYYYMMDD" (ACR-NEMA "YYYY.MM.DD" too) by a
    // number of days, keeping the precision. Missing month/day count as 01.
    bool ShiftDatePart(const std::string& date, int32_t days, std::string& result)
    {
      std::string digits;
      for (char c : date)
      {
        if (c != '.')
        {
          digits.push_back(c);
        }
      }

      if (!AllDigits(digits) || (digits.size() != 4 && digits.size() != 6 && digits.size() != 8))
      {
        return false;
      }

      struct tm t;
      memset(&t, 0, sizeof(t));
      t.tm_year = std::stoi(digits.substr(0, 4)) - 1900;
      t.tm_mon = digits.size() >= 6 ? std::stoi(digits.substr(4, 2)) - 1 : 0;
      t.tm_mday = digits.size() >= 8 ? std::stoi(digits.substr(6, 2)) : 1;
      t.tm_hour = 12;
      if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31)
      {
        return false;
      }

      time_t seconds = timegm(&t);
      seconds += static_cast<time_t>(days) * 86400;
      struct tm shifted;
      if (gmtime_r(&seconds, &shifted) == nullptr)
      {
        return false;
      }

      int year = shifted.tm_year + 1900;
      if (year < 0 || year > 9999)
      {
        return false;
      }

      char buffer[16];
      if (digits.size() == 4)
      {
        snprintf(buffer, sizeof(buffer), "%04d", year);
      }
      else if (digits.size() == 6)
      {
        snprintf(buffer, sizeof(buffer), "%04d%02d", year, shifted.tm_mon + 1);
      }
      else
      {
        snprintf(buffer, sizeof(buffer), "%04d%02d%02d", year, shifted.tm_mon + 1, shifted.tm_mday);
      }
      result = buffer;
      return true;
    }

    // DA: each value is a date. DT: the date part (up to 8 digits) is shifted,
    // the time, fraction and "&ZZXX" / "+ZZXX" time zone suffix are kept.
    bool ShiftDateValue(DcmEVR vr, const std::string& value, int32_t days, std::string& result)
    {
      std::vector<std::string> values = SplitValues(value);
      for (std::string& v : values)
      {
        std::string t = Trim(v);
        if (t.empty())
        {
          v = t;
          continue;
        }

        std::string shifted;
        if (vr == EVR_DA)
        {
          if (!ShiftDatePart(t, days, shifted))
          {
            return false;
          }
          v = shifted;
        }
        else
        {
          size_t end = 0;
          while (end < t.size() && end < 8 && t[end] >= '0' && t[end] <= '9')
          {
            end++;
          }
          if (end != 4 && end != 6 && end != 8)
          {
            return false;
          }
          if (end < 8 && end < t.size() && t[end] != '+' && t[end] != '-')
          {
            return false;   // partial date followed by a time: malformed
          }
          if (!ShiftDatePart(t.substr(0, end), days, shifted))
          {
            return false;
          }
          v = shifted + t.substr(end);
        }
      }

      result = JoinValues(values);
      return true;
    }

    // The value of a string element, also when it is encoded as UN.
    bool GetStringValue(DcmElement& element, bool encodedUN, std::string& value)
    {
      if (encodedUN)
      {
        Uint8* bytes = nullptr;
        Uint32 length = element.getLength();
        if (length == 0)
        {
          value.clear();
          return true;
        }
        if (element.getUint8Array(bytes).bad() || bytes == nullptr)
        {
          return false;
        }
        value.assign(reinterpret_cast<const char*>(bytes), length);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\0'))
        {
          value.pop_back();
        }
        return true;
      }

      OFString s;
      if (element.getOFStringArray(s).bad())
      {
        return false;
      }
      value.assign(s.c_str(), s.length());
      return true;
    }

    struct ElementInfo
    {
      DcmTagKey key;
      std::string privateCreator;
      std::string name;
      std::string path;
      DcmEVR vr = EVR_UN;        // the real VR (dictionary VR if encoded as UN)
      bool encodedUN = false;
      bool isSequence = false;
      bool isEmpty = false;
      bool isString = false;
      std::optional<std::string> value;   // string value, if any
    };

    // D on a sequence (see the top comment): the items are kept and processed
    // in a "dummy mode".
    enum class DummyMode
    {
      Off,         // the profile rules as they are
      KeepCodes,   // dummy mode, in the items of a sequence not listed in Table
                   // E.1-1 (e.g. Concept Name Code Sequence): coded attributes kept
      All          // dummy mode, in the items of a sequence with action D: the
                   // coded attributes of these items become dummies too
    };

    // The attributes of the Code Sequence Macro (PS3.3 Table 8.8-1) that
    // identify a coded concept: kept in the items of unlisted sequences in
    // dummy mode (concept names are standard codes, not patient data).
    bool IsCodeAttribute(const DcmTagKey& key)
    {
      static const DcmTagKey codes[] = {
        DCM_CodeValue, DCM_CodingSchemeDesignator, DCM_CodingSchemeVersion, DCM_CodeMeaning,
        DCM_MappingResource, DCM_ContextGroupExtensionFlag, DCM_ContextGroupExtensionCreatorUID,
        DCM_ContextIdentifier, DCM_ContextUID, DCM_MappingResourceUID, DCM_LongCodeValue,
        DCM_URNCodeValue, DCM_MappingResourceName
      };
      for (const DcmTagKey& code : codes)
      {
        if (key == code)
        {
          return true;
        }
      }
      return false;
    }

    // The free-text, name, date and time VRs: an unlisted value of these VRs
    // becomes a dummy in dummy mode. CS (enumerated values), UI (not listed
    // U: class and coding UIDs), numbers and binary values are kept.
    bool IsFreeTextVR(DcmEVR vr)
    {
      switch (vr)
      {
        case EVR_AE: case EVR_AS: case EVR_DA: case EVR_DT: case EVR_TM: case EVR_LO:
        case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST: case EVR_UC: case EVR_UR:
        case EVR_UT:
          return true;
        default:
          return false;
      }
    }
  }


  class DeidentificationWalker
  {
  private:
    const Profile& profile_;
    DeidentificationContext& context_;
    const DeidentificationSettings& settings_;
    DeidentificationResult& result_;
    PatientKey patient_;
    std::optional<Pseudonym> pseudonym_;
    std::optional<int32_t> offsetDays_;
    size_t modifications_ = 0;

  public:
    DeidentificationWalker(const Profile& profile,
                           DeidentificationContext& context,
                           const DeidentificationSettings& settings,
                           DeidentificationResult& result,
                           const PatientKey& patient) :
      profile_(profile),
      context_(context),
      settings_(settings),
      result_(result),
      patient_(patient)
    {
    }

    size_t GetModifications() const
    {
      return modifications_;
    }

    void Record(const ElementInfo& info, const std::string& action, std::optional<Option> option,
                const std::optional<std::string>& after)
    {
      modifications_++;
      if (settings_.recordChanges)
      {
        ElementChange change;
        change.tag = FormatTag(info.key);
        change.name = info.name;
        change.path = info.path;
        change.action = action;
        change.option = option ? GetOptionName(*option) : "";
        if (!info.isSequence)
        {
          change.before = info.value;
        }
        change.after = after;
        result_.changes.push_back(change);
      }
    }

    const Pseudonym& GetPseudonym()
    {
      if (!pseudonym_)
      {
        pseudonym_ = context_.pseudonyms->GetPseudonym(patient_);
      }
      return *pseudonym_;
    }

    int32_t GetOffsetDays()
    {
      if (!offsetDays_)
      {
        if (context_.dateOffsets == nullptr)
        {
          throw DeidError(ErrorCode::Internal, "RetainLongitudinalModifiedDates needs a date offset provider");
        }
        offsetDays_ = context_.dateOffsets->GetOffsetDays(patient_);
      }
      return *offsetDays_;
    }

    // Processes all elements of one item (data set, sequence item).
    void ProcessItem(DcmItem& item, const std::string& itemPath, bool topLevel,
                     DummyMode mode = DummyMode::Off)
    {
      // Snapshot of the elements: each is removed or replaced only while it is
      // processed. One pass over DCMTK's list (getElement(i) and
      // findAndGetElement() walk it from the start: per element, 100,000
      // elements took minutes).
      std::vector<std::pair<DcmTagKey, DcmElement*>> tags;
      tags.reserve(item.card());
      for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o))
      {
        tags.emplace_back(o->getTag(), static_cast<DcmElement*>(o));
      }

      std::set<uint32_t> keptPrivateBlocks;

      for (const auto& [key, element] : tags)
      {
        if (IsPrivateCreatorTag(key))
        {
          continue;   // decided below, once the blocks are known
        }

        std::unique_ptr<DcmElement> original;
        size_t before = modifications_;
        if (topLevel && settings_.collectOriginals && MayChange(*element))
        {
          original.reset(OFstatic_cast(DcmElement*, element->clone()));
        }

        ProcessElement(item, element, itemPath, keptPrivateBlocks, mode);

        if (original && modifications_ != before)
        {
          result_.modifiedAttributes->insert(original.release(), OFTrue);
        }
      }

      // PS3.15 E.3.10: keep "the Private Creator IDs that are required to fully
      // define the retained Private Attributes", remove all others.
      for (const auto& [key, element] : tags)
      {
        if (!IsPrivateCreatorTag(key))
        {
          continue;
        }

        const uint32_t block = (static_cast<uint32_t>(key.getGroup()) << 8) | key.getElement();
        if (keptPrivateBlocks.count(block) != 0)
        {
          continue;
        }

        if (topLevel && settings_.collectOriginals)
        {
          result_.modifiedAttributes->insert(OFstatic_cast(DcmElement*, element->clone()), OFTrue);
        }

        ElementInfo info = Describe(*element, itemPath, "");
        Remove(item, element, info, std::nullopt);
      }
    }

  private:
    // False only for elements that the walk never modifies (standard, not
    // listed in Table E.1-1, not a sequence, not UN), e.g. Pixel Data: they
    // need no copy for the Modified Attributes Sequence.
    bool MayChange(DcmElement& element) const
    {
      const DcmTagKey key = element.getTag();
      if ((key.getGroup() & 1) != 0 || key.getGroup() == 0x0004 ||
          dynamic_cast<DcmSequenceOfItems*>(&element) != nullptr ||
          NormalizeVR(element.ident()) == EVR_UN)
      {
        return true;
      }
      return profile_.Resolve(key).action != ActionCode::None;
    }

    std::string GetPrivateCreator(DcmItem& item, const DcmTagKey& key)
    {
      if ((key.getGroup() & 1) == 0 || key.getElement() < 0x1000)
      {
        return std::string();
      }

      DcmElement* element = nullptr;
      DcmTagKey creatorTag(key.getGroup(), key.getElement() >> 8);
      std::string creator;
      if (item.findAndGetElement(creatorTag, element, OFFalse).good() && element != nullptr &&
          GetStringValue(*element, NormalizeVR(element->ident()) == EVR_UN, creator))
      {
        return Trim(creator);
      }
      return std::string();
    }

    ElementInfo Describe(DcmElement& element, const std::string& itemPath, const std::string& privateCreator)
    {
      ElementInfo info;
      DcmTag tag = element.getTag();
      info.key = tag;
      info.privateCreator = privateCreator;

      DcmTag named(info.key.getGroup(), info.key.getElement(),
                   privateCreator.empty() ? nullptr : privateCreator.c_str());
      info.name = named.getTagName();
      info.path = itemPath.empty() ? std::string() : itemPath + "." + info.name;

      info.isSequence = (dynamic_cast<DcmSequenceOfItems*>(&element) != nullptr);
      DcmEVR encoded = NormalizeVR(element.ident());
      if (info.isSequence)
      {
        info.vr = EVR_SQ;
      }
      else if (encoded == EVR_UN)
      {
        info.encodedUN = true;
        info.vr = DictionaryVR(info.key, privateCreator);
      }
      else
      {
        info.vr = encoded;
      }

      if (info.isSequence)
      {
        info.isEmpty = (static_cast<DcmSequenceOfItems&>(element).card() == 0);
      }
      else
      {
        info.isEmpty = (element.getLength() == 0);
      }

      info.isString = IsStringVR(info.vr);
      if (info.isString)
      {
        std::string value;
        if (GetStringValue(element, info.encodedUN, value))
        {
          info.value = value;
          if (Trim(value).empty())
          {
            info.isEmpty = true;
          }
        }
      }

      return info;
    }

    // An element encoded as UN whose dictionary VR is SQ (defined length,
    // explicit VR input): its value is an implicit VR little endian sequence
    // (PS3.5 6.2.2). Parse it to process its items. nullptr if it cannot be.
    DcmSequenceOfItems* ReparseAsSequence(DcmItem& item, DcmElement*& element, const ElementInfo& info)
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

    void ProcessSequenceItems(DcmSequenceOfItems& sequence, const ElementInfo& info,
                              DummyMode mode = DummyMode::Off)
    {
      const std::string base = info.path.empty() ? info.name : info.path;
      unsigned long i = 0;   // one pass: getItem(i) walks the list from the start
      for (DcmObject* o = sequence.nextInContainer(nullptr); o != nullptr; o = sequence.nextInContainer(o), i++)
      {
        ProcessItem(*static_cast<DcmItem*>(o), base + "[" + std::to_string(i) + "]", false, mode);
      }
    }

    void ProcessElement(DcmItem& parent, DcmElement* element, const std::string& itemPath,
                        std::set<uint32_t>& keptPrivateBlocks, DummyMode mode)
    {
      const DcmTagKey key = element->getTag();

      if (key.getElement() == 0x0000)
      {
        // Group length: recomputed when writing; private ones go with their group.
        if ((key.getGroup() & 1) != 0)
        {
          ElementInfo info = Describe(*element, itemPath, "");
          Remove(parent, element, info, std::nullopt);
        }
        return;
      }

      if ((key.getGroup() & 1) != 0)
      {
        const std::string creator = GetPrivateCreator(parent, key);
        ElementInfo info = Describe(*element, itemPath, creator);
        ResolvedAction resolved = profile_.ResolvePrivate(creator, key);

        if (info.isSequence && profile_.GetOptions().Has(Option::RetainSafePrivate))
        {
          // E.3.10: "When an entire Sequence (SQ VR) Private Attribute is not
          // known to always only contain safe content, [...] any such Sequence
          // Attribute shall be parsed in its entirety and each of the nested
          // Attributes handled on its own merits". The sequence is kept (with
          // its private creator) only if something is left in its items.
          DcmSequenceOfItems* sequence = static_cast<DcmSequenceOfItems*>(element);
          ProcessSequenceItems(*sequence, info, mode == DummyMode::Off ? DummyMode::Off : DummyMode::KeepCodes);
          bool anything = false;
          for (unsigned long i = 0; i < sequence->card() && !anything; i++)
          {
            anything = (sequence->getItem(i) != nullptr && sequence->getItem(i)->card() > 0);
          }
          if (anything && !creator.empty())
          {
            keptPrivateBlocks.insert((static_cast<uint32_t>(key.getGroup()) << 8) | (key.getElement() >> 8));
          }
          else
          {
            Remove(parent, element, info, std::nullopt);
          }
          return;
        }

        if (resolved.action == ActionCode::C && !info.isSequence)
        {
          // E.3.10: a safe private attribute, kept with its private creator.
          keptPrivateBlocks.insert((static_cast<uint32_t>(key.getGroup()) << 8) | (key.getElement() >> 8));
          if (info.encodedUN)
          {
            if (info.vr == EVR_UN)
            {
              // Not in DCMTK's private dictionary: the VR of Table E.3.10-1.
              const SafePrivateAttribute* safe = profile_.GetTables().FindSafePrivate(
                creator, key.getGroup(), static_cast<uint8_t>(key.getElement() & 0xFF));
              if (safe != nullptr && safe->vr.size() == 2)
              {
                DcmEVR tableVR = NormalizeVR(DcmVR(safe->vr.c_str()).getEVR());
                if (tableVR != EVR_SQ)
                {
                  info.vr = tableVR;
                  info.isString = IsStringVR(tableVR);
                  std::string value;
                  if (info.isString && GetStringValue(*element, true, value))
                  {
                    info.value = value;
                  }
                }
              }
            }
            ConvertFromUN(parent, element, info);
          }
        }
        else
        {
          Remove(parent, element, info, std::nullopt);
        }
        return;
      }

      ElementInfo info = Describe(*element, itemPath, "");

      if (key.getGroup() == 0x0004)
      {
        // E.1: "All Data Elements with a Group Number of 0004 shall be removed
        // from any SOP Instance or DICOM File other than a DICOMDIR File."
        // (DICOMDIR files are refused in Apply.)
        Remove(parent, element, info, std::nullopt);
        return;
      }

      if (info.encodedUN && info.vr == EVR_SQ)
      {
        if (ReparseAsSequence(parent, element, info) == nullptr)
        {
          Remove(parent, element, info, std::nullopt);   // cannot look inside: never leak
          return;
        }
        info.isSequence = true;
        info.encodedUN = false;
        info.isEmpty = static_cast<DcmSequenceOfItems*>(element)->card() == 0;
      }

      ResolvedAction resolved = profile_.Resolve(key);
      Apply(parent, element, info, resolved.action, resolved.chosenBy, resolved.rule, mode);
    }

    void Apply(DcmItem& parent, DcmElement* element, const ElementInfo& info,
               ActionCode action, std::optional<Option> chosenBy, const AttributeRule* rule,
               DummyMode mode)
    {
      // PS3.15 Table E.1-1a, combined codes: see the comment at the top.
      switch (action)
      {
        case ActionCode::ZD:
        case ActionCode::XD:
        case ActionCode::XZD:
          action = info.isEmpty ? ActionCode::Z : ActionCode::D;
          break;
        case ActionCode::XZ:
          action = ActionCode::Z;
          break;
        case ActionCode::XZU:
          if (info.isSequence)
          {
            // Kept, its items processed (in dummy mode inside a D sequence).
            ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info,
                                 mode == DummyMode::Off ? DummyMode::Off : DummyMode::KeepCodes);
            return;
          }
          action = (info.vr == EVR_UI ? ActionCode::U : ActionCode::Z);
          break;
        default:
          break;
      }

      if (mode != DummyMode::Off)
      {
        // Inside a D sequence: the element stays present (Type 1 attributes
        // of the items stay valid) and its value becomes a dummy.
        if (action == ActionCode::None)
        {
          ApplyUnlistedInDummyMode(parent, element, info, mode);
          return;
        }
        if (!info.isSequence && (action == ActionCode::X || action == ActionCode::Z))
        {
          action = info.isEmpty ? ActionCode::Z : ActionCode::D;
        }
        // A sequence keeps X (removed: icons, signatures, original
        // attributes cannot be made dummies) and Z (emptied).
      }

      switch (action)
      {
        case ActionCode::None:
        case ActionCode::K:
          Keep(parent, element, info);
          return;

        case ActionCode::X:
          Remove(parent, element, info, chosenBy);
          return;

        case ActionCode::Z:
          if (IsPatientIdentity(info.key))
          {
            Pseudonymize(parent, info, chosenBy);
          }
          else
          {
            Empty(parent, element, info, chosenBy);
          }
          return;

        case ActionCode::D:
          if (IsPatientIdentity(info.key))
          {
            Pseudonymize(parent, info, chosenBy);
          }
          else
          {
            Dummy(parent, element, info, chosenBy);
          }
          return;

        case ActionCode::U:
          ReplaceUids(parent, element, info, chosenBy);
          return;

        case ActionCode::C:
          Clean(parent, element, info, chosenBy, rule, mode);
          return;

        default:
          throw DeidError(ErrorCode::Internal, "Unexpected action code for " + FormatTag(info.key));
      }
    }

    // Dummy mode, an attribute that Table E.1-1 does not list.
    void ApplyUnlistedInDummyMode(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                  DummyMode mode)
    {
      if (info.isSequence)
      {
        ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info, DummyMode::KeepCodes);
      }
      else if (mode == DummyMode::KeepCodes && IsCodeAttribute(info.key))
      {
        Keep(parent, element, info);
      }
      else if (IsFreeTextVR(info.vr))
      {
        if (info.isEmpty)
        {
          Keep(parent, element, info);   // nothing to hide; an empty value stays empty
        }
        else
        {
          Dummy(parent, element, info, std::nullopt);
        }
      }
      else if (info.encodedUN && info.vr == EVR_UN)
      {
        Remove(parent, element, info, std::nullopt);   // unknown content: might be text
      }
      else
      {
        Keep(parent, element, info);   // CS, UI, numbers, binary
      }
    }

    static bool IsPatientIdentity(const DcmTagKey& key)
    {
      return key == DCM_PatientName || key == DCM_PatientID;
    }

    void Keep(DcmItem& parent, DcmElement* element, const ElementInfo& info)
    {
      if (info.isSequence)
      {
        ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info);
      }
      else if (info.encodedUN)
      {
        ConvertFromUN(parent, element, info);
      }
    }

    void Remove(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option)
    {
      DcmElement* removed = parent.remove(element);
      delete removed;
      Record(info, "X", option, std::nullopt);
    }

    // Inserts a new element with the real VR, replacing the old one.
    DcmElement* CreateElement(DcmItem& parent, const ElementInfo& info, DcmEVR vr)
    {
      DcmTag tag(info.key, DcmVR(vr));
      if (!info.privateCreator.empty())
      {
        tag.setPrivateCreator(info.privateCreator.c_str());
      }

      DcmElement* created = nullptr;
      if (DcmItem::newDicomElementWithVR(created, tag).bad() || created == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "Cannot create element " + FormatTag(info.key));
      }

      if (parent.insert(created, OFTrue).bad())
      {
        delete created;
        throw DeidError(ErrorCode::Internal, "Cannot insert element " + FormatTag(info.key));
      }
      return created;
    }

    void Empty(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option)
    {
      if (info.isSequence)
      {
        DcmSequenceOfItems* sequence = static_cast<DcmSequenceOfItems*>(element);
        bool changed = sequence->card() > 0;
        while (sequence->card() > 0)
        {
          delete sequence->remove(0UL);
        }
        if (changed)
        {
          Record(info, "Z", option, std::nullopt);
        }
        return;
      }

      if (info.isEmpty && !info.encodedUN && element->getLength() == 0)
      {
        return;   // already empty
      }

      CreateElement(parent, info, info.vr);   // a new, empty element (UN if the VR is unknown)
      Record(info, "Z", option, std::string());
    }

    void Dummy(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option)
    {
      if (info.isSequence)
      {
        // A dummy sequence: same items, contents replaced by dummies (see the
        // top comment). Each replaced element is recorded with its path.
        ProcessSequenceItems(*static_cast<DcmSequenceOfItems*>(element), info, DummyMode::All);
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

      if (info.vr == EVR_UN && info.encodedUN)
      {
        // The VR is unknown: a dummy "consistent with the VR" cannot be made.
        Remove(parent, element, info, option);
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

    static constexpr size_t GetDummyBinarySizeMax = 8;

    // PatientName / PatientID with Z or D: the pseudonym of the patient.
    void Pseudonymize(DcmItem& parent, const ElementInfo& info, std::optional<Option> option)
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

    void ReplaceUids(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                     std::optional<Option> option, const char* action = "U")
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

    void Clean(DcmItem& parent, DcmElement* element, const ElementInfo& info,
               std::optional<Option> option, const AttributeRule* rule, DummyMode mode)
    {
      if (option && *option == Option::RetainSafePrivate)
      {
        Keep(parent, element, info);
        return;
      }

      if (option && *option == Option::RetainLongitudinalModifiedDates)
      {
        if (info.vr == EVR_TM)
        {
          Keep(parent, element, info);   // times are not shifted (whole days)
          return;
        }

        if ((info.vr == EVR_DA || info.vr == EVR_DT) && info.value)
        {
          if (info.isEmpty)
          {
            Keep(parent, element, info);
            return;
          }

          std::string shifted;
          if (ShiftDateValue(info.vr, *info.value, GetOffsetDays(), shifted))
          {
            DcmElement* target = CreateElement(parent, info, info.vr);
            if (target->putString(shifted.c_str()).bad())
            {
              throw DeidError(ErrorCode::Internal, "Cannot set the shifted date of " + FormatTag(info.key));
            }
            Record(info, "shift", option, shifted);
            return;
          }
          // Not a valid date: fall back below.
        }
      }

      if (context_.textCleaner != nullptr && option)
      {
        CleaningContext cleaning;
        cleaning.tag = info.key;
        cleaning.vr = DcmVR(info.vr).getVRName();
        cleaning.chosenBy = *option;

        if (info.isSequence)
        {
          if (context_.textCleaner->CleanSequence(cleaning, parent))
          {
            DcmElement* cleaned = nullptr;
            if (parent.findAndGetElement(info.key, cleaned, OFFalse).good() && cleaned != nullptr)
            {
              DcmSequenceOfItems* sequence = dynamic_cast<DcmSequenceOfItems*>(cleaned);
              if (sequence != nullptr)
              {
                ProcessSequenceItems(*sequence, info);
              }
            }
            Record(info, "C", option, std::nullopt);
            return;
          }
        }
        else if (info.isString && info.value && info.vr != EVR_UI)
        {
          std::string value = *info.value;
          if (context_.textCleaner->CleanText(cleaning, value))
          {
            if (value != *info.value || info.encodedUN)
            {
              DcmElement* target = CreateElement(parent, info, info.vr);
              if (target->putString(value.c_str(), static_cast<Uint32>(value.size())).bad())
              {
                throw DeidError(ErrorCode::Internal, "Cannot set the cleaned value of " + FormatTag(info.key));
              }
              Record(info, "C", option, value);
            }
            return;
          }
        }
      }

      // Could not clean: the Basic Profile action, which never leaks. (A
      // cleaner that gave up may still have touched the parent: look the
      // element up again.)
      ActionCode basic = (rule != nullptr) ? rule->basic : ActionCode::X;
      if (basic == ActionCode::C || basic == ActionCode::K || basic == ActionCode::None)
      {
        basic = ActionCode::X;
      }
      DcmElement* current = nullptr;
      if (parent.findAndGetElement(info.key, current, OFFalse).good() && current != nullptr)
      {
        Apply(parent, current, info, basic, std::nullopt, rule, mode);
      }
    }

    // Re-creates an element read as UN with its real VR, keeping its value.
    void ConvertFromUN(DcmItem& parent, DcmElement* element, const ElementInfo& info)
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
  };


  namespace
  {
    std::string GetString(DcmItem& item, const DcmTagKey& key)
    {
      DcmElement* element = nullptr;
      if (item.findAndGetElement(key, element, OFFalse).bad() || element == nullptr)
      {
        return std::string();
      }
      std::string value;
      bool un = (NormalizeVR(element->ident()) == EVR_UN);
      if (!GetStringValue(*element, un, value))
      {
        return std::string();
      }
      return Trim(value);
    }

    void SnapshotIfPresent(DcmItem& dataset, const DcmTagKey& key, DcmItem& target)
    {
      DcmElement* element = nullptr;
      if (dataset.findAndGetElement(key, element, OFFalse).good() && element != nullptr)
      {
        target.insert(OFstatic_cast(DcmElement*, element->clone()), OFTrue);
      }
    }
  }


  namespace
  {
    DeidentificationResult ApplyProfile(const Profile& profile_,
                                        DcmFileFormat& file,
                                        DeidentificationContext& context,
                                        const DeidentificationSettings& settings)
    {
      if (context.uids == nullptr || context.pseudonyms == nullptr || context.textCleaner == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "Incomplete de-identification context");
      }
      if (profile_.GetOptions().Has(Option::RetainLongitudinalModifiedDates) && context.dateOffsets == nullptr)
      {
        throw DeidError(ErrorCode::Internal, "RetainLongitudinalModifiedDates needs a date offset provider");
      }

      DcmDataset* dataset = file.getDataset();
      DcmMetaInfo* meta = file.getMetaInfo();
      if (dataset == nullptr || meta == nullptr)
      {
        throw DeidError(ErrorCode::BadInput, "No data set");
      }

      DeidentificationResult result;
      if (settings.collectOriginals)
      {
        result.modifiedAttributes.reset(new DcmItem);
      }

      // The patient, from the ORIGINAL values (pseudonyms, date offsets).
      PatientKey patient;
      patient.patientId = GetString(*dataset, DCM_PatientID);
      patient.issuerOfPatientId = GetString(*dataset, DCM_IssuerOfPatientID);
      patient.patientName = GetString(*dataset, DCM_PatientName);

      result.originalSopInstanceUid = GetString(*dataset, DCM_SOPInstanceUID);
      const std::string originalMediaSopInstance = GetString(*meta, DCM_MediaStorageSOPInstanceUID);
      const std::string mediaSopClass = GetString(*meta, DCM_MediaStorageSOPClassUID);
      const bool isDicomDir = (mediaSopClass == DICOMDIR_SOP_CLASS ||
                               GetString(*dataset, DCM_SOPClassUID) == DICOMDIR_SOP_CLASS ||
                               dataset->tagExists(DCM_DirectoryRecordSequence, OFFalse));
      if (isDicomDir)
      {
        throw DeidError(ErrorCode::NotImplemented,
                        "DICOMDIR files are not de-identified: create a new DICOMDIR from the "
                        "de-identified files (PS3.15 E.1)");
      }

      // The attributes that the engine sets at the end: their original values.
      DcmItem addedOriginals;
      const DcmTagKey added[] = { DCM_PatientIdentityRemoved, DCM_DeidentificationMethod,
                                  DCM_DeidentificationMethodCodeSequence,
                                  DCM_LongitudinalTemporalInformationModified };
      if (settings.collectOriginals)
      {
        for (const DcmTagKey& key : added)
        {
          SnapshotIfPresent(*dataset, key, addedOriginals);
        }
      }

      DeidentificationWalker walker(profile_, context, settings, result, patient);
      walker.ProcessItem(*dataset, "", true);

      // PS3.15 E.1: the File Meta Information is replaced with a description of
      // the de-identifying application; the SOP Instance UID follows the data set.
      {
        std::string sopInstance = GetString(*dataset, DCM_SOPInstanceUID);
        if (sopInstance.empty() && !originalMediaSopInstance.empty())
        {
          ResolvedAction r = profile_.Resolve(DCM_MediaStorageSOPInstanceUID);
          sopInstance = (r.action == ActionCode::K) ? originalMediaSopInstance :
            context.uids->MapUid(originalMediaSopInstance);
        }
        const std::string transferSyntax = GetString(*meta, DCM_TransferSyntaxUID);

        for (unsigned long i = meta->card(); i > 0; i--)
        {
          DcmElement* element = meta->getElement(i - 1);
          const DcmTagKey key = element->getTag();
          if (key == DCM_FileMetaInformationGroupLength ||
              key == DCM_FileMetaInformationVersion ||
              key == DCM_MediaStorageSOPClassUID ||
              key == DCM_MediaStorageSOPInstanceUID ||
              key == DCM_TransferSyntaxUID)
          {
            continue;
          }

          if (settings.recordChanges)
          {
            ElementChange change;
            char tag[16];
            snprintf(tag, sizeof(tag), "(%04X,%04X)", key.getGroup(), key.getElement());
            change.tag = tag;
            change.name = DcmTag(key).getTagName();
            change.action = "X";
            OFString value;
            if (element->isLeaf() && element->getOFStringArray(value).good())
            {
              change.before = std::string(value.c_str(), value.length());
            }
            result.changes.push_back(change);
          }
          delete meta->remove(element);
        }

        if (!sopInstance.empty())
        {
          if (sopInstance != originalMediaSopInstance && settings.recordChanges)
          {
            ElementChange change;
            change.tag = "(0002,0003)";
            change.name = "MediaStorageSOPInstanceUID";
            change.action = "U";
            if (!originalMediaSopInstance.empty())
            {
              change.before = originalMediaSopInstance;
            }
            change.after = sopInstance;
            result.changes.push_back(change);
          }
          meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sopInstance.c_str());
        }
        if (!transferSyntax.empty())
        {
          meta->putAndInsertString(DCM_TransferSyntaxUID, transferSyntax.c_str());
        }
      }

      // PS3.15 E.1: Patient Identity Removed, De-identification Method (Code
      // Sequence, CID 7050); E.3.6: Longitudinal Temporal Information Modified.
      {
        DcmItem before;
        for (const DcmTagKey& key : added)
        {
          SnapshotIfPresent(*dataset, key, before);
        }

        dataset->putAndInsertString(DCM_PatientIdentityRemoved, "YES");

        // LO, VM 1-n: one value per part, so that no value exceeds 64 characters.
        std::string description = profile_.GetMethodDescription();
        std::string values;
        size_t start = 0;
        for (;;)
        {
          size_t pos = description.find("; ", start);
          values += description.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
          if (pos == std::string::npos)
          {
            break;
          }
          values += '\\';
          start = pos + 2;
        }
        dataset->putAndInsertString(DCM_DeidentificationMethod, values.c_str());

        dataset->findAndDeleteElement(DCM_DeidentificationMethodCodeSequence, OFFalse, OFFalse);
        for (const MethodCode& code : profile_.GetMethodCodes())
        {
          DcmItem* item = new DcmItem;
          item->putAndInsertString(DCM_CodeValue, code.codeValue.c_str());
          item->putAndInsertString(DCM_CodingSchemeDesignator, code.codingSchemeDesignator.c_str());
          item->putAndInsertString(DCM_CodeMeaning, code.codeMeaning.c_str());
          if (dataset->insertSequenceItem(DCM_DeidentificationMethodCodeSequence, item).bad())
          {
            delete item;
            throw DeidError(ErrorCode::Internal, "Cannot add De-identification Method Code Sequence");
          }
        }

        if (profile_.GetOptions().Has(Option::RetainLongitudinalModifiedDates))
        {
          dataset->putAndInsertString(DCM_LongitudinalTemporalInformationModified, "MODIFIED");
        }
        else if (profile_.GetOptions().Has(Option::RetainLongitudinalFullDates))
        {
          dataset->putAndInsertString(DCM_LongitudinalTemporalInformationModified, "UNMODIFIED");
        }
        else if (dataset->tagExists(DCM_LongitudinalTemporalInformationModified, OFFalse))
        {
          // PS3.3 C.12.1: the Basic Profile removes dates; an earlier
          // "UNMODIFIED" would no longer be true.
          dataset->putAndInsertString(DCM_LongitudinalTemporalInformationModified, "REMOVED");
        }

        if (settings.recordChanges)
        {
          for (const DcmTagKey& key : added)
          {
            DcmElement* element = nullptr;
            if (dataset->findAndGetElement(key, element, OFFalse).good() && element != nullptr)
            {
              ElementChange change;
              change.tag = FormatTag(key);
              change.name = DcmTag(key).getTagName();
              change.action = "set";
              OFString value;
              if (element->isLeaf() && element->getOFStringArray(value).good())
              {
                change.after = std::string(value.c_str(), value.length());
              }
              DcmElement* old = nullptr;
              if (before.findAndGetElement(key, old, OFFalse).good() && old != nullptr && old->isLeaf() &&
                  old->getOFStringArray(value).good())
              {
                change.before = std::string(value.c_str(), value.length());
              }
              result.changes.push_back(change);
            }
          }
        }

        // E.1.1: the original values of these attributes, only if they existed
        // before and were changed (or removed by the profile).
        if (settings.collectOriginals)
        {
          for (const DcmTagKey& key : added)
          {
            DcmElement* original = nullptr;
            if (addedOriginals.findAndGetElement(key, original, OFFalse).bad() || original == nullptr)
            {
              continue;
            }
            if (result.modifiedAttributes->tagExists(key))
            {
              continue;   // already collected by the walk
            }

            DcmElement* now = nullptr;
            bool same = false;
            if (dataset->findAndGetElement(key, now, OFFalse).good() && now != nullptr)
            {
              same = (now->compare(*original) == 0);
            }
            if (!same)
            {
              result.modifiedAttributes->insert(OFstatic_cast(DcmElement*, original->clone()), OFTrue);
            }
          }
        }
      }

      return result;
    }
  }


  DeidentificationResult Deidentifier::Apply(DcmFileFormat& file,
                                             DeidentificationContext& context,
                                             const DeidentificationSettings& settings) const
  {
    try
    {
      return ApplyProfile(profile_, file, context, settings);
    }
    catch (DeidError&)
    {
      throw;
    }
    catch (std::bad_alloc&)
    {
      throw DeidError(ErrorCode::Internal, "Out of memory while de-identifying");
    }
    catch (std::exception&)
    {
      // Not forwarded: the message of a library exception might quote data.
      throw DeidError(ErrorCode::Internal, "Unexpected error while de-identifying");
    }
  }
}
