// Tests of the de-identification engine (PS3.15 E.1, E.3) on data sets built in code.
#include "DeidentifierTestSupport.h"

#include "Engine/DeidError.h"
#include "Engine/DummyValues.h"

#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcvrobow.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  // A cleaner that always succeeds: text becomes "CLEANED", sequences are
  // declared clean (their items are then processed by the profile rules).
  class AcceptingCleaner : public ITextCleaner
  {
  public:
    std::vector<Option> textOptions;
    std::vector<Option> sequenceOptions;

    bool CleanText(const CleaningContext& context, std::string& value) override
    {
      textOptions.push_back(context.chosenBy);
      value = "CLEANED";
      return true;
    }

    bool CleanSequence(const CleaningContext& context, DcmItem&) override
    {
      sequenceOptions.push_back(context.chosenBy);
      return true;
    }
  };

  DeidentificationResult Deidentify(const OptionSet& options, DcmFileFormat& file, Providers& p,
                             bool record = false, bool originals = false)
  {
    auto profile = MakeProfile(options);
    Deidentifier deid(*profile);
    DeidentificationSettings settings;
    settings.recordChanges = record;
    settings.collectOriginals = originals;
    return deid.Apply(file, p.context, settings);
  }

  DcmEVR GetVR(DcmItem& item, const DcmTagKey& key)
  {
    DcmElement* e = nullptr;
    if (item.findAndGetElement(key, e, OFFalse).bad() || e == nullptr)
    {
      return EVR_UNKNOWN;
    }
    return e->ident();
  }

  void PutUN(DcmItem& item, const DcmTagKey& key, const std::string& bytes)
  {
    DcmOtherByteOtherWord* un = new DcmOtherByteOtherWord(DcmTag(key, DcmVR(EVR_UN)));
    std::string padded = bytes;
    if (padded.size() % 2 != 0)
    {
      padded.push_back(' ');
    }
    un->putUint8Array(reinterpret_cast<const Uint8*>(padded.data()), static_cast<unsigned long>(padded.size()));
    ASSERT_TRUE(item.insert(un, OFTrue).good());
  }

  // Round trip through the Part 10 encoding.
  std::unique_ptr<DcmFileFormat> RoundTrip(DcmFileFormat& file)
  {
    std::string bytes = WriteDicom(file);
    return ParseDicom(bytes.data(), bytes.size());
  }
}


// ---------------------------------------------------------------------------
// Action codes of Table E.1-1a, Basic Profile

TEST(Deidentifier, ActionX_RemovesAttributeAndSequence)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_InstitutionAddress, "1 Main Street");        // X
  ds.putAndInsertString(DCM_RETIRED_OtherPatientIDs, "OTHER-1");                 // X
  AddItem(ds, DCM_RequestAttributesSequence).putAndInsertString(DCM_RequestedProcedureID, "RP1");   // X (sequence)
  Deidentify(OptionSet(), *file, p);
  EXPECT_FALSE(Has(ds, DCM_InstitutionAddress));
  EXPECT_FALSE(Has(ds, DCM_RETIRED_OtherPatientIDs));
  EXPECT_FALSE(Has(ds, DCM_RequestAttributesSequence));
}

TEST(Deidentifier, ActionZ_EmptiesValue)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_AccessionNumber, "ACC-778899");   // Z
  ds.putAndInsertString(DCM_PatientBirthDate, "19700405");    // Z
  ds.putAndInsertString(DCM_StudyID, "STUDY-42");             // Z
  Deidentify(OptionSet(), *file, p);
  EXPECT_EQ("", GetString(ds, DCM_AccessionNumber));
  EXPECT_EQ("", GetString(ds, DCM_PatientBirthDate));
  EXPECT_EQ("", GetString(ds, DCM_StudyID));
  EXPECT_EQ(EVR_DA, GetVR(ds, DCM_PatientBirthDate));
}

TEST(Deidentifier, ActionD_DummyConsistentWithVR)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_PersonName, "Smith^Jane");                 // D, PN
  const Uint8 ob[4] = { 1, 2, 3, 4 };
  ds.putAndInsertUint8Array(DCM_SelectorOBValue, ob, 4);               // D, OB
  ds.putAndInsertString(DCM_VerifyingOrganization, "Hospital X");      // D, LO
  Deidentify(OptionSet(), *file, p);
  EXPECT_EQ("ANONYMOUS", GetString(ds, DCM_PersonName));
  EXPECT_EQ("ANONYMOUS", GetString(ds, DCM_VerifyingOrganization));
  DcmElement* e = nullptr;
  ASSERT_TRUE(ds.findAndGetElement(DCM_SelectorOBValue, e).good());
  EXPECT_EQ(2u, e->getLength());
  Uint8* bytes = nullptr;
  ASSERT_TRUE(e->getUint8Array(bytes).good());
  EXPECT_EQ(0, bytes[0]);
  EXPECT_EQ(0, bytes[1]);
}

TEST(Deidentifier, ActionU_ReplacesUidsConsistently)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_FrameOfReferenceUID, "1.2.3.4.5.6.7.9");   // U
  DcmItem& ref = AddItem(ds, DCM_ReferencedImageSequence);              // X/Z/U*
  ref.putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
  ref.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.100");   // the instance itself
  Deidentify(OptionSet(), *file, p);

  const std::string sop = GetString(ds, DCM_SOPInstanceUID);
  EXPECT_NE("1.2.3.4.5.6.7.100", sop);
  EXPECT_EQ(0u, sop.find("2.25."));
  EXPECT_NE("1.2.3.4.5.6.7.1", GetString(ds, DCM_StudyInstanceUID));
  EXPECT_NE("1.2.3.4.5.6.7.9", GetString(ds, DCM_FrameOfReferenceUID));
  EXPECT_EQ(p.uids.MapUid("1.2.3.4.5.6.7.9"), GetString(ds, DCM_FrameOfReferenceUID));

  // E.1: references follow the referenced instance; the SOP Class is structural.
  DcmItem* item = GetItem(ds, DCM_ReferencedImageSequence);
  ASSERT_NE(nullptr, item);
  EXPECT_EQ(sop, GetString(*item, DCM_ReferencedSOPInstanceUID));
  EXPECT_EQ(UID_CTImageStorage, GetString(*item, DCM_ReferencedSOPClassUID));
  EXPECT_EQ(UID_CTImageStorage, GetString(ds, DCM_SOPClassUID));

  // File meta: the new SOP Instance UID.
  EXPECT_EQ(sop, GetString(*file->getMetaInfo(), DCM_MediaStorageSOPInstanceUID));
}

TEST(Deidentifier, UidsConsistentAcrossInstancesOfOneOperation)
{
  Providers p;
  auto a = MakeFile();
  auto b = MakeFile();
  b->getDataset()->putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6.7.101");
  AddItem(*b->getDataset(), DCM_SourceImageSequence).putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.100");
  Deidentify(OptionSet(), *a, p);
  Deidentify(OptionSet(), *b, p);
  EXPECT_EQ(GetString(*a->getDataset(), DCM_StudyInstanceUID), GetString(*b->getDataset(), DCM_StudyInstanceUID));
  EXPECT_NE(GetString(*a->getDataset(), DCM_SOPInstanceUID), GetString(*b->getDataset(), DCM_SOPInstanceUID));
  DcmItem* item = GetItem(*b->getDataset(), DCM_SourceImageSequence);
  ASSERT_NE(nullptr, item);
  EXPECT_EQ(GetString(*a->getDataset(), DCM_SOPInstanceUID), GetString(*item, DCM_ReferencedSOPInstanceUID));
  EXPECT_EQ(GetString(*a->getDataset(), DCM_PatientID), GetString(*b->getDataset(), DCM_PatientID));
}

TEST(Deidentifier, ActionZD_PatientIdGetsPseudonym)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_IssuerOfPatientID, "HOSPITAL-A");   // X
  Deidentify(OptionSet(), *file, p);

  PatientKey key;
  key.patientId = "PID-12345";
  key.issuerOfPatientId = "HOSPITAL-A";
  key.patientName = "Doe^John";
  Pseudonym expected = p.pseudonyms.GetPseudonym(key);   // from the ORIGINAL values
  EXPECT_EQ(expected.patientId, GetString(ds, DCM_PatientID));        // Z/D
  EXPECT_EQ(expected.patientName, GetString(ds, DCM_PatientName));    // Z
  EXPECT_NE("PID-12345", GetString(ds, DCM_PatientID));
  EXPECT_FALSE(Has(ds, DCM_IssuerOfPatientID));
}

TEST(Deidentifier, ActionZD_DummyOrEmpty)
{
  Providers p;
  auto file = MakeFile(NO_IOD_DATA_SOP_CLASS);
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_ContentDate, "20200315");   // Z/D -> D
  Deidentify(OptionSet(), *file, p);
  EXPECT_EQ("19000101", GetString(ds, DCM_ContentDate));

  auto empty = MakeFile(NO_IOD_DATA_SOP_CLASS);
  empty->getDataset()->putAndInsertString(DCM_ContentDate, "");   // Z/D on empty -> Z
  Deidentify(OptionSet(), *empty, p);
  EXPECT_EQ("", GetString(*empty->getDataset(), DCM_ContentDate));
}

TEST(Deidentifier, ActionXZ_KeepsAttributeEmpty)
{
  Providers p;
  auto file = MakeFile(NO_IOD_DATA_SOP_CLASS);
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_ReviewerName, "Reviewer^Rita");   // X/Z
  Deidentify(OptionSet(), *file, p);
  EXPECT_TRUE(Has(ds, DCM_ReviewerName));
  EXPECT_EQ("", GetString(ds, DCM_ReviewerName));
}

TEST(Deidentifier, ActionXD_DummyOrEmpty)
{
  Providers p;
  auto file = MakeFile(NO_IOD_DATA_SOP_CLASS);
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_SeriesDate, "20200315");          // X/D
  ds.putAndInsertString(DCM_InstanceCreationDate, "");        // X/D, empty -> Z
  Deidentify(OptionSet(), *file, p);
  EXPECT_EQ("19000101", GetString(ds, DCM_SeriesDate));
  EXPECT_EQ("", GetString(ds, DCM_InstanceCreationDate));
}

TEST(Deidentifier, ActionXZD_Dummy)
{
  Providers p;
  auto file = MakeFile(NO_IOD_DATA_SOP_CLASS);
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_InstitutionName, "St. Elsewhere");   // X/Z/D
  ds.putAndInsertString(DCM_StationName, "CT-ROOM-3");           // X/Z/D
  ds.putAndInsertString(DCM_AcquisitionDateTime, "20200315101112.5+0100");   // X/Z/D, DT
  Deidentify(OptionSet(), *file, p);
  EXPECT_EQ("ANONYMOUS", GetString(ds, DCM_InstitutionName));
  EXPECT_EQ("ANONYMOUS", GetString(ds, DCM_StationName));
  EXPECT_EQ("19000101000000", GetString(ds, DCM_AcquisitionDateTime));
}

TEST(Deidentifier, ActionXZU_KeepsSequenceAndReplacesContainedUids)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  DcmItem& item = AddItem(ds, DCM_SourceImageSequence);   // X/Z/U*
  item.putAndInsertString(DCM_ReferencedSOPClassUID, UID_MRImageStorage);
  item.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.55");
  item.putAndInsertString(DCM_ReferencedFrameNumber, "3");
  Deidentify(OptionSet(), *file, p);
  ASSERT_EQ(1u, CountItems(ds, DCM_SourceImageSequence));
  DcmItem* after = GetItem(ds, DCM_SourceImageSequence);
  EXPECT_EQ(p.uids.MapUid("1.2.3.4.5.6.7.55"), GetString(*after, DCM_ReferencedSOPInstanceUID));
  EXPECT_EQ(UID_MRImageStorage, GetString(*after, DCM_ReferencedSOPClassUID));
  EXPECT_EQ("3", GetString(*after, DCM_ReferencedFrameNumber));
}

TEST(Deidentifier, ActionK_ViaOptionAndUnlistedAttributesKept)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_SliceThickness, "1.25");   // not in Table E.1-1
  Deidentify(OptionSet{ Option::RetainUIDs }, *file, p);      // U -> K
  EXPECT_EQ("1.2.3.4.5.6.7.100", GetString(ds, DCM_SOPInstanceUID));
  EXPECT_EQ("1.2.3.4.5.6.7.1", GetString(ds, DCM_StudyInstanceUID));
  EXPECT_EQ("1.2.3.4.5.6.7.100", GetString(*file->getMetaInfo(), DCM_MediaStorageSOPInstanceUID));
  EXPECT_EQ("1.25", GetString(ds, DCM_SliceThickness));
  EXPECT_EQ("CT", GetString(ds, DCM_Modality));
}

TEST(Deidentifier, ActionC_CleanerResultOrBasicFallback)
{
  // Accepted by the cleaner: the cleaned value.
  {
    Providers p;
    AcceptingCleaner cleaner;
    p.context.textCleaner = &cleaner;
    auto file = MakeFile();
    file->getDataset()->putAndInsertString(DCM_StudyDescription, "CT chest - 55F Dr. Smith");   // X, Clean Desc C
    Deidentify(OptionSet{ Option::CleanDescriptors }, *file, p);
    EXPECT_EQ("CLEANED", GetString(*file->getDataset(), DCM_StudyDescription));
    ASSERT_EQ(1u, cleaner.textOptions.size());
    EXPECT_EQ(Option::CleanDescriptors, cleaner.textOptions[0]);
  }

  // The cleaner gives up: the Basic Profile action (X).
  {
    Providers p;
    auto file = MakeFile();
    file->getDataset()->putAndInsertString(DCM_StudyDescription, "CT chest - 55F Dr. Smith");
    Deidentify(OptionSet{ Option::CleanDescriptors }, *file, p);
    EXPECT_FALSE(Has(*file->getDataset(), DCM_StudyDescription));
  }
}


// ---------------------------------------------------------------------------
// The ten option columns of Table E.1-1

TEST(Deidentifier, OptionRetainSafePrivate)
{
  auto build = []()
  {
    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    // Table E.3.10-1: (7053,xx00) SUV Factor of "Philips PET Private Group".
    ds.putAndInsertString(DcmTag(0x7053, 0x0010, EVR_LO), "Philips PET Private Group");
    ds.putAndInsertString(DcmTag(0x7053, 0x1000, EVR_DS), "1.2345");
    ds.putAndInsertString(DcmTag(0x7053, 0x1001, EVR_LO), "Doe^John private copy");   // not listed
    // The same element numbers under another creator: not safe.
    ds.putAndInsertString(DcmTag(0x7053, 0x0011, EVR_LO), "ACME Unsafe Group");
    ds.putAndInsertString(DcmTag(0x7053, 0x1100, EVR_DS), "9.876");
    // Private sequences: with only unsafe content, and with a safe element
    // and a standard attribute inside.
    ds.putAndInsertString(DcmTag(0x0029, 0x0010, EVR_LO), "ACME Sequence Group");
    DcmItem* item = nullptr;
    ds.findOrCreateSequenceItem(DcmTag(0x0029, 0x1010, EVR_SQ), item, -2);
    item->putAndInsertString(DcmTag(0x0029, 0x0010, EVR_LO), "ACME Sequence Group");
    item->putAndInsertString(DcmTag(0x0029, 0x1001, EVR_LO), "Doe^John");
    ds.findOrCreateSequenceItem(DcmTag(0x0029, 0x1011, EVR_SQ), item, -2);
    item->putAndInsertString(DCM_PatientName, "Doe^John");
    item->putAndInsertString(DCM_InstitutionAddress, "1 Main Street");
    item->putAndInsertString(DcmTag(0x7053, 0x0010, EVR_LO), "Philips PET Private Group");
    item->putAndInsertString(DcmTag(0x7053, 0x1009, EVR_DS), "0.5");
    return file;
  };

  {
    Providers p;
    auto file = build();
    DcmDataset& ds = *file->getDataset();
    Deidentify(OptionSet{ Option::RetainSafePrivate }, *file, p);
    EXPECT_EQ("Philips PET Private Group", GetString(ds, DcmTagKey(0x7053, 0x0010)));
    EXPECT_EQ("1.2345", GetString(ds, DcmTagKey(0x7053, 0x1000)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x7053, 0x1001)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x7053, 0x0011)));   // creator of a block with nothing kept
    EXPECT_FALSE(Has(ds, DcmTagKey(0x7053, 0x1100)));
    // E.3.10: private sequences are parsed, their content handled on its own merits.
    EXPECT_FALSE(Has(ds, DcmTagKey(0x0029, 0x1010)));   // nothing left inside: removed
    ASSERT_TRUE(Has(ds, DcmTagKey(0x0029, 0x1011)));
    EXPECT_EQ("ACME Sequence Group", GetString(ds, DcmTagKey(0x0029, 0x0010)));
    DcmItem* inner = GetItem(ds, DcmTagKey(0x0029, 0x1011));
    ASSERT_NE(nullptr, inner);
    EXPECT_EQ(GetString(ds, DCM_PatientName), GetString(*inner, DCM_PatientName));
    EXPECT_NE("Doe^John", GetString(*inner, DCM_PatientName));
    EXPECT_FALSE(Has(*inner, DCM_InstitutionAddress));
    EXPECT_EQ("0.5", GetString(*inner, DcmTagKey(0x7053, 0x1009)));
  }

  {
    Providers p;
    auto file = build();
    DcmDataset& ds = *file->getDataset();
    Deidentify(OptionSet(), *file, p);   // Basic Profile: every private attribute removed
    for (unsigned long i = 0; i < ds.card(); i++)
    {
      EXPECT_EQ(0, ds.getElement(i)->getTag().getGroup() & 1) << ds.getElement(i)->getTag().toString();
    }
  }
}

TEST(Deidentifier, SafePrivateReadAsUnKeepsValueWithRealVR)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DcmTag(0x7053, 0x0010, EVR_LO), "Philips PET Private Group");
  ds.putAndInsertString(DcmTag(0x7053, 0x1000, EVR_DS), "1.2345");
  ds.putAndInsertString(DcmTag(0x7053, 0x1001, EVR_LO), "Doe^John private copy");
  std::string path = ::testing::TempDir() + "/deid-private-implicit.dcm";
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianImplicit).good());
  auto read = ReadDicomFile(path);
  std::remove(path.c_str());
  ASSERT_EQ(EVR_UN, NormalizeVR(GetVR(*read->getDataset(), DcmTagKey(0x7053, 0x1000))));   // implicit VR, unknown to DCMTK

  Providers p;
  Deidentify(OptionSet{ Option::RetainSafePrivate }, *read, p);
  DcmDataset& out = *read->getDataset();
  EXPECT_EQ("1.2345", GetString(out, DcmTagKey(0x7053, 0x1000)));
  EXPECT_EQ(EVR_DS, GetVR(out, DcmTagKey(0x7053, 0x1000)));
  EXPECT_FALSE(Has(out, DcmTagKey(0x7053, 0x1001)));
  EXPECT_EQ("Philips PET Private Group", GetString(out, DcmTagKey(0x7053, 0x0010)));
}

TEST(Deidentifier, OptionRetainUIDs)
{
  Providers p;
  auto file = MakeFile();
  file->getDataset()->putAndInsertString(DCM_FrameOfReferenceUID, "1.2.3.4.5.6.7.9");
  Deidentify(OptionSet{ Option::RetainUIDs }, *file, p);
  EXPECT_EQ("1.2.3.4.5.6.7.9", GetString(*file->getDataset(), DCM_FrameOfReferenceUID));
  EXPECT_EQ("1.2.3.4.5.6.7.100", GetString(*file->getDataset(), DCM_SOPInstanceUID));
}

TEST(Deidentifier, OptionRetainDeviceIdentity)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_DeviceSerialNumber, "SN-0042");   // X/Z/D -> K
  ds.putAndInsertString(DCM_StationName, "CT-ROOM-3");        // X/Z/D -> K
  ds.putAndInsertString(DCM_StationAETitle, "CTROOM3");       // X -> C (conservative cleaner: X)
  Deidentify(OptionSet{ Option::RetainDeviceIdentity }, *file, p);
  EXPECT_EQ("SN-0042", GetString(ds, DCM_DeviceSerialNumber));
  EXPECT_EQ("CT-ROOM-3", GetString(ds, DCM_StationName));
  EXPECT_FALSE(Has(ds, DCM_StationAETitle));

  Providers q;
  AcceptingCleaner cleaner;
  q.context.textCleaner = &cleaner;
  auto other = MakeFile();
  other->getDataset()->putAndInsertString(DCM_StationAETitle, "CTROOM3");
  Deidentify(OptionSet{ Option::RetainDeviceIdentity }, *other, q);
  EXPECT_EQ("CLEANED", GetString(*other->getDataset(), DCM_StationAETitle));
  ASSERT_EQ(1u, cleaner.textOptions.size());
  EXPECT_EQ(Option::RetainDeviceIdentity, cleaner.textOptions[0]);
}

TEST(Deidentifier, OptionRetainInstitutionIdentity)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_InstitutionName, "St. Elsewhere");        // X/Z/D -> K
  ds.putAndInsertString(DCM_InstitutionAddress, "1 Main Street");     // X -> K
  Deidentify(OptionSet{ Option::RetainInstitutionIdentity }, *file, p);
  EXPECT_EQ("St. Elsewhere", GetString(ds, DCM_InstitutionName));
  EXPECT_EQ("1 Main Street", GetString(ds, DCM_InstitutionAddress));
}

TEST(Deidentifier, OptionRetainPatientCharacteristics)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_PatientSex, "F");        // Z -> K
  ds.putAndInsertString(DCM_PatientWeight, "61.5");  // X -> K
  ds.putAndInsertString(DCM_PatientAge, "055Y");     // X -> K
  ds.putAndInsertString(DCM_PatientBirthDate, "19700405");   // Z, no option cell
  Deidentify(OptionSet{ Option::RetainPatientCharacteristics }, *file, p);
  EXPECT_EQ("F", GetString(ds, DCM_PatientSex));
  EXPECT_EQ("61.5", GetString(ds, DCM_PatientWeight));
  EXPECT_EQ("055Y", GetString(ds, DCM_PatientAge));
  EXPECT_EQ("", GetString(ds, DCM_PatientBirthDate));

  Providers q;
  auto basic = MakeFile();
  basic->getDataset()->putAndInsertString(DCM_PatientSex, "F");
  basic->getDataset()->putAndInsertString(DCM_PatientWeight, "61.5");
  Deidentify(OptionSet(), *basic, q);
  EXPECT_EQ("", GetString(*basic->getDataset(), DCM_PatientSex));
  EXPECT_FALSE(Has(*basic->getDataset(), DCM_PatientWeight));
}

TEST(Deidentifier, OptionRetainLongitudinalFullDates)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_StudyDate, "20200315");   // Z -> K
  ds.putAndInsertString(DCM_StudyTime, "101112");     // Z -> K
  ds.putAndInsertString(DCM_SeriesDate, "20200316"); // X/D -> K
  Deidentify(OptionSet{ Option::RetainLongitudinalFullDates }, *file, p);
  EXPECT_EQ("20200315", GetString(ds, DCM_StudyDate));
  EXPECT_EQ("101112", GetString(ds, DCM_StudyTime));
  EXPECT_EQ("20200316", GetString(ds, DCM_SeriesDate));
  EXPECT_EQ("UNMODIFIED", GetString(ds, DCM_LongitudinalTemporalInformationModified));
}

TEST(Deidentifier, OptionRetainLongitudinalModifiedDates)
{
  Providers p(-10);
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_StudyDate, "20200305");                     // Z -> C: shift
  ds.putAndInsertString(DCM_SeriesDate, "20200310");                    // X/D -> C
  ds.putAndInsertString(DCM_StudyTime, "101112.123");                   // TM: kept
  ds.putAndInsertString(DCM_AcquisitionDateTime, "20200301235959.5-0500");   // DT with time zone
  ds.putAndInsertString(DCM_InstanceCreationDate, "20200101");         // across a year boundary
  DcmItem& item = AddItem(ds, DCM_ReferencedSeriesSequence);            // not listed: recursed
  item.putAndInsertString(DCM_SeriesDate, "20200229");                  // leap day, in a sequence
  Deidentify(OptionSet{ Option::RetainLongitudinalModifiedDates }, *file, p);

  EXPECT_EQ("20200224", GetString(ds, DCM_StudyDate));
  EXPECT_EQ("20200229", GetString(ds, DCM_SeriesDate));   // interval of 5 days kept
  EXPECT_EQ("101112.123", GetString(ds, DCM_StudyTime));
  EXPECT_EQ("20200220235959.5-0500", GetString(ds, DCM_AcquisitionDateTime));
  EXPECT_EQ("20191222", GetString(ds, DCM_InstanceCreationDate));
  EXPECT_EQ("20200219", GetString(*GetItem(ds, DCM_ReferencedSeriesSequence), DCM_SeriesDate));
  EXPECT_EQ("MODIFIED", GetString(ds, DCM_LongitudinalTemporalInformationModified));
}

TEST(Deidentifier, DateShiftPartialPrecisionAndBadDates)
{
  Providers p(40);
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_AcquisitionDateTime, "202003");     // DT, month precision
  ds.putAndInsertString(DCM_StudyDate, "not-a-date");           // invalid: Basic action (Z)
  ds.putAndInsertString(DCM_SeriesDate, "20200315\\20200316");  // VM 2
  Deidentify(OptionSet{ Option::RetainLongitudinalModifiedDates }, *file, p);
  EXPECT_EQ("202004", GetString(ds, DCM_AcquisitionDateTime));
  EXPECT_EQ("", GetString(ds, DCM_StudyDate));
  EXPECT_EQ("20200424\\20200425", GetString(ds, DCM_SeriesDate));
}

TEST(Deidentifier, OptionCleanDescriptors)
{
  Providers p;
  AcceptingCleaner cleaner;
  p.context.textCleaner = &cleaner;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_SeriesDescription, "T1 axial for Dr. Who");   // X -> C
  ds.putAndInsertString(DCM_RETIRED_OtherPatientIDs, "OTHER-1");                  // X, no cell: removed
  Deidentify(OptionSet{ Option::CleanDescriptors }, *file, p);
  EXPECT_EQ("CLEANED", GetString(ds, DCM_SeriesDescription));
  EXPECT_FALSE(Has(ds, DCM_RETIRED_OtherPatientIDs));
}

TEST(Deidentifier, OptionCleanStructuredContent)
{
  auto build = []()
  {
    auto file = MakeFile();
    DcmItem& content = AddItem(*file->getDataset(), DCM_ContentSequence);   // D -> C
    content.putAndInsertString(DCM_ValueType, "PNAME");
    content.putAndInsertString(DCM_PersonName, "Observer^Olga");              // D inside
    content.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.77");   // U inside
    return file;
  };

  {
    Providers p;
    AcceptingCleaner cleaner;
    p.context.textCleaner = &cleaner;
    auto file = build();
    Deidentify(OptionSet{ Option::CleanStructuredContent }, *file, p);
    EXPECT_TRUE(cleaner.sequenceOptions.empty());   // the engine walks the tree (StructuredContentCleaning.cpp)
    DcmItem* item = GetItem(*file->getDataset(), DCM_ContentSequence);
    ASSERT_NE(nullptr, item);
    EXPECT_EQ("PNAME", GetString(*item, DCM_ValueType));
    EXPECT_EQ("ANONYMOUS^1", GetString(*item, DCM_PersonName));    // a name of the tree, consistent in the instance
    EXPECT_EQ(p.uids.MapUid("1.2.3.4.5.6.7.77"), GetString(*item, DCM_ReferencedSOPInstanceUID));
  }

  {
    Providers p;   // conservative cleaner: the tree is still walked (only its text becomes "REMOVED")
    auto file = build();
    Deidentify(OptionSet{ Option::CleanStructuredContent }, *file, p);
    ASSERT_EQ(1u, CountItems(*file->getDataset(), DCM_ContentSequence));
    DcmItem* item = GetItem(*file->getDataset(), DCM_ContentSequence);
    ASSERT_NE(nullptr, item);
    EXPECT_EQ("PNAME", GetString(*item, DCM_ValueType));
    EXPECT_EQ("ANONYMOUS^1", GetString(*item, DCM_PersonName));
    EXPECT_EQ(p.uids.MapUid("1.2.3.4.5.6.7.77"), GetString(*item, DCM_ReferencedSOPInstanceUID));
  }
}

TEST(Deidentifier, OptionCleanGraphicsAndMasks)
{
  auto build = []()
  {
    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    const Uint8 overlay[8] = { 0xFF, 0, 0xFF, 0, 1, 2, 3, 4 };
    ds.putAndInsertUint16(DcmTagKey(0x6002, 0x0010), 2);                     // Overlay Rows: not listed
    ds.putAndInsertUint8Array(DcmTagKey(0x6002, 0x3000), overlay, 8);        // (60xx,3000) X / C
    ds.putAndInsertString(DcmTagKey(0x6002, 0x4000), "Patient Doe^John");    // (60xx,4000) X / C
    ds.putAndInsertString(DcmTagKey(0x6004, 0x4000), "Patient Doe^John");    // a group without Overlay Data
    ds.putAndInsertUint16(DcmTagKey(0x5004, 0x0005), 1);                     // (50xx,xxxx) X / C
    ds.putAndInsertUint8Array(DcmTagKey(0x5004, 0x3000), overlay, 8);
    return file;
  };

  {
    Providers p;   // Basic Profile: masks removed
    auto file = build();
    DcmDataset& ds = *file->getDataset();
    Deidentify(OptionSet(), *file, p);
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x0010)));   // the Overlay Plane goes whole with Overlay Data
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x3000)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6004, 0x4000)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x4000)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x5004, 0x0005)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x5004, 0x3000)));
  }

  {
    Providers p;   // Clean Graphics with a cleaner: the text is cleaned (GraphicsCleaningTests.cpp)
    AcceptingCleaner cleaner;
    p.context.textCleaner = &cleaner;
    auto file = build();
    DcmDataset& ds = *file->getDataset();
    Deidentify(OptionSet{ Option::CleanGraphics }, *file, p);
    EXPECT_EQ("CLEANED", GetString(ds, DcmTagKey(0x6004, 0x4000)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x4000)));   // an overlay that cannot be read: group removed
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x0010)));
    EXPECT_FALSE(Has(ds, DcmTagKey(0x6002, 0x3000)));
    EXPECT_TRUE(Has(ds, DcmTagKey(0x5004, 0x3000)));    // numeric Curve Data kept
    EXPECT_TRUE(Has(ds, DcmTagKey(0x5004, 0x0005)));
    ASSERT_FALSE(cleaner.textOptions.empty());
    EXPECT_EQ(Option::CleanGraphics, cleaner.textOptions[0]);
  }
}


// ---------------------------------------------------------------------------
// Option combinations (PS3.15 E.3)

TEST(Deidentifier, OptionConflicts)
{
  EXPECT_THROW(
    {
      try
      {
        MakeProfile(OptionSet{ Option::RetainLongitudinalFullDates, Option::RetainLongitudinalModifiedDates });
      }
      catch (DeidError& e)
      {
        EXPECT_EQ(ErrorCode::BadOption, e.GetCode());
        throw;
      }
    }, DeidError);

  // Every option makes a profile (CleanRecognizableVisualFeatures: DefacingTests.cpp).
  EXPECT_NO_THROW(MakeProfile(OptionSet{ Option::CleanRecognizableVisualFeatures }));

  // Device identity K against modified dates C: C (the date is shifted).
  auto profile = MakeProfile(OptionSet{ Option::RetainDeviceIdentity, Option::RetainLongitudinalModifiedDates });
  ResolvedAction r = profile->Resolve(DCM_DateOfLastCalibration);
  EXPECT_EQ(ActionCode::C, r.action);
  ASSERT_TRUE(r.chosenBy);
  EXPECT_EQ(Option::RetainLongitudinalModifiedDates, *r.chosenBy);
  EXPECT_EQ(ActionCode::K, profile->Resolve(DCM_DeviceSerialNumber).action);

  Providers p(1);
  auto file = MakeFile();
  file->getDataset()->putAndInsertString(DCM_DateOfLastCalibration, "20191231");
  Deidentify(OptionSet{ Option::RetainDeviceIdentity, Option::RetainLongitudinalModifiedDates }, *file, p);
  EXPECT_EQ("20200101", GetString(*file->getDataset(), DCM_DateOfLastCalibration));
}

TEST(Deidentifier, ProfileResolution)
{
  auto basic = MakeProfile();
  EXPECT_EQ(ActionCode::None, basic->Resolve(DCM_Modality).action);
  EXPECT_EQ(ActionCode::XZD, basic->Resolve(DCM_InstitutionName).action);
  EXPECT_FALSE(basic->Resolve(DCM_InstitutionName).chosenBy);
  EXPECT_EQ(ActionCode::X, basic->Resolve(DcmTagKey(0x5010, 0x1234)).action);    // curve mask
  EXPECT_EQ(ActionCode::X, basic->ResolvePrivate("Philips PET Private Group", DcmTagKey(0x7053, 0x1000)).action);

  auto safe = MakeProfile(OptionSet{ Option::RetainSafePrivate });
  EXPECT_EQ(ActionCode::C, safe->ResolvePrivate("Philips PET Private Group", DcmTagKey(0x7053, 0x1000)).action);
  EXPECT_EQ(ActionCode::C, safe->ResolvePrivate("Philips PET Private Group", DcmTagKey(0x7053, 0x1200)).action);
  EXPECT_EQ(ActionCode::X, safe->ResolvePrivate("Other Creator", DcmTagKey(0x7053, 0x1000)).action);
  EXPECT_EQ(ActionCode::X, safe->ResolvePrivate("", DcmTagKey(0x7053, 0x1000)).action);
}

TEST(Deidentifier, MethodAttributes)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  Deidentify(OptionSet{ Option::RetainUIDs, Option::CleanDescriptors }, *file, p);
  EXPECT_EQ("YES", GetString(ds, DCM_PatientIdentityRemoved));
  const std::string method = GetString(ds, DCM_DeidentificationMethod);
  EXPECT_NE(std::string::npos, method.find("Basic Profile"));
  EXPECT_NE(std::string::npos, method.find("CleanDescriptors"));
  EXPECT_NE(std::string::npos, method.find("RetainUIDs"));

  ASSERT_EQ(3u, CountItems(ds, DCM_DeidentificationMethodCodeSequence));
  const char* expected[] = { "113100", "113105", "113110" };   // CID 7050 order
  for (unsigned long i = 0; i < 3; i++)
  {
    DcmItem* item = GetItem(ds, DCM_DeidentificationMethodCodeSequence, i);
    EXPECT_EQ(expected[i], GetString(*item, DCM_CodeValue));
    EXPECT_EQ("DCM", GetString(*item, DCM_CodingSchemeDesignator));
    EXPECT_FALSE(GetString(*item, DCM_CodeMeaning).empty());
  }
  EXPECT_FALSE(Has(ds, DCM_LongitudinalTemporalInformationModified));
}


// ---------------------------------------------------------------------------
// D on a sequence (PS3.15 Table E.1-1a: "a non-zero length value that may be a
// dummy value and consistent with the VR"): same items, dummy contents

namespace
{
  void PutCode(DcmItem& item, const DcmTagKey& sequence, const char* value, const char* scheme, const char* meaning)
  {
    DcmItem& code = AddItem(item, sequence);
    code.putAndInsertString(DCM_CodeValue, value);
    code.putAndInsertString(DCM_CodingSchemeDesignator, scheme);
    code.putAndInsertString(DCM_CodeMeaning, meaning);
  }

  // The original values found in the written bytes.
  std::vector<std::string> Survivors(DcmFileFormat& file, const std::vector<std::string>& originals)
  {
    const std::string bytes = WriteDicom(file);
    std::vector<std::string> found;
    for (const std::string& o : originals)
    {
      if (bytes.find(o) != std::string::npos)
      {
        found.push_back(o);
      }
    }
    return found;
  }
}

TEST(Deidentifier, ActionD_SequenceKeepsItemsWithDummyValues)
{
  auto build = []()
  {
    auto file = MakeFile(NO_IOD_DATA_SOP_CLASS);
    DcmDataset& ds = *file->getDataset();
    DcmItem& observer = AddItem(ds, DCM_VerifyingObserverSequence);                      // D
    observer.putAndInsertString(DCM_VerifyingOrganization, "St. Elsewhere Hospital");     // D
    observer.putAndInsertString(DCM_VerifyingObserverName, "Observer^Olga");              // D
    observer.putAndInsertString(DCM_VerificationDateTime, "20240102030405");              // D (C with dates)
    observer.putAndInsertString(DCM_GraphicLayerDescription, "Olga's private layer");     // not listed, LO
    observer.putAndInsertString(DCM_ContinuityOfContent, "SEPARATE");                     // not listed, CS
    observer.putAndInsertUint16(DCM_NumberOfWaveformChannels, 12);                        // not listed, US
    PutCode(observer, DCM_ConceptNameCodeSequence, "121008", "DCM", "Person Observer Name");   // not listed
    AddItem(observer, DCM_VerifyingObserverIdentificationCodeSequence)                    // Z
      .putAndInsertString(DCM_CodeValue, "EMPLOYEE-4711");
    DcmItem& person = AddItem(observer, DCM_PersonIdentificationCodeSequence);            // D: codes too
    person.putAndInsertString(DCM_CodeValue, "BADGE-0815");
    person.putAndInsertString(DCM_CodingSchemeDesignator, "99HOSPITAL");
    person.putAndInsertString(DCM_CodeMeaning, "Olga Observer badge");

    DcmItem& operatorItem = AddItem(ds, DCM_OperatorIdentificationSequence);              // X/D -> D
    operatorItem.putAndInsertString(DCM_InstitutionName, "Clinic of Olga");               // X/Z/D -> D
    operatorItem.putAndInsertString(DCM_InstitutionAddress, "1 Main Street");             // X -> D inside D
    PutCode(operatorItem, DCM_InstitutionCodeSequence, "INST-42", "99HOSPITAL", "Olga Clinic");   // X/Z/D -> D

    ds.insertEmptyElement(DCM_GraphicAnnotationSequence);                                 // D, no items
    return file;
  };
  const std::vector<std::string> originals = {
    "St. Elsewhere Hospital", "Observer^Olga", "20240102030405", "Olga's private layer", "EMPLOYEE-4711",
    "BADGE-0815", "99HOSPITAL", "Olga Observer badge", "Clinic of Olga", "1 Main Street", "INST-42", "Olga Clinic"
  };

  auto profile = MakeProfile();
  ASSERT_EQ(ActionCode::None, profile->Resolve(DCM_GraphicLayerDescription).action);
  ASSERT_EQ(ActionCode::None, profile->Resolve(DCM_NumberOfWaveformChannels).action);
  ASSERT_EQ(ActionCode::None, profile->Resolve(DCM_ConceptNameCodeSequence).action);

  Providers p;
  auto file = build();
  DcmDataset& ds = *file->getDataset();
  DeidentificationResult r = Deidentify(OptionSet(), *file, p, true, true);

  ASSERT_EQ(1u, CountItems(ds, DCM_VerifyingObserverSequence));
  DcmItem& observer = *GetItem(ds, DCM_VerifyingObserverSequence);
  EXPECT_EQ("ANONYMOUS", GetString(observer, DCM_VerifyingOrganization));
  EXPECT_EQ("ANONYMOUS", GetString(observer, DCM_VerifyingObserverName));
  EXPECT_EQ("19000101000000", GetString(observer, DCM_VerificationDateTime));
  EXPECT_EQ("ANONYMOUS", GetString(observer, DCM_GraphicLayerDescription));
  EXPECT_EQ("SEPARATE", GetString(observer, DCM_ContinuityOfContent));
  Uint16 channels = 0;
  EXPECT_TRUE(observer.findAndGetUint16(DCM_NumberOfWaveformChannels, channels).good());
  EXPECT_EQ(12u, channels);
  ASSERT_EQ(1u, CountItems(observer, DCM_ConceptNameCodeSequence));
  DcmItem& concept = *GetItem(observer, DCM_ConceptNameCodeSequence);
  EXPECT_EQ("121008", GetString(concept, DCM_CodeValue));
  EXPECT_EQ("DCM", GetString(concept, DCM_CodingSchemeDesignator));
  EXPECT_EQ("Person Observer Name", GetString(concept, DCM_CodeMeaning));
  EXPECT_TRUE(Has(observer, DCM_VerifyingObserverIdentificationCodeSequence));   // Z: present, empty
  EXPECT_EQ(0u, CountItems(observer, DCM_VerifyingObserverIdentificationCodeSequence));
  ASSERT_EQ(1u, CountItems(observer, DCM_PersonIdentificationCodeSequence));
  DcmItem& person = *GetItem(observer, DCM_PersonIdentificationCodeSequence);
  EXPECT_EQ("ANONYMOUS", GetString(person, DCM_CodeValue));
  EXPECT_EQ("ANONYMOUS", GetString(person, DCM_CodingSchemeDesignator));
  EXPECT_EQ("ANONYMOUS", GetString(person, DCM_CodeMeaning));

  ASSERT_EQ(1u, CountItems(ds, DCM_OperatorIdentificationSequence));
  DcmItem& operatorItem = *GetItem(ds, DCM_OperatorIdentificationSequence);
  EXPECT_EQ("ANONYMOUS", GetString(operatorItem, DCM_InstitutionName));
  EXPECT_EQ("ANONYMOUS", GetString(operatorItem, DCM_InstitutionAddress));
  ASSERT_EQ(1u, CountItems(operatorItem, DCM_InstitutionCodeSequence));
  EXPECT_EQ("ANONYMOUS", GetString(*GetItem(operatorItem, DCM_InstitutionCodeSequence), DCM_CodeValue));

  EXPECT_TRUE(Has(ds, DCM_GraphicAnnotationSequence));                 // an empty D sequence stays empty
  EXPECT_EQ(0u, CountItems(ds, DCM_GraphicAnnotationSequence));

  EXPECT_EQ(std::vector<std::string>(), Survivors(*file, originals));

  // Preview: each replaced element with its path; E.1.1: the whole sequence as it was.
  bool recorded = false;
  for (const ElementChange& c : r.changes)
  {
    if (c.path == "VerifyingObserverSequence[0].GraphicLayerDescription")
    {
      recorded = true;
      EXPECT_EQ("D", c.action);
      EXPECT_EQ("ANONYMOUS", c.after.value_or(""));
    }
    EXPECT_NE("VerifyingObserverSequence[0].ContinuityOfContent", c.path);   // kept: not a change
  }
  EXPECT_TRUE(recorded);
  ASSERT_TRUE(r.modifiedAttributes);
  DcmItem* before = GetItem(*r.modifiedAttributes, DCM_VerifyingObserverSequence);
  ASSERT_NE(nullptr, before);
  EXPECT_EQ("Observer^Olga", GetString(*before, DCM_VerifyingObserverName));
  EXPECT_EQ("EMPLOYEE-4711", GetString(*GetItem(*before, DCM_VerifyingObserverIdentificationCodeSequence), DCM_CodeValue));

  // Options apply inside: RetainLongitudinalModifiedDates shifts the listed date.
  Providers shifted(-10);
  auto file2 = build();
  Deidentify(OptionSet{ Option::RetainLongitudinalModifiedDates }, *file2, shifted);
  EXPECT_EQ("20231223030405",
            GetString(*GetItem(*file2->getDataset(), DCM_VerifyingObserverSequence), DCM_VerificationDateTime));
}

TEST(Deidentifier, ActionD_NestedContentSequenceKeepsStructure)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_ValueType, "CONTAINER");
  DcmItem& text = AddItem(ds, DCM_ContentSequence);                                   // D
  text.putAndInsertString(DCM_RelationshipType, "CONTAINS");
  text.putAndInsertString(DCM_ValueType, "TEXT");
  PutCode(text, DCM_ConceptNameCodeSequence, "121071", "DCM", "Finding");
  text.putAndInsertString(DCM_TextValue, "Mr John Doe fell at home on his birthday");   // not listed, UT

  DcmItem& name = AddItem(text, DCM_ContentSequence);                                 // nested D
  name.putAndInsertString(DCM_RelationshipType, "HAS OBS CONTEXT");
  name.putAndInsertString(DCM_ValueType, "PNAME");
  PutCode(name, DCM_ConceptNameCodeSequence, "121008", "DCM", "Person Observer Name");
  name.putAndInsertString(DCM_PersonName, "Smith^Anna");                              // D

  DcmItem& when = AddItem(text, DCM_ContentSequence);
  when.putAndInsertString(DCM_RelationshipType, "HAS OBS CONTEXT");
  when.putAndInsertString(DCM_ValueType, "DATETIME");
  PutCode(when, DCM_ConceptNameCodeSequence, "111526", "DCM", "DateTime Started");
  when.putAndInsertString(DCM_DateTime, "20240315101010");                             // D

  DcmItem& image = AddItem(text, DCM_ContentSequence);
  image.putAndInsertString(DCM_RelationshipType, "INFERRED FROM");
  image.putAndInsertString(DCM_ValueType, "IMAGE");
  DcmItem& sop = AddItem(image, DCM_ReferencedSOPSequence);                           // not listed
  sop.putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);              // not listed: kept
  sop.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.100");          // U: this instance

  Providers p;
  Deidentify(OptionSet(), *file, p);

  ASSERT_EQ(1u, CountItems(ds, DCM_ContentSequence));
  DcmItem& t = *GetItem(ds, DCM_ContentSequence);
  EXPECT_EQ("CONTAINS", GetString(t, DCM_RelationshipType));
  EXPECT_EQ("TEXT", GetString(t, DCM_ValueType));
  EXPECT_EQ("Finding", GetString(*GetItem(t, DCM_ConceptNameCodeSequence), DCM_CodeMeaning));
  EXPECT_EQ("ANONYMOUS", GetString(t, DCM_TextValue));
  ASSERT_EQ(3u, CountItems(t, DCM_ContentSequence));

  DcmItem& n = *GetItem(t, DCM_ContentSequence, 0);
  EXPECT_EQ("HAS OBS CONTEXT", GetString(n, DCM_RelationshipType));
  EXPECT_EQ("PNAME", GetString(n, DCM_ValueType));
  EXPECT_EQ("121008", GetString(*GetItem(n, DCM_ConceptNameCodeSequence), DCM_CodeValue));
  EXPECT_EQ("ANONYMOUS", GetString(n, DCM_PersonName));

  DcmItem& w = *GetItem(t, DCM_ContentSequence, 1);
  EXPECT_EQ("DATETIME", GetString(w, DCM_ValueType));
  EXPECT_EQ("19000101000000", GetString(w, DCM_DateTime));

  DcmItem& i = *GetItem(t, DCM_ContentSequence, 2);
  EXPECT_EQ("IMAGE", GetString(i, DCM_ValueType));
  DcmItem* s = GetItem(i, DCM_ReferencedSOPSequence);
  ASSERT_NE(nullptr, s);
  EXPECT_EQ(UID_CTImageStorage, GetString(*s, DCM_ReferencedSOPClassUID));
  const std::string newSop = GetString(ds, DCM_SOPInstanceUID);
  EXPECT_NE("1.2.3.4.5.6.7.100", newSop);
  EXPECT_EQ(newSop, GetString(*s, DCM_ReferencedSOPInstanceUID));   // consistent with the instance

  EXPECT_EQ(std::vector<std::string>(),
            Survivors(*file, { "John Doe", "birthday", "Smith^Anna", "20240315101010", "1.2.3.4.5.6.7.100" }));

  // Still a valid SR tree once written and read back.
  auto back = RoundTrip(*file);
  DcmItem* deep = GetItem(*GetItem(*back->getDataset(), DCM_ContentSequence), DCM_ContentSequence, 0);
  ASSERT_NE(nullptr, deep);
  EXPECT_EQ("ANONYMOUS", GetString(*deep, DCM_PersonName));
}

// ---------------------------------------------------------------------------
// Structure: sequences, VR UN, file meta, group 0004

TEST(Deidentifier, NestedSequencesThreeLevels)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  DcmItem& level1 = AddItem(ds, DCM_ReferencedSeriesSequence);            // not listed: recursed
  level1.putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.4.5.6.7.2");
  DcmItem& level2 = AddItem(level1, DCM_ReferencedInstanceSequence);      // not listed: recursed
  level2.putAndInsertString(DCM_InstitutionAddress, "1 Main Street");     // X
  DcmItem& level3 = AddItem(level2, DCM_ReferencedSOPSequence);           // not listed: recursed
  level3.putAndInsertString(DCM_PatientName, "Doe^John");                 // Z: pseudonym
  level3.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.100");
  level3.putAndInsertString(DCM_ReferencedSOPClassUID, UID_CTImageStorage);
  AddItem(level3, DCM_RequestAttributesSequence).putAndInsertString(DCM_RequestedProcedureID, "RP");   // X

  DeidentificationResult r = Deidentify(OptionSet(), *file, p, true, true);

  DcmItem* l1 = GetItem(ds, DCM_ReferencedSeriesSequence);
  ASSERT_NE(nullptr, l1);
  EXPECT_EQ(GetString(ds, DCM_SeriesInstanceUID), GetString(*l1, DCM_SeriesInstanceUID));
  DcmItem* l2 = GetItem(*l1, DCM_ReferencedInstanceSequence);
  ASSERT_NE(nullptr, l2);
  EXPECT_FALSE(Has(*l2, DCM_InstitutionAddress));
  DcmItem* l3 = GetItem(*l2, DCM_ReferencedSOPSequence);
  ASSERT_NE(nullptr, l3);
  EXPECT_EQ(GetString(ds, DCM_PatientName), GetString(*l3, DCM_PatientName));
  EXPECT_NE("Doe^John", GetString(*l3, DCM_PatientName));
  EXPECT_EQ(GetString(ds, DCM_SOPInstanceUID), GetString(*l3, DCM_ReferencedSOPInstanceUID));
  EXPECT_EQ(UID_CTImageStorage, GetString(*l3, DCM_ReferencedSOPClassUID));
  EXPECT_FALSE(Has(*l3, DCM_RequestAttributesSequence));

  // Changes carry the path; originals hold the whole top-level sequence.
  bool found = false;
  for (const ElementChange& c : r.changes)
  {
    if (c.path == "ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].InstitutionAddress")
    {
      found = true;
      EXPECT_EQ("X", c.action);
      EXPECT_EQ("(0008,0081)", c.tag);
      EXPECT_EQ("InstitutionAddress", c.name);
      ASSERT_TRUE(c.before);
      EXPECT_EQ("1 Main Street", *c.before);
      EXPECT_FALSE(c.after);
    }
  }
  EXPECT_TRUE(found);
  ASSERT_TRUE(r.modifiedAttributes);
  DcmItem* o1 = GetItem(*r.modifiedAttributes, DCM_ReferencedSeriesSequence);
  ASSERT_NE(nullptr, o1);
  DcmItem* o2 = GetItem(*o1, DCM_ReferencedInstanceSequence);
  ASSERT_NE(nullptr, o2);
  EXPECT_EQ("1 Main Street", GetString(*o2, DCM_InstitutionAddress));
}

TEST(Deidentifier, CollectOriginals)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_AccessionNumber, "ACC-1");
  ds.putAndInsertString(DCM_SliceThickness, "2.5");
  DeidentificationResult r = Deidentify(OptionSet(), *file, p, false, true);
  ASSERT_TRUE(r.modifiedAttributes);
  DcmItem& o = *r.modifiedAttributes;
  EXPECT_EQ("Doe^John", GetString(o, DCM_PatientName));
  EXPECT_EQ("PID-12345", GetString(o, DCM_PatientID));
  EXPECT_EQ("ACC-1", GetString(o, DCM_AccessionNumber));
  EXPECT_EQ("1.2.3.4.5.6.7.100", GetString(o, DCM_SOPInstanceUID));
  EXPECT_FALSE(Has(o, DCM_SliceThickness));
  EXPECT_FALSE(Has(o, DCM_Modality));
  EXPECT_FALSE(Has(o, DCM_PatientIdentityRemoved));       // added by the engine, did not exist
  EXPECT_FALSE(Has(o, DCM_DeidentificationMethod));
  EXPECT_TRUE(r.changes.empty());                          // not asked for

  // Existed before with another value: collected.
  Providers q;
  auto again = MakeFile();
  again->getDataset()->putAndInsertString(DCM_PatientIdentityRemoved, "NO");
  DeidentificationResult r2 = Deidentify(OptionSet(), *again, q, false, true);
  EXPECT_EQ("NO", GetString(*r2.modifiedAttributes, DCM_PatientIdentityRemoved));
}

TEST(Deidentifier, VrUnIdentifyingValuesDoNotSurvive)
{
  Providers p;
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  PutUN(ds, DCM_PatientName, "Doe^John");
  PutUN(ds, DCM_StudyInstanceUID, std::string("1.2.3.4.5.6.7.1") + '\0');
  PutUN(ds, DCM_InstitutionAddress, "1 Main Street");
  PutUN(ds, DCM_SliceThickness, "1.25");      // not listed: kept, with its real VR

  // A sequence encoded as UN with a defined length (its content is implicit
  // VR little endian): one item with a Referenced SOP Instance UID and a name.
  DcmFileFormat inner;
  DcmItem itemData;
  itemData.putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.100");
  itemData.putAndInsertString(DCM_PersonName, "Smith^Jane");
  {
    // Encode the item in implicit VR little endian.
    DcmSequenceOfItems sq(DCM_ReferencedImageSequence);
    sq.append(new DcmItem(itemData));
    sq.computeGroupLengthAndPadding(EGL_withoutGL, EPD_noChange, EXS_LittleEndianImplicit, EET_ExplicitLength);
    Uint32 length = sq.getLength(EXS_LittleEndianImplicit, EET_ExplicitLength);
    std::vector<char> buffer(length + 64);
    DcmOutputBufferStream out(buffer.data(), buffer.size());
    sq.transferInit();
    ASSERT_TRUE(sq.write(out, EXS_LittleEndianImplicit, EET_ExplicitLength, nullptr).good());
    sq.transferEnd();
    void* data = nullptr;
    offile_off_t written = 0;
    out.flushBuffer(data, written);
    // Skip the 8-byte element header (tag + length): the UN value is the items.
    PutUN(ds, DCM_ReferencedImageSequence, std::string(static_cast<char*>(data) + 8, written - 8));
  }

  auto parsed = RoundTrip(*file);   // the UN elements as they would come from a file
  DcmDataset& in = *parsed->getDataset();
  ASSERT_EQ(EVR_UN, GetVR(in, DCM_PatientName));
  ASSERT_EQ(EVR_UN, GetVR(in, DCM_StudyInstanceUID));
  ASSERT_EQ(EVR_UN, GetVR(in, DCM_ReferencedImageSequence));

  Deidentify(OptionSet(), *parsed, p);
  auto out = RoundTrip(*parsed);
  DcmDataset& result = *out->getDataset();

  EXPECT_EQ(EVR_PN, GetVR(result, DCM_PatientName));
  EXPECT_NE(std::string::npos, GetString(result, DCM_PatientName).find("ANON"));
  EXPECT_EQ(EVR_UI, GetVR(result, DCM_StudyInstanceUID));
  EXPECT_EQ(p.uids.MapUid("1.2.3.4.5.6.7.1"), GetString(result, DCM_StudyInstanceUID));
  EXPECT_FALSE(Has(result, DCM_InstitutionAddress));
  EXPECT_EQ(EVR_DS, GetVR(result, DCM_SliceThickness));
  EXPECT_EQ("1.25", GetString(result, DCM_SliceThickness));

  EXPECT_EQ(EVR_SQ, GetVR(result, DCM_ReferencedImageSequence));
  DcmItem* item = GetItem(result, DCM_ReferencedImageSequence);
  ASSERT_NE(nullptr, item);
  EXPECT_EQ(GetString(result, DCM_SOPInstanceUID), GetString(*item, DCM_ReferencedSOPInstanceUID));
  EXPECT_EQ("ANONYMOUS", GetString(*item, DCM_PersonName));

  std::string bytes = WriteDicom(*out);
  EXPECT_EQ(std::string::npos, bytes.find("Doe^John"));
  EXPECT_EQ(std::string::npos, bytes.find("Smith^Jane"));
  EXPECT_EQ(std::string::npos, bytes.find("1 Main Street"));
  EXPECT_EQ(std::string::npos, bytes.find("1.2.3.4.5.6.7.1"));
}

TEST(Deidentifier, FileMetaReplacedAndGroup0004Removed)
{
  Providers p;
  auto file = MakeFile();
  DcmMetaInfo& meta = *file->getMetaInfo();
  meta.putAndInsertString(DCM_SourceApplicationEntityTitle, "HOSPITAL_PACS");
  meta.putAndInsertString(DCM_PrivateInformationCreatorUID, "1.2.3.4.999");
  file->getDataset()->putAndInsertString(DCM_ReferencedFileID, "PATIENT\\DOE");   // (0004,1500)
  Deidentify(OptionSet(), *file, p);
  EXPECT_FALSE(Has(meta, DCM_SourceApplicationEntityTitle));
  EXPECT_FALSE(Has(meta, DCM_PrivateInformationCreatorUID));
  EXPECT_FALSE(Has(*file->getDataset(), DCM_ReferencedFileID));
  EXPECT_EQ(UID_CTImageStorage, GetString(meta, DCM_MediaStorageSOPClassUID));

  std::string bytes = WriteDicom(*file);
  ASSERT_GT(bytes.size(), 132u);
  EXPECT_EQ("DICM", bytes.substr(128, 4));
  EXPECT_EQ(std::string(128, '\0'), bytes.substr(0, 128));
  EXPECT_EQ(std::string::npos, bytes.find("HOSPITAL_PACS"));
}

TEST(Deidentifier, DicomDirIsRefused)
{
  Providers p;
  auto file = MakeFile();
  file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPClassUID, UID_MediaStorageDirectoryStorage);
  try
  {
    Deidentify(OptionSet(), *file, p);
    FAIL();
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::NotImplemented, e.GetCode());
  }
}

TEST(Deidentifier, RecordChanges)
{
  Providers p;
  auto file = MakeFile();
  file->getDataset()->putAndInsertString(DCM_AccessionNumber, "ACC-1");
  DeidentificationResult r = Deidentify(OptionSet{ Option::RetainUIDs }, *file, p, true, false);
  bool sawAccession = false;
  for (const ElementChange& c : r.changes)
  {
    if (c.tag == "(0008,0050)")
    {
      sawAccession = true;
      EXPECT_EQ("AccessionNumber", c.name);
      EXPECT_EQ("", c.path);
      EXPECT_EQ("Z", c.action);
      EXPECT_EQ("", c.option);
      EXPECT_EQ("ACC-1", c.before.value_or("?"));
      EXPECT_EQ("", c.after.value_or("?"));
    }
    EXPECT_NE("(0008,0018)", c.tag);   // kept by RetainUIDs: no change
  }
  EXPECT_TRUE(sawAccession);
  EXPECT_FALSE(r.modifiedAttributes);
}

TEST(Deidentifier, MissingProvidersAreRejected)
{
  auto profile = MakeProfile(OptionSet{ Option::RetainLongitudinalModifiedDates });
  Deidentifier deid(*profile);
  Providers p;
  p.context.dateOffsets = nullptr;
  auto file = MakeFile();
  EXPECT_THROW(deid.Apply(*file, p.context), DeidError);
}


// ---------------------------------------------------------------------------
// Thread safety: one Profile and Deidentifier, several threads.

TEST(Deidentifier, ConcurrentUseOfOneProfile)
{
  auto profile = MakeProfile(OptionSet{ Option::RetainLongitudinalModifiedDates, Option::CleanDescriptors });
  const Deidentifier deid(*profile);
  Providers shared(3);   // providers are shared between threads too

  std::atomic<int> failures(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; t++)
  {
    threads.emplace_back([&, t]()
    {
      for (int i = 0; i < 30; i++)
      {
        auto file = MakeFile();
        DcmDataset& ds = *file->getDataset();
        const std::string uid = "1.2.3.4.5." + std::to_string(t) + "." + std::to_string(i);
        ds.putAndInsertString(DCM_SOPInstanceUID, uid.c_str());
        ds.putAndInsertString(DCM_StudyDate, "20200101");
        ds.putAndInsertString(DCM_InstitutionAddress, "1 Main Street");
        AddItem(ds, DCM_ReferencedImageSequence).putAndInsertString(DCM_ReferencedSOPInstanceUID, uid.c_str());
        DeidentificationSettings settings;
        settings.recordChanges = true;
        settings.collectOriginals = true;
        DeidentificationResult r = deid.Apply(*file, shared.context, settings);
        std::string bytes = WriteDicom(*file);
        auto back = ParseDicom(bytes.data(), bytes.size());
        DcmDataset& out = *back->getDataset();
        const std::string sop = GetString(out, DCM_SOPInstanceUID);
        if (sop != shared.uids.MapUid(uid) ||
            GetString(*GetItem(out, DCM_ReferencedImageSequence), DCM_ReferencedSOPInstanceUID) != sop ||
            GetString(out, DCM_StudyDate) != "20200104" ||
            Has(out, DCM_InstitutionAddress) ||
            r.originalSopInstanceUid != uid)
        {
          failures++;
        }
      }
    });
  }
  for (auto& th : threads)
  {
    th.join();
  }
  EXPECT_EQ(0, failures.load());
}
