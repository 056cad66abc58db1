// Clean Descriptors (PS3.15 E.3.5) for the C attributes of Table E.1-1 that
// are not plain text (DescriptorSequenceCleaning.cpp): code sequences keep
// their coded concepts with cleaned meanings, private codes with identifying
// meanings go, request and notes items are cleaned, OB values are removed.

#include "DeidentifierTestSupport.h"

#include "Engine/TextCleaner.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvrobow.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  const DcmTagKey CODE_SEQUENCES[] = {
    DcmTagKey(0x0008, 0x1084),   // Admitting Diagnoses Code Sequence
    DcmTagKey(0x0032, 0x1067),   // Reason for Visit Code Sequence
    DcmTagKey(0x0040, 0x100A),   // Reason for Requested Procedure Code Sequence
    DcmTagKey(0x0008, 0x1301),   // Principal Diagnosis Code Sequence
    DcmTagKey(0x0008, 0x1302),   // Primary Diagnosis Code Sequence
    DcmTagKey(0x0008, 0x1303),   // Secondary Diagnoses Code Sequence
    DcmTagKey(0x0008, 0x1304),   // Histological Diagnoses Code Sequence
  };
  const DcmTagKey REQUEST_ATTRIBUTES(0x0040, 0x0275);
  const DcmTagKey PRESCRIPTION_NOTES_SEQUENCE(0x3010, 0x0081);
  const DcmTagKey PRESCRIPTION_NOTES(0x3010, 0x007B);
  const DcmTagKey MAKER_NOTE(0x0016, 0x002B);
  const DcmTagKey DEVICE_SETTING_DESCRIPTION(0x0016, 0x004B);

  DcmSequenceOfItems& AddSequence(DcmItem& parent, const DcmTagKey& key)
  {
    DcmSequenceOfItems* sequence = new DcmSequenceOfItems(DcmTag(key, EVR_SQ));
    EXPECT_TRUE(parent.insert(sequence, true).good());
    return *sequence;
  }

  DcmItem& AddCode(DcmSequenceOfItems& sequence, const char* value, const char* scheme, const char* meaning)
  {
    DcmItem* item = new DcmItem;
    item->putAndInsertString(DCM_CodeValue, value);
    item->putAndInsertString(DCM_CodingSchemeDesignator, scheme);
    item->putAndInsertString(DCM_CodeMeaning, meaning);
    sequence.insert(item);
    return *item;
  }

  // Every code sequence: SCT Pneumonia with the patient in its meaning, and
  // a private code whose meaning is the patient's name.
  void AddCodeSequence(DcmItem& parent, const DcmTagKey& key)
  {
    DcmSequenceOfItems& sequence = AddSequence(parent, key);
    AddCode(sequence, "233604007", "SCT", "Pneumonia Doe John PID-12345 1970-03-05");
    AddCode(sequence, "X1", "99HOSP", "Doe^John");
  }

  std::unique_ptr<DcmFileFormat> MakeDescriptorInstance()
  {
    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    ds.putAndInsertString(DCM_PatientBirthDate, "19700305");
    for (const DcmTagKey& key : CODE_SEQUENCES)
    {
      AddCodeSequence(ds, key);
    }

    DcmSequenceOfItems& request = AddSequence(ds, REQUEST_ATTRIBUTES);
    DcmItem* item = new DcmItem;
    item->putAndInsertString(DCM_RequestedProcedureID, "PID-12345");
    item->putAndInsertString(DCM_ScheduledProcedureStepDescription, "CHEST CONTRAST Doe");
    item->putAndInsertString(DCM_RequestedProcedureDescription, "John Doe 1970-03-05");
    AddCodeSequence(*item, DCM_ReasonForRequestedProcedureCodeSequence);
    request.insert(item);
    DcmItem* onlyName = new DcmItem;   // unlisted text that cannot be cleaned: nothing left
    onlyName->putAndInsertString(DCM_RequestedProcedurePriority, "Doe John");
    request.insert(onlyName);

    DcmSequenceOfItems& notes = AddSequence(ds, PRESCRIPTION_NOTES_SEQUENCE);
    DcmItem* note = new DcmItem;
    DcmElement* text = nullptr;
    DcmItem::newDicomElementWithVR(text, DcmTag(PRESCRIPTION_NOTES, EVR_LT));
    text->putString("Dose CHECK for John Doe PID-12345 1970-03-05");
    note->insert(text);
    notes.insert(note);

    const Uint8 vendor[] = "Doe^John 19700305";
    for (const DcmTagKey& key : { MAKER_NOTE, DEVICE_SETTING_DESCRIPTION })
    {
      DcmOtherByteOtherWord* ob = new DcmOtherByteOtherWord(DcmTag(key, EVR_OB));
      ob->putUint8Array(vendor, sizeof(vendor) - 1);
      ds.insert(ob, true);
    }
    return file;
  }

  std::string Serialize(DcmFileFormat& file)
  {
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("descseq-" + std::to_string(getpid()) + ".dcm")).string();
    EXPECT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::remove(path.c_str());
    return bytes.str();
  }

  void ExpectNoPatient(const std::string& bytes)
  {
    for (const char* word : { "Doe", "DOE", "doe", "John", "JOHN", "john", "12345", "1970", "99HOSP" })
    {
      EXPECT_EQ(std::string::npos, bytes.find(word)) << word;
    }
  }

  DeidentificationResult Deidentify(DcmFileFormat& file, ITextCleaner& cleaner, const OptionSet& options)
  {
    Providers p;
    p.context.textCleaner = &cleaner;
    auto profile = MakeProfile(options);
    DeidentificationSettings settings;
    settings.recordChanges = true;
    return Deidentifier(*profile).Apply(file, p.context, settings);
  }

  bool HasReason(const DeidentificationResult& result, const std::string& tag, const std::string& action,
                 const std::string& reason)
  {
    for (const ElementChange& change : result.changes)
    {
      if (change.tag == tag && change.action == action && change.reason.find(reason) != std::string::npos)
      {
        return true;
      }
    }
    return false;
  }
}

TEST(DescriptorSequenceCleaning, CodesKeptMeaningsCleanedPatientGone)
{
  auto file = MakeDescriptorInstance();
  VocabularyTextCleaner cleaner;
  DeidentificationResult result = Deidentify(*file, cleaner, OptionSet{ Option::CleanDescriptors });
  DcmDataset& ds = *file->getDataset();

  for (const DcmTagKey& key : CODE_SEQUENCES)
  {
    DcmSequenceOfItems* sequence = nullptr;
    ASSERT_TRUE(ds.findAndGetSequence(key, sequence).good() && sequence != nullptr) << DcmTag(key).toString();
    ASSERT_EQ(1u, sequence->card()) << DcmTag(key).toString();   // the private code went
    DcmItem& item = *sequence->getItem(0);
    EXPECT_EQ("233604007", GetString(item, DCM_CodeValue));
    EXPECT_EQ("SCT", GetString(item, DCM_CodingSchemeDesignator));
    EXPECT_EQ("Pneumonia", GetString(item, DCM_CodeMeaning));
  }

  DcmItem* request = GetItem(ds, REQUEST_ATTRIBUTES);
  ASSERT_NE(nullptr, request);
  DcmSequenceOfItems* requestSequence = nullptr;
  ASSERT_TRUE(ds.findAndGetSequence(REQUEST_ATTRIBUTES, requestSequence).good());
  EXPECT_EQ(1u, requestSequence->card());   // the item left empty went
  // Type 1C in the CT's Request Attributes Sequence: the profile's dummy.
  EXPECT_NE("PID-12345", GetString(*request, DCM_RequestedProcedureID));
  EXPECT_EQ("CHEST CONTRAST", GetString(*request, DCM_ScheduledProcedureStepDescription));
  DcmItem* reason = GetItem(*request, DCM_ReasonForRequestedProcedureCodeSequence);
  ASSERT_NE(nullptr, reason);
  EXPECT_EQ("233604007", GetString(*reason, DCM_CodeValue));

  DcmItem* note = GetItem(ds, PRESCRIPTION_NOTES_SEQUENCE);
  ASSERT_NE(nullptr, note);
  EXPECT_EQ("Dose CHECK for", GetString(*note, PRESCRIPTION_NOTES));

  EXPECT_FALSE(Has(ds, MAKER_NOTE));
  EXPECT_FALSE(Has(ds, DEVICE_SETTING_DESCRIPTION));
  EXPECT_TRUE(HasReason(result, "(0016,002B)", "X", "C: binary value cannot be cleaned"));
  EXPECT_TRUE(HasReason(result, "(0016,004B)", "X", "C: binary value cannot be cleaned"));
  EXPECT_TRUE(HasReason(result, "(0008,1084)", "X", "C: private code whose meaning cannot be cleaned"));
  EXPECT_TRUE(HasReason(result, "(0008,0104)", "C", "identifying value"));

  // Reasons name categories, never values.
  for (const ElementChange& change : result.changes)
  {
    EXPECT_EQ(std::string::npos, change.reason.find("Doe")) << change.tag;
    EXPECT_EQ(std::string::npos, change.reason.find("12345")) << change.tag;
  }
  ExpectNoPatient(Serialize(*file));
}

TEST(DescriptorSequenceCleaning, CleanerThatCannotCleanKeepsCodesWithNeutralMeaning)
{
  // The engine's ConservativeTextCleaner cleans nothing: standard codes keep
  // their value as meaning (Type 1), private ones go.
  auto file = MakeDescriptorInstance();
  ConservativeTextCleaner cleaner;
  Deidentify(*file, cleaner, OptionSet{ Option::CleanDescriptors });
  DcmDataset& ds = *file->getDataset();
  for (const DcmTagKey& key : CODE_SEQUENCES)
  {
    DcmSequenceOfItems* sequence = nullptr;
    ASSERT_TRUE(ds.findAndGetSequence(key, sequence).good() && sequence != nullptr);
    ASSERT_EQ(1u, sequence->card());
    EXPECT_EQ("233604007", GetString(*sequence->getItem(0), DCM_CodeMeaning));
  }
  EXPECT_FALSE(Has(ds, MAKER_NOTE));
  ExpectNoPatient(Serialize(*file));
}

TEST(DescriptorSequenceCleaning, SequenceWithNothingLeftIsRemoved)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  DcmSequenceOfItems& sequence = AddSequence(ds, CODE_SEQUENCES[0]);
  AddCode(sequence, "X1", "99HOSP", "Doe^John");
  VocabularyTextCleaner cleaner;
  DeidentificationResult result = Deidentify(*file, cleaner, OptionSet{ Option::CleanDescriptors });
  EXPECT_FALSE(Has(ds, CODE_SEQUENCES[0]));
  EXPECT_TRUE(HasReason(result, "(0008,1084)", "X", "C: no item left after cleaning"));
}

TEST(DescriptorSequenceCleaning, BasicProfileWithoutTheOptionRemovesThem)
{
  auto file = MakeDescriptorInstance();
  VocabularyTextCleaner cleaner;
  Deidentify(*file, cleaner, OptionSet());
  DcmDataset& ds = *file->getDataset();
  for (const DcmTagKey& key : CODE_SEQUENCES)
  {
    EXPECT_FALSE(Has(ds, key)) << DcmTag(key).toString();
  }
  EXPECT_FALSE(Has(ds, REQUEST_ATTRIBUTES));
  EXPECT_FALSE(Has(ds, MAKER_NOTE));
  EXPECT_FALSE(Has(ds, DEVICE_SETTING_DESCRIPTION));
  DcmSequenceOfItems* notes = nullptr;   // Z: emptied
  ASSERT_TRUE(ds.findAndGetSequence(PRESCRIPTION_NOTES_SEQUENCE, notes).good() && notes != nullptr);
  EXPECT_EQ(0u, notes->card());
  ExpectNoPatient(Serialize(*file));
}
