// Clean Structured Content (PS3.15 E.3.4): the SR content tree is kept and
// each value is handled by its value type (Plugin/Engine/StructuredContentCleaning.cpp).
#include "DeidentifierTestSupport.h"

#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  // Removes the patient's family name (as the real cleaner would) and reports
  // its category; keeps the rest.
  class RemovingCleaner : public ITextCleaner
  {
  public:
    std::vector<Option> options;
    size_t identifyingValues = 0;

    bool CleanText(const CleaningContext& context, std::string& value) override
    {
      options.push_back(context.chosenBy);
      identifyingValues = (context.identifying == nullptr) ? 0 : context.identifying->size();
      const size_t at = value.find("Doe");
      if (at != std::string::npos)
      {
        value.erase(at, 3);
        if (context.removedCategories != nullptr)
        {
          context.removedCategories->push_back("person name");
        }
      }
      return true;
    }

    bool CleanSequence(const CleaningContext&, DcmItem&) override
    {
      ADD_FAILURE() << "structured content is cleaned by the engine, not as a whole";
      return false;
    }
  };

  const char* const STUDY = "1.2.3.4.5.6.7.1";
  const char* const IMAGE = "1.2.3.4.5.6.7.900";

  void AddCode(DcmItem& item, const DcmTagKey& sequence, const char* value, const char* scheme, const char* meaning)
  {
    DcmItem& code = AddItem(item, sequence);
    code.putAndInsertString(DCM_CodeValue, value);
    code.putAndInsertString(DCM_CodingSchemeDesignator, scheme);
    code.putAndInsertString(DCM_CodeMeaning, meaning);
  }

  DcmItem& AddContent(DcmItem& parent, const char* relationship, const char* valueType, const char* concept)
  {
    DcmItem& item = AddItem(parent, DCM_ContentSequence);
    item.putAndInsertString(DCM_RelationshipType, relationship);
    item.putAndInsertString(DCM_ValueType, valueType);
    AddCode(item, DCM_ConceptNameCodeSequence, concept, "DCM", "Concept");
    return item;
  }

  // CONTAINER > observer PNAME, TEXT, CONTAINER > TEXT, PNAME (patient, other
  // person twice), DATE, TIME, DATETIME, UIDREF, NUM, CODE, IMAGE.
  std::unique_ptr<DcmFileFormat> MakeSr()
  {
    auto file = MakeFile(UID_ComprehensiveSRStorage);
    DcmDataset& ds = *file->getDataset();
    ds.putAndInsertString(DCM_Modality, "SR");
    ds.putAndInsertString(DCM_StudyDate, "20240311");
    ds.putAndInsertString(DCM_ValueType, "CONTAINER");
    AddCode(ds, DCM_ConceptNameCodeSequence, "18748-4", "LN", "Diagnostic Imaging Report");
    DcmItem& templ = AddItem(ds, DCM_ContentTemplateSequence);
    templ.putAndInsertString(DCM_MappingResource, "DCMR");
    templ.putAndInsertString(DCM_TemplateIdentifier, "2000");

    AddContent(ds, "HAS OBS CONTEXT", "PNAME", "121008").putAndInsertString(DCM_PersonName, "Observer^Olga");
    AddContent(ds, "HAS OBS CONTEXT", "UIDREF", "121012").putAndInsertString(DCM_UID, "1.2.3.4.5.6.7.555");
    DcmItem& findings = AddContent(ds, "CONTAINS", "CONTAINER", "121070");
    findings.putAndInsertString(DCM_ContinuityOfContent, "SEPARATE");
    AddContent(findings, "CONTAINS", "TEXT", "121071").putAndInsertString(
      DCM_TextValue, "Mass in the left upper lobe, John Doe PID-12345, call 555-867-5309");
    AddContent(findings, "CONTAINS", "PNAME", "121029").putAndInsertString(DCM_PersonName, "DOE^JOHN");
    AddContent(findings, "CONTAINS", "PNAME", "121008").putAndInsertString(DCM_PersonName, "Other^Oscar");
    AddContent(findings, "CONTAINS", "PNAME", "121008").putAndInsertString(DCM_PersonName, "observer^olga^");
    AddContent(findings, "CONTAINS", "DATE", "111060").putAndInsertString(DCM_Date, "20240311");
    AddContent(findings, "CONTAINS", "TIME", "111061").putAndInsertString(DCM_Time, "093015");
    AddContent(findings, "CONTAINS", "DATETIME", "111526").putAndInsertString(DCM_DateTime, "20240311093015");
    AddContent(findings, "CONTAINS", "UIDREF", "110180").putAndInsertString(DCM_UID, STUDY);
    DcmItem& num = AddContent(findings, "CONTAINS", "NUM", "G-D7FE");
    DcmItem& measured = AddItem(num, DCM_MeasuredValueSequence);
    measured.putAndInsertString(DCM_NumericValue, "23.5");
    AddCode(measured, DCM_MeasurementUnitsCodeSequence, "mm", "UCUM", "millimeter");
    AddCode(AddContent(findings, "CONTAINS", "CODE", "121071"), DCM_ConceptCodeSequence, "4147007", "SCT", "Mass");
    DcmItem& reference = AddItem(AddContent(findings, "CONTAINS", "IMAGE", "121112"), DCM_ReferencedSOPSequence);
    reference.putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
    reference.putAndInsertString(DCM_ReferencedSOPInstanceUID, IMAGE);
    return file;
  }

  DcmItem& Child(DcmItem& parent, unsigned long index)
  {
    DcmItem* item = GetItem(parent, DCM_ContentSequence, index);
    if (item == nullptr)
    {
      throw std::runtime_error("missing content item");
    }
    return *item;
  }

  DeidentificationResult DeidentifySr(const OptionSet& options, DcmFileFormat& file, Providers& p)
  {
    auto profile = MakeProfile(options);
    Deidentifier deid(*profile);
    DeidentificationSettings settings;
    settings.recordChanges = true;
    return deid.Apply(file, p.context, settings);
  }
}

TEST(StructuredContent, ConservativeCleanerKeepsTheTreeValid)
{
  Providers p;
  auto file = MakeSr();
  DeidentifySr(OptionSet{ Option::CleanStructuredContent }, *file, p);
  DcmDataset& ds = *file->getDataset();

  // The tree keeps its shape, codes and numbers.
  ASSERT_EQ(3u, CountItems(ds, DCM_ContentSequence));
  DcmItem& findings = Child(ds, 2);
  ASSERT_EQ(11u, CountItems(findings, DCM_ContentSequence));
  EXPECT_EQ("CONTAINER", GetString(findings, DCM_ValueType));
  EXPECT_EQ("SEPARATE", GetString(findings, DCM_ContinuityOfContent));
  EXPECT_EQ("CONTAINS", GetString(Child(findings, 0), DCM_RelationshipType));
  EXPECT_EQ("121071", GetString(*GetItem(Child(findings, 0), DCM_ConceptNameCodeSequence), DCM_CodeValue));
  EXPECT_EQ("Concept", GetString(*GetItem(Child(findings, 0), DCM_ConceptNameCodeSequence), DCM_CodeMeaning));
  EXPECT_EQ("2000", GetString(*GetItem(ds, DCM_ContentTemplateSequence), DCM_TemplateIdentifier));
  DcmItem* measured = GetItem(Child(findings, 8), DCM_MeasuredValueSequence);
  ASSERT_NE(nullptr, measured);
  EXPECT_EQ("23.5", GetString(*measured, DCM_NumericValue));
  EXPECT_EQ("millimeter", GetString(*GetItem(*measured, DCM_MeasurementUnitsCodeSequence), DCM_CodeMeaning));
  EXPECT_EQ("Mass", GetString(*GetItem(Child(findings, 9), DCM_ConceptCodeSequence), DCM_CodeMeaning));

  // TEXT: the cleaner could not clean, the Type 1 value stays, neutral.
  EXPECT_EQ("REMOVED", GetString(Child(findings, 0), DCM_TextValue));

  // PNAME: the patient is the patient's pseudonym; others consistent dummies.
  EXPECT_EQ(GetString(ds, DCM_PatientName), GetString(Child(findings, 1), DCM_PersonName));
  EXPECT_NE("DOE^JOHN", GetString(Child(findings, 1), DCM_PersonName));
  EXPECT_EQ("ANONYMOUS^1", GetString(Child(ds, 0), DCM_PersonName));
  EXPECT_EQ("ANONYMOUS^2", GetString(Child(findings, 2), DCM_PersonName));
  EXPECT_EQ("ANONYMOUS^1", GetString(Child(findings, 3), DCM_PersonName));   // the same observer

  // DATE / TIME / DATETIME: valid dummies (Type 1 in these items).
  EXPECT_EQ("19000101", GetString(Child(findings, 4), DCM_Date));
  EXPECT_EQ("000000", GetString(Child(findings, 5), DCM_Time));
  EXPECT_EQ("19000101000000", GetString(Child(findings, 6), DCM_DateTime));

  // UIDREF and references: the mapping of the rest of the instance.
  EXPECT_EQ(GetString(ds, DCM_StudyInstanceUID), GetString(Child(findings, 7), DCM_UID));
  EXPECT_EQ(p.uids.MapUid(STUDY), GetString(Child(findings, 7), DCM_UID));
  EXPECT_EQ(p.uids.MapUid("1.2.3.4.5.6.7.555"), GetString(Child(ds, 1), DCM_UID));
  DcmItem* reference = GetItem(Child(findings, 10), DCM_ReferencedSOPSequence);
  ASSERT_NE(nullptr, reference);
  EXPECT_EQ(p.uids.MapUid(IMAGE), GetString(*reference, DCM_ReferencedSOPInstanceUID));
  EXPECT_EQ(UID_CTImageStorage, GetString(*reference, DCM_ReferencedSOPClassUID));
}

TEST(StructuredContent, TextGoesToTheCleanerWithCategories)
{
  Providers p;
  RemovingCleaner cleaner;
  p.context.textCleaner = &cleaner;
  auto file = MakeSr();
  DeidentificationResult result = DeidentifySr(OptionSet{ Option::CleanStructuredContent }, *file, p);
  DcmItem& findings = Child(*file->getDataset(), 2);

  EXPECT_EQ("Mass in the left upper lobe, John  PID-12345, call 555-867-5309",
            GetString(Child(findings, 0), DCM_TextValue));   // what this test cleaner returns
  ASSERT_EQ(1u, cleaner.options.size());
  EXPECT_EQ(Option::CleanStructuredContent, cleaner.options[0]);
  EXPECT_GE(cleaner.identifyingValues, 2u);   // the instance's name and ID, read before the walk

  bool found = false;
  for (const ElementChange& change : result.changes)
  {
    if (change.name == "TextValue")
    {
      found = true;
      EXPECT_EQ("C", change.action);
      EXPECT_EQ("CleanStructuredContent", change.option);
      EXPECT_EQ("C removed: person name", change.reason);
    }
  }
  EXPECT_TRUE(found);
}

TEST(StructuredContent, DatesFollowTheTemporalOptions)
{
  {
    Providers p(10);
    auto file = MakeSr();
    DeidentifySr(OptionSet{ Option::CleanStructuredContent, Option::RetainLongitudinalModifiedDates }, *file, p);
    DcmDataset& ds = *file->getDataset();
    DcmItem& findings = Child(ds, 2);
    EXPECT_EQ("20240321", GetString(ds, DCM_StudyDate));
    EXPECT_EQ("20240321", GetString(Child(findings, 4), DCM_Date));          // the same offset
    EXPECT_EQ("093015", GetString(Child(findings, 5), DCM_Time));            // whole days: kept
    EXPECT_EQ("20240321093015", GetString(Child(findings, 6), DCM_DateTime));
  }
  {
    Providers p;
    auto file = MakeSr();
    DeidentifySr(OptionSet{ Option::CleanStructuredContent, Option::RetainLongitudinalFullDates }, *file, p);
    DcmItem& findings = Child(*file->getDataset(), 2);
    EXPECT_EQ("20240311", GetString(Child(findings, 4), DCM_Date));
    EXPECT_EQ("093015", GetString(Child(findings, 5), DCM_Time));
    EXPECT_EQ("20240311093015", GetString(Child(findings, 6), DCM_DateTime));
  }
}

TEST(StructuredContent, RetainUidsKeepsUidRefs)
{
  Providers p;
  auto file = MakeSr();
  DeidentifySr(OptionSet{ Option::CleanStructuredContent, Option::RetainUIDs }, *file, p);
  DcmItem& findings = Child(*file->getDataset(), 2);
  EXPECT_EQ(STUDY, GetString(Child(findings, 7), DCM_UID));
  EXPECT_EQ(IMAGE, GetString(*GetItem(Child(findings, 10), DCM_ReferencedSOPSequence), DCM_ReferencedSOPInstanceUID));
}

// The other three sequences of E.3.4, at any depth.
TEST(StructuredContent, AcquisitionContextSpecimenPreparationAndWaveformAnnotation)
{
  Providers p;
  auto file = MakeFile(UID_VLMicroscopicImageStorage);
  DcmDataset& ds = *file->getDataset();
  DcmItem& context = AddItem(ds, DCM_AcquisitionContextSequence);
  context.putAndInsertString(DCM_ValueType, "TEXT");
  AddCode(context, DCM_ConceptNameCodeSequence, "121106", "DCM", "Comment");
  context.putAndInsertString(DCM_TextValue, "Doe John, stained at bedside");
  DcmItem& specimen = AddItem(ds, DCM_SpecimenDescriptionSequence);
  DcmItem& preparation = AddItem(specimen, DCM_SpecimenPreparationSequence);
  DcmItem& step = AddItem(preparation, DCM_SpecimenPreparationStepContentItemSequence);
  step.putAndInsertString(DCM_ValueType, "PNAME");
  AddCode(step, DCM_ConceptNameCodeSequence, "111705", "DCM", "Specimen Preparation Person");
  step.putAndInsertString(DCM_PersonName, "Tech^Tina");
  DcmItem& annotation = AddItem(ds, DCM_WaveformAnnotationSequence);
  annotation.putAndInsertString(DCM_UnformattedTextValue, "Doe John sinus rhythm");
  AddCode(annotation, DCM_ConceptNameCodeSequence, "5.10.3-5", "SCPECG", "T Offset");
  annotation.putAndInsertUint16(DCM_AnnotationGroupNumber, 3);

  DeidentifySr(OptionSet{ Option::CleanStructuredContent }, *file, p);

  DcmItem* c = GetItem(ds, DCM_AcquisitionContextSequence);
  ASSERT_NE(nullptr, c);
  EXPECT_EQ("REMOVED", GetString(*c, DCM_TextValue));
  EXPECT_EQ("Comment", GetString(*GetItem(*c, DCM_ConceptNameCodeSequence), DCM_CodeMeaning));
  DcmItem* s = GetItem(ds, DCM_SpecimenDescriptionSequence);
  ASSERT_NE(nullptr, s);
  DcmItem* prep = GetItem(*s, DCM_SpecimenPreparationSequence);
  ASSERT_NE(nullptr, prep);
  DcmItem* st = GetItem(*prep, DCM_SpecimenPreparationStepContentItemSequence);
  ASSERT_NE(nullptr, st);
  EXPECT_EQ("ANONYMOUS^1", GetString(*st, DCM_PersonName));
  EXPECT_EQ("PNAME", GetString(*st, DCM_ValueType));
  DcmItem* a = GetItem(ds, DCM_WaveformAnnotationSequence);
  ASSERT_NE(nullptr, a);
  EXPECT_EQ("ANONYMOUS", GetString(*a, DCM_UnformattedTextValue));   // listed D (C only under Clean Descriptors)
  EXPECT_EQ("T Offset", GetString(*GetItem(*a, DCM_ConceptNameCodeSequence), DCM_CodeMeaning));
  Uint16 group = 0;
  EXPECT_TRUE(a->findAndGetUint16(DCM_AnnotationGroupNumber, group).good());
  EXPECT_EQ(3u, group);
}

// Free text that Table E.1-1 does not list, inside the tree: cleaned too.
TEST(StructuredContent, UnlistedFreeTextInTheTree)
{
  Providers p;
  auto file = MakeSr();
  DcmItem& findings = Child(*file->getDataset(), 2);
  Child(findings, 8).putAndInsertString(DCM_DeviceID, "Scanner of John Doe");     // LO, unlisted
  Child(findings, 8).putAndInsertString(DCM_RetrieveURI, "http://pacs/doe");       // UR, unlisted
  DeidentifySr(OptionSet{ Option::CleanStructuredContent }, *file, p);
  DcmItem& out = Child(Child(*file->getDataset(), 2), 8);
  EXPECT_EQ("REMOVED", GetString(out, DCM_DeviceID));
  EXPECT_EQ("urn:deidentified", GetString(out, DCM_RetrieveURI));
  EXPECT_EQ("NUM", GetString(out, DCM_ValueType));
}

// A tree nested as deep as the default maximum: every level walked, the
// deepest text cleaned, the shape kept.
TEST(StructuredContent, DeepTree)
{
  Providers p;
  auto file = MakeFile(UID_ComprehensiveSRStorage);
  DcmItem* item = file->getDataset();
  const unsigned int depth = 30;
  for (unsigned int i = 0; i < depth; i++)
  {
    item = &AddContent(*item, "CONTAINS", i + 1 == depth ? "TEXT" : "CONTAINER", "121070");
  }
  item->putAndInsertString(DCM_TextValue, "Doe^John at the bottom");
  DeidentifySr(OptionSet{ Option::CleanStructuredContent }, *file, p);
  DcmItem* walked = file->getDataset();
  for (unsigned int i = 0; i < depth; i++)
  {
    walked = GetItem(*walked, DCM_ContentSequence);
    ASSERT_NE(nullptr, walked) << i;
  }
  EXPECT_EQ("TEXT", GetString(*walked, DCM_ValueType));
  EXPECT_EQ("REMOVED", GetString(*walked, DCM_TextValue));
}
