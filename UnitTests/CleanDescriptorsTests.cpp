// Option Clean Descriptors (PS3.15 E.3.5) through the whole engine with the
// real text cleaner: every C attribute of Table E.1-1 with a text VR is
// cleaned (clinical words kept, the patient's values removed), not dropped;
// real pydicom files; the instance's identifying values at any depth.

#include "DeidentifierTestSupport.h"

#include "Engine/IdentifyingValues.h"
#include "Engine/TextCleaner.h"

#include <dcmtk/dcmdata/dcvrlo.h>
#include <dcmtk/dcmdata/dcvrlt.h>
#include <dcmtk/dcmdata/dcvrsh.h>
#include <dcmtk/dcmdata/dcvrst.h>
#include <dcmtk/dcmdata/dcvrut.h>
#include <dcmtk/dcmdata/dcvruc.h>
#include <dcmtk/dcmdata/dcvrpn.h>
#include <dcmtk/dcmdata/dcvrcs.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <map>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  // The VRs (PS3.6) of Clean Descriptors attributes newer than DCMTK 3.6.7's
  // dictionary (from dicom3tools' dictionary, 2025-10-20).
  const std::map<std::pair<uint16_t, uint16_t>, DcmEVR> NEWER_THAN_DCMTK = {
    { { 0x003A, 0x032B }, EVR_ST },   // Filter Lookup Table Description
    { { 0x003A, 0x0329 }, EVR_ST },   // Waveform Filter Description
    { { 0x0010, 0x0045 }, EVR_UT },   // Gender Identity Comment
    { { 0x0010, 0x0016 }, EVR_UT },   // Pronoun Comment
    { { 0x0010, 0x0042 }, EVR_UT },   // Sex Parameters for Clinical Use Category Comment
    { { 0x0040, 0xB03F }, EVR_LO },   // Montage Channel Label
    { { 0x0040, 0xB03B }, EVR_LT },   // Montage Name
    { { 0x3002, 0x0123 }, EVR_LT },   // Position Acquisition Template Description
    { { 0x3002, 0x0121 }, EVR_LO },   // Position Acquisition Template Name
    { { 0x0008, 0x1301 }, EVR_SQ },   // Principal Diagnosis Code Sequence
    { { 0x0008, 0x1302 }, EVR_SQ },   // Primary Diagnosis Code Sequence
    { { 0x0008, 0x1303 }, EVR_SQ },   // Secondary Diagnoses Code Sequence
    { { 0x0008, 0x1304 }, EVR_SQ },   // Histological Diagnoses Code Sequence
  };

  DcmEVR VrOf(const TagPattern& tag)
  {
    auto found = NEWER_THAN_DCMTK.find(std::make_pair(tag.group, tag.element));
    if (found != NEWER_THAN_DCMTK.end())
    {
      return found->second;
    }
    const DcmDataDictionary& dictionary = dcmDataDict.rdlock();
    const DcmDictEntry* entry = dictionary.findEntry(DcmTagKey(tag.group, tag.element), nullptr);
    DcmEVR vr = (entry != nullptr) ? entry->getEVR() : EVR_UNKNOWN;
    dcmDataDict.rdunlock();
    return vr;
  }

  DcmElement* NewTextElement(const DcmTagKey& key, DcmEVR vr)
  {
    DcmTag tag(key, DcmVR(vr));
    switch (vr)
    {
      case EVR_SH: return new DcmShortString(tag);
      case EVR_LO: return new DcmLongString(tag);
      case EVR_ST: return new DcmShortText(tag);
      case EVR_LT: return new DcmLongText(tag);
      case EVR_UT: return new DcmUnlimitedText(tag);
      case EVR_UC: return new DcmUnlimitedCharacters(tag);
      case EVR_PN: return new DcmPersonName(tag);
      default: return nullptr;
    }
  }

  // "doe" and "john" are English words: only the identifying values remove them.
  void AddPatient(DcmDataset& ds)
  {
    ds.putAndInsertString(DCM_PatientName, "Doe^John");
    ds.putAndInsertString(DCM_PatientBirthDate, "19700305");
  }
}

TEST(CleanDescriptors, EveryTextAttributeOfTableE11IsCleanedNotDropped)
{
  size_t text = 0;
  std::vector<std::string> notText;
  for (const AttributeRule& rule : Tables()->GetAttributes())
  {
    if (rule.GetOptionAction(Option::CleanDescriptors) != ActionCode::C)
    {
      continue;
    }
    ASSERT_TRUE(rule.tag.IsExact()) << rule.tagText;
    DcmTagKey key(rule.tag.group, rule.tag.element);
    DcmEVR vr = VrOf(rule.tag);
    DcmElement* element = NewTextElement(key, vr);
    if (element == nullptr)
    {
      notText.push_back(rule.tagText + " " + DcmVR(vr).getVRName());
      continue;
    }
    text++;

    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    AddPatient(ds);
    // SH holds 16 characters.
    std::string value = (vr == EVR_SH) ? "CHEST doe" : (vr == EVR_PN) ? "Chest^John" :
      "CHEST CONTRAST john DOE 1970-03-05";
    ASSERT_TRUE(element->putString(value.c_str()).good());
    ASSERT_TRUE(ds.insert(element, true).good());

    Providers p;
    VocabularyTextCleaner cleaner;
    p.context.textCleaner = &cleaner;
    auto profile = MakeProfile(OptionSet{ Option::CleanDescriptors });
    DeidentificationSettings settings;
    settings.recordChanges = true;
    DeidentificationResult result = Deidentifier(*profile).Apply(*file, p.context, settings);

    std::string after = GetString(ds, key);
    EXPECT_NE("<absent>", after) << rule.tagText << " " << rule.name;
    EXPECT_NE(std::string::npos, after.find(vr == EVR_PN ? "Chest" : "CHEST")) << rule.tagText << ": " << after;
    EXPECT_EQ(std::string::npos, after.find("john")) << rule.tagText;
    EXPECT_EQ(std::string::npos, after.find("John")) << rule.tagText;
    EXPECT_EQ(std::string::npos, after.find("doe")) << rule.tagText;
    EXPECT_EQ(std::string::npos, after.find("DOE")) << rule.tagText;
    EXPECT_EQ(std::string::npos, after.find("1970")) << rule.tagText;

    // The preview says what was removed, by category only.
    bool reasoned = false;
    for (const ElementChange& change : result.changes)
    {
      if (change.tag == rule.tagText || change.name == DcmTag(key).getTagName())
      {
        if (change.action == "C" && change.reason.find("identifying value") != std::string::npos &&
            change.reason.find("john") == std::string::npos)
        {
          reasoned = true;
        }
      }
    }
    EXPECT_TRUE(reasoned) << rule.tagText;
  }

  // 140 C cells in 2026c: 128 text attributes; 9 sequences, 2 OB, 1 CS are
  // not text (EveryOtherAttributeOfTableE11IsHandledByACleaner).
  EXPECT_EQ(128u, text);
  EXPECT_EQ(12u, notText.size());
  for (const std::string& t : notText)
  {
    EXPECT_TRUE(t.find(" SQ") != std::string::npos || t.find(" OB") != std::string::npos ||
                t.find(" CS") != std::string::npos) << t;
  }
}

TEST(CleanDescriptors, EveryOtherAttributeOfTableE11IsHandledByACleaner)
{
  // The C attributes that are not plain text (DescriptorSequenceCleaning.cpp):
  // a sequence keeps its coded item with a cleaned meaning, OB goes with the
  // cleaner's reason, CS is cleaned by the vocabulary; none is silently dropped.
  size_t sequences = 0, binary = 0, codes = 0;
  for (const AttributeRule& rule : Tables()->GetAttributes())
  {
    if (rule.GetOptionAction(Option::CleanDescriptors) != ActionCode::C)
    {
      continue;
    }
    DcmTagKey key(rule.tag.group, rule.tag.element);
    const DcmEVR vr = VrOf(rule.tag);
    if (DcmElement* probe = NewTextElement(key, vr))
    {
      delete probe;
      continue;   // EveryTextAttributeOfTableE11IsCleanedNotDropped
    }

    auto file = MakeFile();
    DcmDataset& ds = *file->getDataset();
    AddPatient(ds);
    if (vr == EVR_SQ)
    {
      DcmSequenceOfItems* sequence = new DcmSequenceOfItems(DcmTag(key, EVR_SQ));
      DcmItem* item = new DcmItem;
      item->putAndInsertString(DCM_CodeValue, "233604007");
      item->putAndInsertString(DCM_CodingSchemeDesignator, "SCT");
      item->putAndInsertString(DCM_CodeMeaning, "Pneumonia john DOE 1970-03-05");
      sequence->insert(item);
      ASSERT_TRUE(ds.insert(sequence, true).good());
    }
    else if (vr == EVR_OB)
    {
      const Uint8 bytes[] = { 'D', 'O', 'E', 0 };
      ASSERT_TRUE(ds.putAndInsertUint8Array(key, bytes, sizeof(bytes)).good());
    }
    else
    {
      ASSERT_EQ(EVR_CS, vr) << rule.tagText;
      ASSERT_TRUE(ds.putAndInsertString(key, "CORRECT").good());
    }

    Providers p;
    VocabularyTextCleaner cleaner;
    p.context.textCleaner = &cleaner;
    auto profile = MakeProfile(OptionSet{ Option::CleanDescriptors });
    DeidentificationSettings settings;
    settings.recordChanges = true;
    DeidentificationResult result = Deidentifier(*profile).Apply(*file, p.context, settings);

    if (vr == EVR_SQ)
    {
      sequences++;
      DcmItem* item = GetItem(ds, key);
      ASSERT_NE(nullptr, item) << rule.tagText << " " << rule.name;
      EXPECT_EQ("233604007", GetString(*item, DCM_CodeValue)) << rule.tagText;
      EXPECT_EQ("Pneumonia", GetString(*item, DCM_CodeMeaning)) << rule.tagText;
      bool cleaned = false;
      for (const ElementChange& change : result.changes)
      {
        cleaned |= change.tag == rule.tagText && change.action == "C" && change.option == "CleanDescriptors";
      }
      EXPECT_TRUE(cleaned) << rule.tagText;
    }
    else if (vr == EVR_OB)
    {
      binary++;
      EXPECT_FALSE(Has(ds, key)) << rule.tagText;
      bool reasoned = false;
      for (const ElementChange& change : result.changes)
      {
        reasoned |= change.tag == rule.tagText && change.action == "X" &&
          change.reason == "C: binary value cannot be cleaned";
      }
      EXPECT_TRUE(reasoned) << rule.tagText;
    }
    else
    {
      codes++;
      EXPECT_EQ("CORRECT", GetString(ds, key)) << rule.tagText;   // a defined term: kept by the cleaner
    }
  }
  EXPECT_EQ(9u, sequences);
  EXPECT_EQ(2u, binary);
  EXPECT_EQ(1u, codes);
}

TEST(CleanDescriptors, PydicomFilesKeepClinicalWordsAndLoseThePatient)
{
  const std::string corpus = "/usr/lib/python3/dist-packages/pydicom/data/test_files/";
  for (const char* name : { "CT_small.dcm", "MR_small.dcm" })
  {
    std::ifstream in(corpus + name, std::ios::binary);
    if (!in)
    {
      GTEST_SKIP() << "pydicom test files not installed";
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::unique_ptr<DcmFileFormat> file = ParseDicom(bytes.data(), bytes.size());
    DcmDataset& ds = *file->getDataset();

    // The patient's name of the file (CompressedSamples^CT1) injected into the descriptors.
    std::string patient = GetString(ds, DCM_PatientName);
    std::string family = patient.substr(0, patient.find('^'));
    std::string given = patient.substr(patient.find('^') + 1);
    std::string institution = GetString(ds, DCM_InstitutionName);
    ds.putAndInsertString(DCM_StudyDescription, ("CT CHEST W CONTRAST " + family).c_str());
    ds.putAndInsertString(DCM_SeriesDescription, ("AXIAL 1mm " + given + " " + institution).c_str());
    ds.putAndInsertString(DCM_ProtocolName, ("T2 FLAIR " + family + " " + given).c_str());

    Providers p;
    VocabularyTextCleaner cleaner;
    p.context.textCleaner = &cleaner;
    auto profile = MakeHeadersOnlyProfile(OptionSet{ Option::CleanDescriptors });
    Deidentifier(*profile).Apply(*file, p.context);

    EXPECT_EQ("CT CHEST W CONTRAST", GetString(ds, DCM_StudyDescription)) << name;
    EXPECT_EQ("AXIAL 1mm", GetString(ds, DCM_SeriesDescription)) << name;
    EXPECT_EQ("T2 FLAIR", GetString(ds, DCM_ProtocolName)) << name;
    // "Uncompressed" is an English word: Image Comments are kept cleaned.
    EXPECT_EQ("Uncompressed", GetString(ds, DCM_ImageComments)) << name;
  }
}

TEST(CleanDescriptors, IdentifyingValuesCollectedAtAnyDepth)
{
  auto file = MakeFile();
  DcmDataset& ds = *file->getDataset();
  ds.putAndInsertString(DCM_PatientAddress, "12 Main Street");
  ds.putAndInsertString(DCM_InstitutionalDepartmentName, "Radiology North");
  ds.putAndInsertString(DCM_StudyDescription, "CT CHEST");          // C: a descriptor, not identifying
  ds.putAndInsertString(DCM_PatientSex, "M");                         // not removed by the profile
  DcmItem& item = AddItem(ds, DCM_RequestAttributesSequence);
  DcmItem& nested = AddItem(item, DCM_ReferencedStudySequence);
  nested.putAndInsertString(DCM_PersonName, "Nested^Person");        // PN anywhere
  item.putAndInsertString(DCM_RequestedProcedureID, "RP-998877");

  std::vector<IdentifyingValue> values = CollectIdentifyingValues(ds);
  std::map<std::string, std::string> found;
  for (const IdentifyingValue& v : values)
  {
    found[v.value] = v.vr;
  }
  EXPECT_EQ("PN", found["Doe^John"]);
  EXPECT_EQ("LO", found["PID-12345"]);
  EXPECT_EQ("LO", found["12 Main Street"]);
  EXPECT_EQ("LO", found["Radiology North"]);
  EXPECT_EQ("PN", found["Nested^Person"]);
  EXPECT_EQ("SH", found["RP-998877"]);
  EXPECT_EQ(0u, found.count("CT CHEST"));
  EXPECT_EQ(0u, found.count("M"));
}

TEST(CleanDescriptors, PydicomCorpusCleanedTextsHoldNoIdentifyingWord)
{
  // Every file of the corpus with Clean Descriptors, Structured Content and
  // Graphics: no word of the instance's names and no whole ID, date or
  // address is left in a text the cleaner kept.
  const std::string corpus = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
  std::error_code ec;
  if (!std::filesystem::is_directory(corpus, ec))
  {
    GTEST_SKIP() << "pydicom test files not installed";
  }
  size_t files = 0, cleaned = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus, ec))
  {
    if (entry.path().extension() != ".dcm" || entry.file_size(ec) > 4 * 1024 * 1024)
    {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::unique_ptr<DcmFileFormat> file;
    try
    {
      file = ParseDicom(bytes.data(), bytes.size());
    }
    catch (const std::exception&)
    {
      continue;
    }
    std::vector<IdentifyingValue> identifying = CollectIdentifyingValues(*file->getDataset());

    Providers p;
    VocabularyTextCleaner cleaner;
    p.context.textCleaner = &cleaner;
    auto profile = MakeHeadersOnlyProfile(OptionSet{ Option::CleanDescriptors, Option::CleanStructuredContent,
                                                     Option::CleanGraphics });
    DeidentificationSettings settings;
    settings.recordChanges = true;
    DeidentificationResult result;
    try
    {
      result = Deidentifier(*profile).Apply(*file, p.context, settings);
    }
    catch (const std::exception&)
    {
      continue;   // refused or bad input: nothing written
    }
    files++;

    for (const ElementChange& change : result.changes)
    {
      if (change.action != "C" || !change.after || change.option.find("Clean") == std::string::npos)
      {
        continue;
      }
      cleaned++;
      std::string after = " ";
      for (char c : *change.after)
      {
        after += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : ' ';
      }
      after += " ";
      for (const IdentifyingValue& v : identifying)
      {
        std::string words;
        for (char c : v.value)
        {
          words += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : ' ';
        }
        std::istringstream split(words);
        std::string word, whole;
        while (split >> word)
        {
          whole += (whole.empty() ? "" : " ") + word;
          if (v.vr == "PN" && word.size() >= 3)
          {
            EXPECT_EQ(std::string::npos, after.find(" " + word + " "))
              << entry.path().filename() << " " << change.name << ": a name word of " << v.tag.toString();
          }
        }
        if (v.vr != "PN" && whole.size() >= 4)
        {
          EXPECT_EQ(std::string::npos, after.find(" " + whole + " "))
            << entry.path().filename() << " " << change.name << ": the value of " << v.tag.toString();
        }
      }
    }
  }
  std::cout << files << " files, " << cleaned << " cleaned texts kept" << std::endl;
  EXPECT_GT(files, 50u);
  EXPECT_GT(cleaned, 20u);   // texts were kept cleaned, not only dropped
}
