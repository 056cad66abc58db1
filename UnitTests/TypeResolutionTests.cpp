// Tests of the actions chosen by the PS3.3 Type of the attribute in the
// instance's IOD (Profiles/AttributeTypes.json; PS3.15 E.1, Table E.1-1a).
#include "DeidentifierTestSupport.h"

#include "Engine/AttributeTypes.h"

#include <dcmtk/dcmdata/dcvrobow.h>

#include <gtest/gtest.h>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  const char* const GSPS = "1.2.840.10008.5.1.4.1.1.11.1";
  const char* const HANGING_PROTOCOL = "1.2.840.10008.5.1.4.38.1";

  DeidentificationResult DeidentifyWithChanges(DcmFileFormat& file, const OptionSet& options = OptionSet())
  {
    Providers p;
    auto profile = MakeProfile(options);
    Deidentifier deid(*profile);
    DeidentificationSettings settings;
    settings.recordChanges = true;
    return deid.Apply(file, p.context, settings);
  }

  const ElementChange* FindChange(const DeidentificationResult& r, const std::string& tag,
                                  const std::string& path = std::string())
  {
    for (const ElementChange& c : r.changes)
    {
      if (c.tag == tag && c.path == path)
      {
        return &c;
      }
    }
    return nullptr;
  }
}

TEST(AttributeTypes, TableHasTheCheckedFacts)
{
  const AttributeTypes* types = Tables()->GetAttributeTypes();
  ASSERT_NE(nullptr, types);
  EXPECT_GE(types->GetIodCount(), 130u);

  const IodAttributeTypes* gsps = types->FindBySopClass(GSPS);
  ASSERT_NE(nullptr, gsps);
  AttributeTypeInfo info;
  ASSERT_TRUE(gsps->Find("00700082", info));   // Presentation Creation Date
  EXPECT_EQ(1, info.type);
  EXPECT_EQ("Presentation State Identification", *info.module);

  const IodAttributeTypes* ct = types->FindBySopClass(UID_CTImageStorage);
  ASSERT_NE(nullptr, ct);
  ASSERT_TRUE(ct->Find("00081110", info));     // Referenced Study Sequence
  EXPECT_EQ(3, info.type);
  EXPECT_EQ("General Study", *info.module);
  ASSERT_TRUE(ct->Find("00080020", info));     // Study Date
  EXPECT_EQ(2, info.type);
  ASSERT_TRUE(ct->Find("00102297", info));     // Responsible Person: 2C counts as 2
  EXPECT_EQ(2, info.type);
  EXPECT_EQ("2C", info.typeText);
  ASSERT_TRUE(ct->Find(MakeTypePath("", DcmTagKey(0x6002, 0x3000)), info));   // Overlay Data
  EXPECT_EQ(1, info.type);
  EXPECT_EQ("60xx3000", MakeTypePathKey(DcmTagKey(0x6002, 0x3000)));
  EXPECT_EQ("00081110>00081155", MakeTypePath("00081110", DCM_ReferencedSOPInstanceUID));

  EXPECT_EQ(nullptr, types->FindBySopClass(NO_IOD_DATA_SOP_CLASS));
}

TEST(TypeResolution, XOnType1BecomesDummy)
{
  // Presentation Creation Date/Time: X in Table E.1-1, Type 1 in the
  // Presentation State Identification module.
  auto file = MakeFile(GSPS);
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_PresentationCreationDate, "20200315");
  ds.putAndInsertString(DCM_PresentationCreationTime, "101112");
  DeidentificationResult r = DeidentifyWithChanges(*file);
  EXPECT_EQ("19000101", GetString(ds, DCM_PresentationCreationDate));
  EXPECT_EQ("000000", GetString(ds, DCM_PresentationCreationTime));
  const ElementChange* c = FindChange(r, "(0070,0082)");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("D", c->action);
  EXPECT_EQ("X\u2192D: Type 1 in Presentation State Identification", c->reason);
}

TEST(TypeResolution, XOnType2BecomesEmpty)
{
  // Responsible Person / Organization: X, Type 2C in the Patient module.
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_ResponsiblePerson, "Owner^Olga");
  ds.putAndInsertString(DCM_ResponsibleOrganization, "Farm Inc");
  DeidentificationResult r = DeidentifyWithChanges(*file);
  EXPECT_TRUE(Has(ds, DCM_ResponsiblePerson));
  EXPECT_EQ("", GetString(ds, DCM_ResponsiblePerson));
  EXPECT_EQ("", GetString(ds, DCM_ResponsibleOrganization));
  const ElementChange* c = FindChange(r, "(0010,2297)");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("X\u2192Z: Type 2C in Patient", c->reason);
}

TEST(TypeResolution, CombinedActionsFollowTheType)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  AddItem(ds, DCM_ReferencedStudySequence).putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.9");  // X/Z, Type 3
  ds.putAndInsertString(DCM_InstitutionName, "St. Elsewhere");   // X/Z/D, Type 3 in General Equipment
  ds.putAndInsertString(DCM_SeriesDate, "20200315");             // X/D, Type 3 in General Series
  ds.putAndInsertString(DCM_ContentDate, "20200315");            // Z/D, Type 2C in General Image
  ds.putAndInsertString(DCM_StudyDate, "20200315");              // Z, Type 2
  DeidentificationResult r = DeidentifyWithChanges(*file);

  EXPECT_FALSE(Has(ds, DCM_ReferencedStudySequence));   // not left with zero items
  EXPECT_FALSE(Has(ds, DCM_InstitutionName));
  EXPECT_FALSE(Has(ds, DCM_SeriesDate));
  EXPECT_TRUE(Has(ds, DCM_ContentDate));
  EXPECT_EQ("", GetString(ds, DCM_ContentDate));
  EXPECT_EQ("", GetString(ds, DCM_StudyDate));

  const ElementChange* c = FindChange(r, "(0008,1110)");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("X", c->action);
  EXPECT_EQ("X/Z\u2192X: Type 3 in General Study", c->reason);
  c = FindChange(r, "(0008,0023)");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("Z/D\u2192Z: Type 2C in General Image", c->reason);
  c = FindChange(r, "(0008,0020)");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("", c->reason);   // Z on Type 2: the table's action, nothing to explain
}

TEST(TypeResolution, NestedPathDecides)
{
  // Key Object Selection: Referenced Study Sequence (X/Z) is Type 3 at the
  // top level (General Study) but Type 2 inside Referenced Request Sequence
  // (Key Object Document): removed at the top, emptied inside.
  auto file = MakeFile("1.2.840.10008.5.1.4.1.1.88.59");
  DcmDataset& ds = *file->getDataset();
  AddItem(ds, DCM_ReferencedStudySequence).putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.9");
  DcmItem& request = AddItem(ds, DCM_ReferencedRequestSequence);
  AddItem(request, DCM_ReferencedStudySequence).putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.9");
  DeidentificationResult r = DeidentifyWithChanges(*file);
  EXPECT_FALSE(Has(ds, DCM_ReferencedStudySequence));
  ASSERT_EQ(1u, CountItems(ds, DCM_ReferencedRequestSequence));
  DcmItem& after = *GetItem(ds, DCM_ReferencedRequestSequence);
  EXPECT_TRUE(Has(after, DCM_ReferencedStudySequence));
  EXPECT_EQ(0u, CountItems(after, DCM_ReferencedStudySequence));
  const ElementChange* c = FindChange(r, "(0008,1110)", "ReferencedRequestSequence[0].ReferencedStudySequence");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("X/Z\u2192Z: Type 2 in Key Object Document", c->reason);
}

TEST(TypeResolution, NoIodDataKeepsTodaysChoice)
{
  auto file = MakeFile(NO_IOD_DATA_SOP_CLASS);
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_InstitutionName, "St. Elsewhere");   // X/Z/D -> D
  AddItem(ds, DCM_ReferencedStudySequence).putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.9");  // X/Z -> Z
  DeidentificationResult r = DeidentifyWithChanges(*file);
  EXPECT_EQ("ANONYMOUS", GetString(ds, DCM_InstitutionName));
  EXPECT_TRUE(Has(ds, DCM_ReferencedStudySequence));
  EXPECT_EQ(0u, CountItems(ds, DCM_ReferencedStudySequence));
  const ElementChange* c = FindChange(r, "(0008,0080)");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("X/Z/D: no IOD data", c->reason);
}

TEST(TypeResolution, OverlayDataRemovesTheWholeOverlayGroup)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  const Uint8 overlay[8] = { 0xFF, 0, 0xFF, 0, 1, 2, 3, 4 };
  ds.putAndInsertUint16(DcmTagKey(0x6000, 0x0010), 8);        // Overlay Rows, Type 1
  ds.putAndInsertUint16(DcmTagKey(0x6000, 0x0011), 8);        // Overlay Columns, Type 1
  ds.putAndInsertString(DcmTagKey(0x6000, 0x0040), "G");      // Overlay Type, Type 1
  ds.putAndInsertUint8Array(DcmTagKey(0x6000, 0x3000), overlay, 8);   // Overlay Data, X
  ds.putAndInsertUint16(DcmTagKey(0x6002, 0x0010), 8);        // a group without Overlay Data: kept
  DeidentificationResult r = DeidentifyWithChanges(*file);
  EXPECT_FALSE(Has(ds, DcmTagKey(0x6000, 0x0010)));
  EXPECT_FALSE(Has(ds, DcmTagKey(0x6000, 0x0011)));
  EXPECT_FALSE(Has(ds, DcmTagKey(0x6000, 0x0040)));
  EXPECT_FALSE(Has(ds, DcmTagKey(0x6000, 0x3000)));
  EXPECT_TRUE(Has(ds, DcmTagKey(0x6002, 0x0010)));
  const ElementChange* c = FindChange(r, "(6000,0010)");
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("X", c->action);
  EXPECT_NE(std::string::npos, c->reason.find("Overlay Plane"));
}

TEST(TypeResolution, SelectorUNValueGetsAnEvenDummy)
{
  // Table E.1-1: Selector UN Value (0072,006D) D; its VR is UN.
  auto file = MakeFile(HANGING_PROTOCOL);
  DcmDataset& ds = *file->getDataset();
  DcmItem& selector = AddItem(ds, DCM_ImageSetsSequence);
  DcmItem& inner = AddItem(selector, DCM_ImageSetSelectorSequence);
  DcmOtherByteOtherWord* un = new DcmOtherByteOtherWord(DcmTag(DCM_SelectorUNValue, EVR_UN));
  const Uint8 value[4] = { 'D', 'o', 'e', ' ' };
  un->putUint8Array(value, 4);
  inner.insert(un);
  DeidentifyWithChanges(*file);
  DcmItem* after = GetItem(*GetItem(ds, DCM_ImageSetsSequence), DCM_ImageSetSelectorSequence);
  ASSERT_NE(nullptr, after);
  DcmElement* e = nullptr;
  ASSERT_TRUE(after->findAndGetElement(DCM_SelectorUNValue, e).good());
  ASSERT_GT(e->getLength(), 0u);
  EXPECT_EQ(0u, e->getLength() % 2);
  Uint8* bytes = nullptr;
  ASSERT_TRUE(e->getUint8Array(bytes).good());
  for (Uint32 i = 0; i < e->getLength(); i++)
  {
    EXPECT_EQ(0, bytes[i]);
  }
}

TEST(TypeResolution, EmptyType1SequenceUnderDGetsOneDummyItem)
{
  // Graphic Annotation Sequence: D, Type 1 in the Graphic Annotation module.
  auto file = MakeFile(GSPS);
  DcmDataset& ds = *file->getDataset();
  ds.insertEmptyElement(DCM_GraphicAnnotationSequence);
  DeidentifyWithChanges(*file);
  ASSERT_EQ(1u, CountItems(ds, DCM_GraphicAnnotationSequence));
  EXPECT_EQ("ANONYMOUS", GetString(*GetItem(ds, DCM_GraphicAnnotationSequence), DCM_GraphicLayer));
}
