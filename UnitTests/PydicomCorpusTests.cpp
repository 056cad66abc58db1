// Runs the Basic Profile on every file of pydicom's test corpus and checks
// that no value of an attribute that Table E.1-1 says to remove or replace
// (every action but K), and no private value, survives anywhere in the bytes
// written (PS3.15 E.1).
#include "DeidentifierTestSupport.h"
#include "Engine/BurnedInText.h"

#include "Engine/DeidError.h"
#include "Engine/DummyValues.h"

#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcdicent.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  const char* const CORPUS = "/usr/lib/python3/dist-packages/pydicom/data/test_files";

  std::vector<std::string> ListCorpus()
  {
    std::vector<std::string> files;
    std::error_code ec;
    if (!std::filesystem::is_directory(CORPUS, ec))
    {
      return files;
    }
    for (auto it = std::filesystem::recursive_directory_iterator(CORPUS, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    {
      if (ec)
      {
        break;
      }
      if (it->is_regular_file())
      {
        files.push_back(std::filesystem::relative(it->path(), CORPUS).string());
      }
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  std::string ReadAll(const std::string& path)
  {
    std::ifstream input(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  }

  std::string Trim(const std::string& s)
  {
    size_t b = s.find_first_not_of(std::string(" \t\r\n\0", 5));
    if (b == std::string::npos)
    {
      return std::string();
    }
    size_t e = s.find_last_not_of(std::string(" \t\r\n\0", 5));
    return s.substr(b, e - b + 1);
  }

  bool IsStringLike(DcmElement& element)
  {
    DcmEVR vr = element.ident();
    if (IsStringVR(vr))
    {
      return true;
    }
    if (vr == EVR_UN || vr == EVR_UNKNOWN || vr == EVR_UNKNOWN2B)
    {
      // UN: the dictionary VR decides.
      const DcmDataDictionary& dict = dcmDataDict.rdlock();
      const DcmDictEntry* entry = dict.findEntry(element.getTag(), nullptr);
      bool s = entry != nullptr && IsStringVR(entry->getEVR());
      dcmDataDict.rdunlock();
      return s;
    }
    return false;
  }

  // The value of an element as bytes: the text of string VRs (also when
  // encoded as UN), the raw bytes of binary ones.
  bool GetValue(DcmElement& element, bool stringOnly, std::string& value)
  {
    if (!element.isLeaf() || element.getLength() == 0)
    {
      return false;
    }

    const DcmEVR vr = element.ident();
    if (vr == EVR_UN || vr == EVR_OB || vr == EVR_UNKNOWN)
    {
      if (stringOnly && !IsStringLike(element))
      {
        return false;
      }
      Uint8* bytes = nullptr;
      if (element.getUint8Array(bytes).bad() || bytes == nullptr)
      {
        return false;
      }
      value.assign(reinterpret_cast<const char*>(bytes), element.getLength());
      value = Trim(value);
      return true;
    }

    if (!IsStringVR(vr))
    {
      return false;
    }

    OFString s;
    if (element.getOFStringArray(s).bad())
    {
      return false;
    }
    value = Trim(std::string(s.c_str(), s.length()));
    return true;
  }

  struct Values
  {
    std::map<std::string, std::string> sensitive;   // value -> tag; must not appear in the output
    std::set<std::string> kept;        // values of kept attributes: may appear
  };

  void AddValue(std::map<std::string, std::string>& target, const std::string& value, const std::string& tag)
  {
    target[value] = tag;
    size_t start = 0;
    for (;;)
    {
      size_t pos = value.find('\\', start);
      target[Trim(value.substr(start, pos == std::string::npos ? std::string::npos : pos - start))] = tag;
      if (pos == std::string::npos)
      {
        break;
      }
      start = pos + 1;
    }
  }

  void AddValue(std::vector<std::string>& target, const std::string& value)
  {
    target.push_back(value);
    size_t start = 0;
    for (;;)
    {
      size_t pos = value.find('\\', start);
      target.push_back(Trim(value.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
      if (pos == std::string::npos)
      {
        break;
      }
      start = pos + 1;
    }
  }

  void AddValue(std::set<std::string>& target, const std::string& value)
  {
    target.insert(value);
    size_t start = 0;
    for (;;)
    {
      size_t pos = value.find('\\', start);
      target.insert(Trim(value.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
      if (pos == std::string::npos)
      {
        break;
      }
      start = pos + 1;
    }
  }

  // Where an element is: what the engine does with the elements it does not
  // list (see Deidentifier.cpp, "D on a sequence").
  enum class Context
  {
    Normal,          // unlisted elements are kept
    Removed,         // inside a sequence removed or emptied (X, Z): everything is protected
    Dummy,           // inside a D sequence: unlisted text is protected, coded attributes too
    DummyKeepCodes   // inside an unlisted sequence in a D sequence: coded attributes kept
  };

  bool IsCodeAttribute(const DcmTagKey& key)
  {
    return key.getGroup() == 0x0008 &&
      (key == DCM_CodeValue || key == DCM_CodingSchemeDesignator || key == DCM_CodingSchemeVersion ||
       key == DCM_CodeMeaning || key == DCM_MappingResource || key == DCM_ContextGroupExtensionFlag ||
       key == DCM_ContextGroupExtensionCreatorUID || key == DCM_ContextIdentifier || key == DCM_ContextUID ||
       key == DCM_MappingResourceUID || key == DCM_LongCodeValue || key == DCM_URNCodeValue ||
       key == DCM_MappingResourceName);
  }

  // Free text, names, dates and times: an unlisted value of these VRs inside
  // a D sequence must become a dummy. (CS, UI, numbers and binary are kept.)
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

  DcmEVR DictionaryVR(const DcmTagKey& key)
  {
    const DcmDataDictionary& dict = dcmDataDict.rdlock();
    const DcmDictEntry* entry = dict.findEntry(key, nullptr);
    DcmEVR vr = entry != nullptr ? entry->getEVR() : EVR_UN;
    dcmDataDict.rdunlock();
    return vr;
  }

  void Collect(DcmItem& item, const Profile& profile, Context context, bool isDicomDir, Values& values)
  {
    const bool dummy = (context == Context::Dummy || context == Context::DummyKeepCodes);
    for (unsigned long i = 0; i < item.card(); i++)
    {
      DcmElement* element = item.getElement(i);
      const DcmTagKey key = element->getTag();
      const bool isPrivate = (key.getGroup() & 1) != 0;
      DcmSequenceOfItems* sequence = dynamic_cast<DcmSequenceOfItems*>(element);

      bool sensitive = (context == Context::Removed) || isPrivate;
      Context inner = sensitive ? Context::Removed : (dummy ? Context::DummyKeepCodes : Context::Normal);
      if (!sensitive)
      {
        ResolvedAction r = profile.Resolve(key);
        ActionCode action = r.action;
        if (action == ActionCode::C && r.rule != nullptr)
        {
          action = r.rule->basic;   // the default providers clean nothing: the Basic action
        }

        if (sequence != nullptr)
        {
          switch (action)
          {
            case ActionCode::D: case ActionCode::ZD: case ActionCode::XD: case ActionCode::XZD:
              inner = Context::Dummy;
              break;
            case ActionCode::X: case ActionCode::Z: case ActionCode::XZ:
              inner = Context::Removed;
              break;
            case ActionCode::K:
              inner = Context::Normal;
              break;
            default:   // not listed, X/Z/U*: kept, items processed
              break;
          }
        }
        else if (action == ActionCode::None)
        {
          // Not listed: kept, but inside a D sequence text becomes a dummy.
          if (dummy)
          {
            DcmEVR vr = element->ident();
            if (vr == EVR_UN || vr == EVR_UNKNOWN || vr == EVR_UNKNOWN2B)
            {
              vr = DictionaryVR(key);
            }
            const bool keptCode = (context == Context::DummyKeepCodes && IsCodeAttribute(key));
            sensitive = !keptCode && IsFreeTextVR(vr);
          }
        }
        else
        {
          sensitive = (action != ActionCode::K && action != ActionCode::XZU);
        }

        if (key.getGroup() == 0x0004 && !isDicomDir)
        {
          sensitive = true;
          inner = Context::Removed;
        }
      }

      if (sequence != nullptr)
      {
        for (unsigned long j = 0; j < sequence->card(); j++)
        {
          Collect(*sequence->getItem(j), profile, inner, isDicomDir, values);
        }
        continue;
      }

      std::string value;
      if (GetValue(*element, !sensitive || !isPrivate, value) && !value.empty())
      {
        if (sensitive)
        {
          AddValue(values.sensitive, value, DcmTag(key).toString().c_str());
        }
        else
        {
          AddValue(values.kept, value);
        }
      }
    }
  }

  struct Unreadable
  {
    std::mutex mutex;
    std::vector<std::string> files;
  };

  Unreadable& GetUnreadable()
  {
    static Unreadable u;
    return u;
  }

  // The bytes to search: uncompressed (a deflated output is re-encoded).
  std::string SearchableBytes(const std::string& output)
  {
    auto back = ParseDicom(output.data(), output.size());
    if (back->getDataset()->getOriginalXfer() != EXS_DeflatedLittleEndianExplicit)
    {
      return output;
    }

    std::string path = (std::filesystem::temp_directory_path() /
                        ("deid-corpus-" + std::to_string(reinterpret_cast<uintptr_t>(&output)) + ".dcm")).string();
    EXPECT_TRUE(back->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    std::string bytes = ReadAll(path);
    std::filesystem::remove(path);
    return bytes;
  }

  // The descriptions (tag, size) of the protected values of the input found in
  // the output. "changes" are the engine's changes: the values it wrote are
  // masked first.
  std::vector<std::string> FindLeaks(const std::string& input, const std::string& rawOutput,
                                     const Profile& profile, const std::vector<ElementChange>& changes,
                                     size_t& checked)
  {
    // The original values, from a separate copy of the input.
    Values values;
    {
      auto original = ParseDicom(input.data(), input.size());
      OFString sopClass;
      original->getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
      Collect(*original->getDataset(), profile, Context::Normal, sopClass == "1.2.840.10008.1.3.10", values);

      // File meta information: only these are kept (E.1: the rest is replaced).
      DcmMetaInfo& meta = *original->getMetaInfo();
      for (unsigned long i = 0; i < meta.card(); i++)
      {
        DcmElement* element = meta.getElement(i);
        std::string value;
        if (!GetValue(*element, true, value) || value.empty())
        {
          continue;
        }
        const DcmTagKey key = element->getTag();
        if (key == DCM_TransferSyntaxUID || key == DCM_MediaStorageSOPClassUID)
        {
          AddValue(values.kept, value);
        }
        else if (key == DCM_MediaStorageSOPInstanceUID || key == DCM_SourceApplicationEntityTitle ||
                 key == DCM_SendingApplicationEntityTitle || key == DCM_ReceivingApplicationEntityTitle ||
                 key == DCM_PrivateInformationCreatorUID)
        {
          AddValue(values.sensitive, value, "meta");
        }
      }
    }

    std::string output = SearchableBytes(rawOutput);

    // Mask the values the engine wrote itself (new UIDs, pseudonyms, dummies,
    // method description and codes): a protected value may only be found
    // outside them. Random UIDs could otherwise contain a short numeric value.
    std::vector<std::string> written = { "YES", "ANONYMOUS", "MODIFIED", "UNMODIFIED" };
    for (DcmEVR vr : { EVR_DA, EVR_DT, EVR_TM, EVR_AS, EVR_DS, EVR_UR })
    {
      written.push_back(GetDummyString(vr));
    }
    for (const MethodCode& code : profile.GetMethodCodes())
    {
      written.push_back(code.codeMeaning);
    }
    for (const ElementChange& change : changes)
    {
      if (change.after)
      {
        AddValue(written, *change.after);
      }
    }
    std::sort(written.begin(), written.end(), [](const std::string& x, const std::string& y)
    {
      return x.size() > y.size();
    });
    for (const std::string& w : written)
    {
      if (w.size() < 4)
      {
        continue;
      }
      for (size_t pos = output.find(w); pos != std::string::npos; pos = output.find(w, pos + w.size()))
      {
        std::fill(output.begin() + pos, output.begin() + pos + w.size(), '\0');
      }
    }

    std::vector<std::string> leaks;
    checked = 0;
    for (const auto& entry : values.sensitive)
    {
      const std::string& value = entry.first;
      if (value.size() < 4)
      {
        continue;   // trivially short
      }

      // A kept attribute with the same value (or containing it) may legitimately carry it.
      bool legit = false;
      for (const std::string& kept : values.kept)
      {
        if (kept.find(value) != std::string::npos)
        {
          legit = true;
          break;
        }
      }
      if (legit)
      {
        continue;
      }

      checked++;
      if (output.find(value) != std::string::npos)
      {
        leaks.push_back("a protected value of " + std::to_string(value.size()) + " bytes of " + entry.second);
      }
    }
    return leaks;
  }

  class PydicomCorpus : public ::testing::TestWithParam<std::string>
  {
  };
}


TEST_P(PydicomCorpus, BasicProfileRemovesEveryProtectedValue)
{
  const std::string path = std::string(CORPUS) + "/" + GetParam();
  const std::string input = ReadAll(path);

  std::unique_ptr<DcmFileFormat> file;
  try
  {
    file = ParseDicom(input.data(), input.size());
  }
  catch (DeidError& e)
  {
    EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
    std::lock_guard<std::mutex> lock(GetUnreadable().mutex);
    GetUnreadable().files.push_back(GetParam());
    GTEST_SKIP() << "DCMTK cannot read " << GetParam() << ": " << e.what();
  }

  // Ultrasound, secondary capture, ... (PS3.15 E.3.1): the Basic Profile
  // alone refuses them (burned-in text); the header checks below then run
  // with a profile that accepts that risk.
  BurnedInTextPolicy accept = BurnedInTextPolicy::Default();
  accept.acceptRisk = true;
  if (!file->getDataset()->tagExists(DCM_DirectoryRecordSequence) &&
      !MayCarryBurnedInText(*file->getDataset(), accept).empty())
  {
    auto basic = MakeProfile();
    Providers p;
    auto copy = ParseDicom(input.data(), input.size());
    try
    {
      Deidentifier(*basic).Apply(*copy, p.context);
      ADD_FAILURE() << GetParam() << " may carry burned-in text but was accepted";
    }
    catch (DeidError& e)
    {
      EXPECT_EQ(ErrorCode::Refused, e.GetCode()) << e.what();
    }
  }

  auto profile = std::make_unique<Profile>(Tables(), OptionSet(), "Basic", accept);
  Deidentifier deid(*profile);
  Providers providers;
  DeidentificationSettings settings;
  settings.recordChanges = true;
  DeidentificationResult result;
  if (file->getDataset()->tagExists(DCM_DirectoryRecordSequence))
  {
    // PS3.15 E.1: a DICOMDIR is re-created from the de-identified files, not de-identified.
    try
    {
      deid.Apply(*file, providers.context, settings);
      ADD_FAILURE() << "a DICOMDIR was accepted";
    }
    catch (DeidError& e)
    {
      EXPECT_EQ(ErrorCode::NotImplemented, e.GetCode());
    }
    return;
  }
  ASSERT_NO_THROW(result = deid.Apply(*file, providers.context, settings));

  std::string output;
  ASSERT_NO_THROW(output = WriteDicom(*file));
  ASSERT_NO_THROW(ParseDicom(output.data(), output.size()));

  size_t checked = 0;
  for (const std::string& leak : FindLeaks(input, output, *profile, result.changes, checked))
  {
    ADD_FAILURE() << GetParam() << ": " << leak << " survived";
  }
  RecordProperty("checkedValues", static_cast<int>(checked));

  // Every table option at once (but the exclusive Full Dates): no failure,
  // and the output is still readable.
  auto all = std::make_unique<Profile>(Tables(),
                                       OptionSet{ Option::RetainSafePrivate, Option::RetainUIDs, Option::RetainDeviceIdentity,
                                                  Option::RetainInstitutionIdentity, Option::RetainPatientCharacteristics,
                                                  Option::RetainLongitudinalModifiedDates, Option::CleanDescriptors,
                                                  Option::CleanStructuredContent, Option::CleanGraphics },
                                       "all", accept);
  Deidentifier allDeid(*all);
  Providers shifted(-365);
  settings.collectOriginals = true;
  auto again = ParseDicom(input.data(), input.size());
  ASSERT_NO_THROW(allDeid.Apply(*again, shifted.context, settings));
  std::string allOutput;
  ASSERT_NO_THROW(allOutput = WriteDicom(*again));
  ASSERT_NO_THROW(ParseDicom(allOutput.data(), allOutput.size()));
}

// The check above is not vacuous: on an untouched file it finds the values.
TEST(PydicomCorpusSummary, CheckFindsValuesOfAnUntouchedFile)
{
  const std::string input = ReadAll(std::string(CORPUS) + "/CT_small.dcm");
  if (input.empty())
  {
    GTEST_SKIP() << "pydicom test files not installed";
  }
  auto profile = MakeProfile();
  auto file = ParseDicom(input.data(), input.size());
  std::string output = WriteDicom(*file);
  size_t checked = 0;
  std::vector<std::string> leaks = FindLeaks(input, output, *profile, {}, checked);
  EXPECT_GE(checked, 10u);
  // (a few multi-valued strings are normalized by DCMTK and only found per value)
  EXPECT_GE(leaks.size(), checked * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(Files, PydicomCorpus, ::testing::ValuesIn(ListCorpus()),
                         [](const ::testing::TestParamInfo<std::string>& info)
                         {
                           std::string name;
                           for (char c : info.param)
                           {
                             name.push_back(isalnum(static_cast<unsigned char>(c)) ? c : '_');
                           }
                           return name + "_" + std::to_string(info.index);
                         });

// Lists the files of the corpus that DCMTK cannot read (they are skipped above).
TEST(PydicomCorpusSummary, UnreadableFilesAreListed)
{
  std::vector<std::string> files = ListCorpus();
  if (files.empty())
  {
    GTEST_SKIP() << "pydicom test files not installed (python3-pydicom)";
  }

  std::vector<std::string> unreadable;
  for (const std::string& f : files)
  {
    const std::string input = ReadAll(std::string(CORPUS) + "/" + f);
    try
    {
      ParseDicom(input.data(), input.size());
    }
    catch (DeidError& e)
    {
      EXPECT_EQ(ErrorCode::BadInput, e.GetCode());
      unreadable.push_back(f);
    }
  }

  std::cout << "[ corpus   ] " << files.size() << " files, " << unreadable.size()
            << " not readable by DCMTK (skipped):" << std::endl;
  for (const std::string& f : unreadable)
  {
    std::cout << "[ corpus   ]   " << f << std::endl;
  }

  // Most of the corpus must be processed, or the test proves nothing.
  EXPECT_GT(files.size() - unreadable.size(), files.size() / 2);
}

// Randomly corrupted files: DeidError or a de-identified output, never a crash.
TEST(PydicomCorpusSummary, CorruptedFilesNeverCrash)
{
  std::vector<std::string> files = ListCorpus();
  if (files.empty())
  {
    GTEST_SKIP() << "pydicom test files not installed";
  }

  auto profile = MakeProfile(OptionSet{ Option::RetainSafePrivate, Option::RetainLongitudinalModifiedDates });
  Deidentifier deid(*profile);
  // DEID_FUZZ_ROUNDS / DEID_FUZZ_SEED: a longer run by hand.
  const char* roundsEnv = std::getenv("DEID_FUZZ_ROUNDS");
  const char* seedEnv = std::getenv("DEID_FUZZ_SEED");
  const int rounds = roundsEnv ? std::atoi(roundsEnv) : 20;
  std::mt19937 random(seedEnv ? static_cast<unsigned>(std::atoi(seedEnv)) : 7u);
  size_t processed = 0;
  size_t rejected = 0;

  for (const std::string& name : files)
  {
    const std::string input = ReadAll(std::string(CORPUS) + "/" + name);
    if (input.size() < 256 || input.size() > 300000)
    {
      continue;
    }

    for (int round = 0; round < rounds; round++)
    {
      std::string corrupted = input;
      const int flips = 1 + static_cast<int>(random() % 8);
      for (int i = 0; i < flips; i++)
      {
        // Mostly in the header, where the structure is.
        size_t limit = std::min<size_t>(corrupted.size(), (random() % 4 == 0) ? corrupted.size() : 2048);
        corrupted[random() % limit] = static_cast<char>(random());
      }

      try
      {
        auto file = ParseDicom(corrupted.data(), corrupted.size());
        Providers p(12);
        DeidentificationSettings settings;
        settings.recordChanges = true;
        settings.collectOriginals = true;
        deid.Apply(*file, p.context, settings);
        std::string output = WriteDicom(*file);
        ParseDicom(output.data(), output.size());
        processed++;
      }
      catch (DeidError&)
      {
        rejected++;
      }
    }
  }

  std::cout << "[ corpus   ] corrupted files: " << processed << " de-identified, " << rejected
            << " rejected with DeidError" << std::endl;
  EXPECT_GT(processed + rejected, 0u);
}
