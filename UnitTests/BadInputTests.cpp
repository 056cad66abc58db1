// The bad-input table (issue 9, item 7): malformed inputs through the path of
// POST /tools/deidentify (parse, Basic Profile, write). Each gets a clear
// error (DeidError: the route's 400) or a correct result (an output that
// parses again, marked as de-identified, without the identifying values),
// never a crash, and never an identifying value in the output or the error.
// Each test prints what the inputs got: the README table is made from it.
#include "BadInputTestSupport.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <set>

using namespace Deid;
using namespace Deid::BadInput;

namespace
{
  const std::vector<std::string> CRAFTED_IDENTIFIERS = { PATIENT_NAME, PATIENT_ID, STUDY_UID, SOP_UID };

  // Checks one result against the rules above; returns "400: <error>" or
  // "de-identified".
  std::string ExpectSafe(const Result& result, const std::vector<std::string>& identifiers,
                         const std::string& label)
  {
    for (const std::string& id : identifiers)
    {
      EXPECT_FALSE(Contains(result.error, id)) << label << ": the error holds an identifying value";
      EXPECT_FALSE(Contains(result.output, id)) << label << ": the output holds an identifying value";
    }

    if (!result.ok)
    {
      EXPECT_FALSE(result.error.empty()) << label;
      return "400: " + result.error;
    }

    EXPECT_TRUE(result.outputParses) << label << ": the output does not parse again";
    if (result.outputParses)
    {
      std::unique_ptr<DcmFileFormat> output = ParseDicom(result.output.data(), result.output.size());
      OFString removed;
      output->getDataset()->findAndGetOFString(DCM_PatientIdentityRemoved, removed);
      EXPECT_EQ("YES", std::string(removed.c_str())) << label;
    }
    return "de-identified";
  }

  void Report(const std::string& label, const std::string& outcome)
  {
    std::cout << "[ bad input ] " << label << " -> " << outcome << std::endl;
  }

  std::string CraftedFile(const std::string& dataset, const std::string& transferSyntax = "1.2.840.10008.1.2.1")
  {
    return Part10Header(transferSyntax) + dataset;
  }

  // The identifying values of a test file (those the Basic Profile replaces
  // or removes), at least 6 characters long to avoid chance matches.
  std::vector<std::string> IdentifiersOf(const std::string& bytes)
  {
    std::unique_ptr<DcmFileFormat> file = ParseDicom(bytes.data(), bytes.size());
    std::vector<std::string> result;
    for (const DcmTagKey& key : { DCM_PatientName, DCM_PatientID, DCM_StudyInstanceUID,
                                  DCM_SeriesInstanceUID, DCM_SOPInstanceUID, DCM_InstitutionName,
                                  DCM_ReferringPhysicianName, DCM_AccessionNumber })
    {
      OFString value;
      if (file->getDataset()->findAndGetOFStringArray(key, value).good() && value.length() >= 6)
      {
        result.push_back(value.c_str());
      }
    }
    return result;
  }

  // Truncates the file at every offset below "everyOffsetUpTo", then every
  // "stride" bytes (stride 1: every offset).
  void CheckTruncations(const std::string& name, size_t everyOffsetUpTo, size_t stride)
  {
    const std::string full = ReadTestFile(name);
    ASSERT_FALSE(full.empty()) << name;
    const std::vector<std::string> identifiers = IdentifiersOf(full);
    ASSERT_FALSE(identifiers.empty()) << name;

    const auto start = std::chrono::steady_clock::now();
    size_t tried = 0, errors = 0, deidentified = 0;
    std::set<std::string> messages;
    for (size_t offset = 0; offset < full.size(); offset += (offset < everyOffsetUpTo ? 1 : stride))
    {
      const Result result = Deidentify(full.substr(0, offset));
      const std::string outcome = ExpectSafe(result, identifiers, name + " cut at " + std::to_string(offset));
      tried++;
      if (result.ok)
      {
        deidentified++;
      }
      else
      {
        errors++;
        messages.insert(result.error);
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Report(name + " truncated at " + std::to_string(tried) + " offsets",
           std::to_string(errors) + " x 400, " + std::to_string(deidentified) + " de-identified (" +
           std::to_string(messages.size()) + " distinct errors, " + std::to_string(seconds) + " s)");
  }
}


TEST(BadInput, TruncatedCtSmall)
{
  // CT_small.dcm: 39,206 bytes, 32 KB of pixel data at the end.
  CheckTruncations("CT_small.dcm", 7000, 61);
}

TEST(BadInput, TruncatedStructuredReport)
{
  // test-SR.dcm: nested Content Sequences, every offset.
  CheckTruncations("test-SR.dcm", SIZE_MAX, 1);
}

TEST(BadInput, TruncatedExplicitBigEndian)
{
  // ExplVR_BigEnd.dcm: Explicit VR Big Endian, every offset of the header,
  // then every 7th byte.
  CheckTruncations("ExplVR_BigEnd.dcm", 2000, 7);
}

TEST(BadInput, HugeLengths)
{
  const uint32_t huge = 0xFFFFFFF0;
  const std::string before = ExplicitDatasetBefore() + Explicit(0x0010, 0x0010, "PN", std::string(PATIENT_NAME) + " ") +
                             Explicit(0x0010, 0x0020, "LO", PATIENT_ID);
  const std::string after = Explicit(0x0020, 0x000d, "UI", EvenUid(STUDY_UID));

  struct Case { std::string label; std::string bytes; };
  const std::vector<Case> cases = {
    { "element length 0xFFFFFFF0 (UT, explicit VR)",
      CraftedFile(before + Explicit(0x0010, 0x4000, "UT", "comment ", huge) + after) },
    { "element length 0xFFFFFFF0 (implicit VR)",
      CraftedFile(Implicit(0x0008, 0x0016, EvenUid("1.2.840.10008.5.1.4.1.1.7")) +
                  Implicit(0x0008, 0x0018, EvenUid(SOP_UID)) +
                  Implicit(0x0010, 0x0010, std::string(PATIENT_NAME) + " ") +
                  Implicit(0x0010, 0x0020, PATIENT_ID, huge) +
                  Implicit(0x0020, 0x000d, EvenUid(STUDY_UID)), "1.2.840.10008.1.2") },
    { "element length 0xFFFFFFF0 (OB in the file meta group)",
      std::string(128, '\0') + "DICM" + Explicit(0x0002, 0x0001, "OB", std::string("\0\1", 2), huge) +
      ExplicitDataset() },
    { "sequence length 0xFFFFFFF0",
      CraftedFile(before + after + Explicit(0x0040, 0x0275, "SQ", "", huge) +
                  ItemTag(0xe000, 10) + Explicit(0x0040, 0x0009, "SH", "SPS1")) },
    { "item length 0xFFFFFFF0",
      CraftedFile(before + after + Explicit(0x0040, 0x0275, "SQ", "", 0xFFFFFFFF) +
                  ItemTag(0xe000, huge) + Explicit(0x0040, 0x0009, "SH", "SPS1") +
                  ItemTag(0xe0dd, 0)) },
    { "pixel data fragment length 0xFFFFFFF0 (JPEG Baseline)",
      CraftedFile(before + after + Explicit(0x0028, 0x0002, "US", std::string("\1\0", 2)) +
                  Explicit(0x7fe0, 0x0010, "OB", "", 0xFFFFFFFF) + ItemTag(0xe000, 0) +
                  ItemTag(0xe000, huge) + std::string("\xff\xd8\xff\xd9", 4) + ItemTag(0xe0dd, 0),
                  "1.2.840.10008.1.2.4.50") },
  };

  for (const Case& c : cases)
  {
    const auto start = std::chrono::steady_clock::now();
    const Result result = Deidentify(c.bytes);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Report(c.label, ExpectSafe(result, CRAFTED_IDENTIFIERS, c.label));
    EXPECT_FALSE(result.ok) << c.label << ": a value longer than the input cannot be read";
    EXPECT_LT(seconds, 2.0) << c.label;
  }
}

TEST(BadInput, HundredThousandElements)
{
  // 100,000 private elements (removed by the Basic Profile): 2 groups of 240
  // private blocks of 256 elements, and 100,000 elements in a sequence of
  // 50,000 items (each with a SOP Instance UID to replace).
  auto makePrivates = [](size_t wanted)
  {
    std::string privates;
    size_t count = 0;
    for (uint16_t group : { 0x0011, 0x0013 })
    {
      for (uint16_t block = 0x10; block <= 0xff && count < wanted; block++)
      {
        privates += Explicit(group, block, "LO", "CREATOR " + std::to_string(block % 10) + " ");
      }
      for (uint16_t block = 0x10; block <= 0xff && count < wanted; block++)
      {
        for (uint16_t e = 0; e <= 0xff && count < wanted; e++, count++)
        {
          privates += Explicit(group, static_cast<uint16_t>((block << 8) | e), "LO", "SECRET");
        }
      }
    }
    return privates;
  };
  const std::string privates = makePrivates(100000);

  std::string items;
  for (size_t i = 0; i < 50000; i++)
  {
    const std::string uid = EvenUid("1.2.3.4.5.6.7.8." + std::to_string(100000 + i));
    const std::string item = Explicit(0x0008, 0x1150, "UI", EvenUid("1.2.840.10008.5.1.4.1.1.7")) +
                             Explicit(0x0008, 0x1155, "UI", uid);
    items += ItemTag(0xe000, static_cast<uint32_t>(item.size())) + item;
  }

  struct Case { std::string label; std::string bytes; std::vector<std::string> identifiers; };
  std::vector<std::string> withPrivate = CRAFTED_IDENTIFIERS;
  withPrivate.push_back("SECRET");
  std::vector<std::string> withReferences = CRAFTED_IDENTIFIERS;
  withReferences.push_back("1.2.3.4.5.6.7.8.100000");
  withReferences.push_back("1.2.3.4.5.6.7.8.149999");

  const std::string before = ExplicitDatasetBefore();
  const std::vector<Case> cases = {
    { "100,000 private elements",
      CraftedFile(before + Explicit(0x0010, 0x0010, "PN", std::string(PATIENT_NAME) + " ") +
                  Explicit(0x0010, 0x0020, "LO", PATIENT_ID) + privates +
                  Explicit(0x0020, 0x000d, "UI", EvenUid(STUDY_UID))), withPrivate },
    { "100,000 elements in 50,000 sequence items",
      CraftedFile(before + Explicit(0x0008, 0x1140, "SQ", "", 0xFFFFFFFF) + items + ItemTag(0xe0dd, 0) +
                  Explicit(0x0010, 0x0010, "PN", std::string(PATIENT_NAME) + " ") + ExplicitDatasetAfter()),
      withReferences },
  };

  for (const Case& c : cases)
  {
    const auto start = std::chrono::steady_clock::now();
    const Result result = Deidentify(c.bytes);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Report(c.label + " (" + std::to_string(c.bytes.size() / 1024) + " KB)",
           ExpectSafe(result, c.identifiers, c.label) + " in " + std::to_string(seconds) + " s");
    EXPECT_TRUE(result.ok) << c.label << ": " << result.error;
    EXPECT_LT(seconds, 120.0) << c.label;
  }

  // Linear, not quadratic: DCMTK's getElement(i) per element made 100,000
  // elements take 100 times as long as 10,000 (Deidentifier::ProcessItem).
  auto timeOf = [&](size_t count)
  {
    const std::string bytes = CraftedFile(ExplicitDatasetBefore() + makePrivates(count) +
                                          Explicit(0x0020, 0x000d, "UI", EvenUid(STUDY_UID)));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(Deidentify(bytes).ok);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double small = timeOf(10000);
  const double large = timeOf(100000);
  Report("10,000 / 100,000 private elements", std::to_string(small) + " s / " + std::to_string(large) + " s");
  EXPECT_LT(large, 30 * small + 0.5) << "quadratic in the number of elements";
}

TEST(BadInput, CharacterSets)
{
  struct Case { std::string label; std::string charset; std::string name; std::string description; };
  const std::vector<Case> cases = {
    { "invalid UTF-8 bytes with ISO_IR 192", "ISO_IR 192",
      std::string("\xff\xfe\xc3\x28", 4) + PATIENT_NAME, std::string("\x80\x81 Smith clinic") },
    { "unknown Specific Character Set", "ISO_IR 999", PATIENT_NAME, "Smith clinic" },
    { "broken ISO 2022 escape sequences", "\\ISO 2022 IR 87",
      std::string("\x1b$B\xff\x1b(") + PATIENT_NAME, std::string("\x1b$)C\x0e\xff Smith clinic") },
    { "Latin-1 declared, bytes of another set", "ISO_IR 100",
      std::string("\xe6\x97\xa5\xff") + PATIENT_NAME, std::string("\x00\x01 Smith clinic", 15) },
  };

  for (const Case& c : cases)
  {
    auto pad = [](std::string s) { if (s.size() % 2) s.push_back(' '); return s; };
    const std::string bytes = CraftedFile(
      Explicit(0x0008, 0x0005, "CS", pad(c.charset)) + ExplicitDatasetBefore() +
      Explicit(0x0008, 0x1030, "LO", pad(c.description)) +
      Explicit(0x0010, 0x0010, "PN", pad(c.name)) + ExplicitDatasetAfter());
    std::vector<std::string> identifiers = CRAFTED_IDENTIFIERS;
    identifiers.push_back("Smith clinic");
    const Result result = Deidentify(bytes);
    Report(c.label, ExpectSafe(result, identifiers, c.label));
  }
}

TEST(BadInput, TransferSyntaxes)
{
  const std::string dataset = ExplicitDataset();

  // The deflated data set of pydicom's image_dfl.dcm after a meta group that
  // says Explicit VR Little Endian, and the reverse.
  const std::string deflated = ReadTestFile("image_dfl.dcm");
  ASSERT_GT(deflated.size(), 144u);
  const uint32_t metaLength = static_cast<uint8_t>(deflated[140]) | (static_cast<uint8_t>(deflated[141]) << 8) |
                              (static_cast<uint8_t>(deflated[142]) << 16) | (static_cast<uint32_t>(static_cast<uint8_t>(deflated[143])) << 24);
  const std::string deflatedData = deflated.substr(144 + metaLength);
  const std::vector<std::string> deflatedIds = IdentifiersOf(deflated);

  struct Case { std::string label; std::string bytes; std::vector<std::string> identifiers; };
  std::vector<std::string> both = CRAFTED_IDENTIFIERS;
  both.insert(both.end(), deflatedIds.begin(), deflatedIds.end());
  const std::vector<Case> cases = {
    { "unknown transfer syntax UID 1.2.3.4.5.6.7.8.9", CraftedFile(dataset, "1.2.3.4.5.6.7.8.9"), both },
    { "unknown JPEG-like transfer syntax UID 1.2.840.10008.1.2.4.999",
      CraftedFile(dataset, "1.2.840.10008.1.2.4.999"), both },
    { "empty transfer syntax UID", CraftedFile(dataset, ""), both },
    { "transfer syntax UID of garbage bytes", CraftedFile(dataset, std::string("\xff\x01\x1b[2J", 6)), both },
    { "deflated transfer syntax, data not deflated", CraftedFile(dataset, "1.2.840.10008.1.2.1.99"), both },
    { "explicit VR little endian declared, data deflated",
      CraftedFile(deflatedData, "1.2.840.10008.1.2.1"), both },
    { "implicit VR declared, data explicit VR", CraftedFile(dataset, "1.2.840.10008.1.2"), both },
    { "big endian declared, data little endian", CraftedFile(dataset, "1.2.840.10008.1.2.2"), both },
  };

  for (const Case& c : cases)
  {
    const Result result = Deidentify(c.bytes);
    Report(c.label, ExpectSafe(result, c.identifiers, c.label));
  }
}

TEST(BadInput, OddLengthsAndMetaGroupLength)
{
  const std::string before = ExplicitDatasetBefore();
  struct Case { std::string label; std::string bytes; };
  const std::vector<Case> cases = {
    { "odd lengths (PN, UI, OB values unpadded)",
      CraftedFile(Explicit(0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.7") +
                  Explicit(0x0008, 0x0018, "UI", SOP_UID) +
                  Explicit(0x0010, 0x0010, "PN", PATIENT_NAME) +
                  Explicit(0x0010, 0x0020, "LO", std::string(PATIENT_ID) + "1") +
                  Explicit(0x0020, 0x000d, "UI", STUDY_UID) +
                  Explicit(0x0029, 0x0010, "LO", "ODD") +
                  Explicit(0x0029, 0x1001, "OB", "abc")) },
    { "file meta group length too small (10)", Part10Header("1.2.840.10008.1.2.1", 10) + ExplicitDataset() },
    { "file meta group length too large (5000)", Part10Header("1.2.840.10008.1.2.1", 5000) + ExplicitDataset() },
    { "file meta group length 0xFFFFFFF0", Part10Header("1.2.840.10008.1.2.1", 0xFFFFFFF0) + ExplicitDataset() },
    { "file meta group length 0", Part10Header("1.2.840.10008.1.2.1", 0) + ExplicitDataset() },
  };

  for (const Case& c : cases)
  {
    const Result result = Deidentify(c.bytes);
    Report(c.label, ExpectSafe(result, CRAFTED_IDENTIFIERS, c.label));
  }
}
