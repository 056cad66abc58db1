// The walk over one instance (PS3.15 E.1): internal to the engine. The member
// functions live in files named after what they do:
//   DatasetWalk.cpp       items, elements, private blocks, keep / remove / empty
//   ActionDispatch.cpp    one resolved action of Table E.1-1a applied to one element
//   DummyReplacement.cpp  D, pseudonyms, U
//   DummySequences.cpp    D on a sequence: items kept, content made dummy
//   CleanAction.cpp       C: safe private attributes, shifted dates, text cleaner
//   StructuredContentCleaning.cpp  C under Clean Structured Content (E.3.4)
//   UnConversion.cpp      elements encoded as UN
//   TypeResolution.cpp    the action chosen by the attribute's PS3.3 Type in the IOD
//   GraphicsCleaning.cpp  Clean Graphics (E.3.3): annotations, overlays, curves
//   DescriptorSequenceCleaning.cpp  C under Clean Descriptors (E.3.5) for
//                         code sequences, request / notes sequences, binary values
// Deidentifier.cpp explains the choices.
#pragma once

#include "Deidentifier.h"

#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace Deid
{
  struct ElementInfo
  {
    DcmTagKey key;
    std::string privateCreator;
    std::string name;
    std::string path;
    std::string typePath;      // tags from the top level, for AttributeTypes ("00081110>00081155")
    DcmEVR vr = EVR_UN;        // the real VR (dictionary VR if encoded as UN)
    bool encodedUN = false;
    bool isSequence = false;
    bool isEmpty = false;
    bool isString = false;
    std::optional<std::string> value;   // string value, if any
  };

  // D on a sequence (see Deidentifier.cpp): the items are kept and processed
  // in a "dummy mode".
  enum class DummyMode
  {
    Off,         // the profile rules as they are
    KeepCodes,   // dummy mode, in the items of a sequence not listed in Table
                 // E.1-1 (e.g. Concept Name Code Sequence): coded attributes kept
    All          // dummy mode, in the items of a sequence with action D: the
                 // coded attributes of these items become dummies too
  };

  // The attributes of the Code Sequence Macro (PS3.3 Table 8.8-1): coded
  // concepts, kept (DummySequences.cpp).
  bool IsCodeAttribute(const DcmTagKey& key);

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
    const IodAttributeTypes* iod_ = nullptr;   // nullptr: no Type data for the SOP Class
    std::string tagPath_;                      // typePath of the sequence being walked
    const ElementInfo* reasonFor_ = nullptr;   // the element whose change has reason_
    std::string reason_;
    std::vector<IdentifyingValue> identifying_;   // for the text cleaner: never log
    bool inStructuredContent_ = false;            // walking a Clean Structured Content tree (E.3.4)
    bool inDescriptorSequence_ = false;           // walking a Clean Descriptors sequence (E.3.5)
    std::map<std::string, std::string> personNames_;   // original -> replacement in the tree: never log

  public:
    DeidentificationWalker(const Profile& profile,
                           DeidentificationContext& context,
                           const DeidentificationSettings& settings,
                           DeidentificationResult& result,
                           const PatientKey& patient,
                           const IodAttributeTypes* iod);

    // The instance's own identifying values, read before the walk (C, E.3.3).
    void SetIdentifyingValues(std::vector<IdentifyingValue> values)
    {
      identifying_ = std::move(values);
    }

    size_t GetModifications() const
    {
      return modifications_;
    }

    // Processes all elements of one item (data set, sequence item).
    void ProcessItem(DcmItem& item, const std::string& itemPath, bool topLevel,
                     DummyMode mode = DummyMode::Off);

  private:
    void Record(const ElementInfo& info, const std::string& action, std::optional<Option> option,
                const std::optional<std::string>& after);
    const Pseudonym& GetPseudonym();
    int32_t GetOffsetDays();

    // DatasetWalk.cpp
    bool MayChange(DcmElement& element) const;
    std::string GetPrivateCreator(DcmItem& item, const DcmTagKey& key);
    ElementInfo Describe(DcmElement& element, const std::string& itemPath, const std::string& privateCreator);
    void ProcessSequenceItems(DcmSequenceOfItems& sequence, const ElementInfo& info,
                              DummyMode mode = DummyMode::Off);
    void ProcessElement(DcmItem& parent, DcmElement* element, const std::string& itemPath,
                        std::set<uint32_t>& keptPrivateBlocks,
                        const std::map<Uint16, std::string>& removedOverlays, DummyMode mode);
    void Keep(DcmItem& parent, DcmElement* element, const ElementInfo& info);
    void Remove(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option);
    DcmElement* CreateElement(DcmItem& parent, const ElementInfo& info, DcmEVR vr);
    void Empty(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option);

    // ActionDispatch.cpp
    void Apply(DcmItem& parent, DcmElement* element, const ElementInfo& info,
               ActionCode action, std::optional<Option> chosenBy, const AttributeRule* rule,
               DummyMode mode);
    static bool IsPatientIdentity(const DcmTagKey& key);

    // DummySequences.cpp
    void ApplyUnlistedInDummyMode(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                  DummyMode mode);

    // DummyReplacement.cpp
    void Dummy(DcmItem& parent, DcmElement* element, const ElementInfo& info, std::optional<Option> option);
    void Pseudonymize(DcmItem& parent, const ElementInfo& info, std::optional<Option> option);
    void ReplaceUids(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                     std::optional<Option> option, const char* action = "U");

    // CleanAction.cpp: the text cleaner on one value, for every Clean option
    // (E.3.3-E.3.5), and the preview reason naming what it removed by
    // category, never the text.
    bool CleanTextWith(Option chosenBy, const DcmTagKey& key, DcmEVR vr, std::string& value,
                       std::vector<std::string>& categories);
    static std::string DescribeRemoved(const std::vector<std::string>& categories);
    bool PutShiftedDate(DcmItem& parent, const ElementInfo& info, Option option);

    // CleanAction.cpp
    void Clean(DcmItem& parent, DcmElement* element, const ElementInfo& info,
               std::optional<Option> option, const AttributeRule* rule, DummyMode mode);

    // StructuredContentCleaning.cpp
    void CleanStructuredContent(DcmSequenceOfItems& sequence, const ElementInfo& info);
    bool CleanContentItemElement(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                 ActionCode resolved);
    void CleanContentItemText(DcmItem& parent, const ElementInfo& info);
    void ReplaceContentItemName(DcmItem& parent, const ElementInfo& info);
    void CleanContentItemTemporal(DcmItem& parent, DcmElement* element, const ElementInfo& info);

    // TypeResolution.cpp
    ActionCode ResolveByType(ActionCode action, const ElementInfo& info);
    std::map<Uint16, std::string> FindRemovedOverlays(DcmItem& item);   // group -> reason
    void FillDummyItem(DcmItem& item, const std::string& path, int depth);

    // GraphicsCleaning.cpp
    bool CleanGraphics(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                       const AttributeRule* rule, DummyMode mode);
    bool CleanOverlayLabel(DcmItem& parent, DcmElement* element, const ElementInfo& info, DummyMode mode);
    std::string InspectOverlay(DcmItem& item, Uint16 group);
    bool IsMandatoryOverlay(const DcmTagKey& key) const;
    void CleanGraphicAnnotations(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                 const AttributeRule* rule);
    void CleanAnnotationLabels(DcmItem& item, const std::string& itemPath, int depth);
    bool CleanGraphicsText(const ElementInfo& info, std::string& value, std::vector<std::string>& categories);
    void CleanTextOrBasic(DcmItem& parent, const ElementInfo& info, const AttributeRule* rule);
    void ApplyBasicAction(DcmItem& parent, const ElementInfo& info, const AttributeRule* rule);
    void RecordCleaned(DcmItem& parent, const ElementInfo& info, const std::string& value,
                       const std::vector<std::string>& categories);

    // DescriptorSequenceCleaning.cpp
    bool CleanDescriptorText(const DcmTagKey& key, DcmEVR vr, std::string& value,
                             std::vector<std::string>& categories);
    void CleanDescriptorSequence(DcmItem& parent, DcmSequenceOfItems& sequence, const ElementInfo& info);
    bool CleanDescriptorItemElement(DcmItem& parent, DcmElement* element, const ElementInfo& info,
                                    ActionCode resolved);
    void CleanCodeMeaning(DcmItem& parent, const ElementInfo& info);
    bool RemoveBinaryDescriptor(DcmItem& parent, DcmElement* element, const ElementInfo& info);

    // UnConversion.cpp
    DcmSequenceOfItems* ReparseAsSequence(DcmItem& item, DcmElement*& element, const ElementInfo& info);
    void ConvertFromUN(DcmItem& parent, DcmElement* element, const ElementInfo& info);
  };
}
