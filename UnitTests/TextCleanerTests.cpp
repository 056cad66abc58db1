// The text cleaner of action C (Engine/TextCleaner.h) on crafted strings:
// identifying values and patterns are removed AND the clinical words stay.

#include "Engine/TextCleaner.h"
#include "Engine/TextVocabulary.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

using namespace Deid;

namespace
{
  struct Cleaned
  {
    bool ok = false;
    std::string value;
    std::vector<std::string> categories;

    bool Has(const std::string& category) const
    {
      return std::find(categories.begin(), categories.end(), category) != categories.end();
    }
  };

  Cleaned Clean(const std::string& text, const std::string& vr = "LO",
                const std::vector<IdentifyingValue>& identifying = {})
  {
    static VocabularyTextCleaner cleaner;
    Cleaned result;
    CleaningContext context;
    context.tag = DCM_StudyDescription;
    context.vr = vr;
    context.chosenBy = Option::CleanDescriptors;
    context.identifying = &identifying;
    context.removedCategories = &result.categories;
    result.value = text;
    result.ok = cleaner.CleanText(context, result.value);
    return result;
  }

  std::vector<IdentifyingValue> Patient()
  {
    // Both "doe" and "john" are English words of the vocabulary: only the
    // identifying values can remove them.
    return {
      { DCM_PatientName, "PN", "Doe^John^^Dr" },
      { DCM_PatientID, "LO", "PID-12345" },
      { DCM_PatientBirthDate, "DA", "20230131" },
      { DCM_AccessionNumber, "SH", "ACC77" },
      { DCM_InstitutionName, "LO", "Saint Mark Hospital" },
      { DCM_OtherPatientNames, "PN", "Dupr\xC3\xA9^Rose" },   // UTF-8 "Dupré"
    };
  }
}

TEST(TextCleaner, VocabularyIsLoaded)
{
  const TextVocabulary& v = TextVocabulary::Get();
  EXPECT_GT(v.GetSize(), 60000u);
  for (const char* word : { "chest", "contrast", "flair", "mprage", "axial", "helical", "t2", "kvp", "w", "lumbar" })
  {
    EXPECT_TRUE(v.Contains(word)) << word;
  }
  for (const char* word : { "smithers", "xylander", "john's", "j", "q", "k", "mary" })
  {
    EXPECT_FALSE(v.Contains(word)) << word;   // proper names, possessives, initials
  }
}

TEST(TextCleaner, ClinicalDescriptorsSurvive)
{
  for (const char* text : { "CT CHEST W CONTRAST", "AXIAL 1mm", "T2 FLAIR", "Head^Routine", "Ax T1 post gad",
                            "5.0 mm", "120kVp 250mAs", "3T", "512x512", "DWI b1000 ADC", "C-SPINE C2-C7 SAG STIR",
                            "MPRAGE 1.5T", "CT ABD/PELVIS W/O", "Slice 0.625 mm", "PET-CT FDG whole body",
                            "L4-L5 disc", "Lung 1.25mm B70f", "Series 3 of 12", "2D TOF", "3D T1 VIBE",
                            "ep2d_diff_3scan_trace_p2", "XR CHEST 2V PA LAT", "Topogram 0.6 T20s",
                            "Thorax^1_Routine_CHEST", "MRI BRAIN W/WO CONTRAST", "s/p RUL lobectomy" })
  {
    Cleaned c = Clean(text);
    EXPECT_TRUE(c.ok) << text;
    EXPECT_EQ(text, c.value) << text;
    EXPECT_TRUE(c.categories.empty()) << text;
  }
}

TEST(TextCleaner, UnknownNamesRemovedReadably)
{
  Cleaned c = Clean("Brain MRI Smithers");
  EXPECT_TRUE(c.ok);
  EXPECT_EQ("Brain MRI", c.value);
  EXPECT_EQ(std::vector<std::string>{ "unknown word" }, c.categories);

  EXPECT_EQ("Head^Routine", Clean("Head^Smithers^Routine").value);
  EXPECT_EQ("CT, chest", Clean("CT, Xylander, chest").value);
  EXPECT_EQ("CT chest", Clean("CT (Xylander) chest").value);
  EXPECT_EQ("T2", Clean("Xylander (T2)").value);
  EXPECT_EQ("CT head", Clean("CT head (Dr Xylander)").value);
  EXPECT_EQ("CT", Clean("\xE8\x83\xB8\xE9\x83\xA8 CT").value);   // CJK: never vouched for

  // A capitalised name after a title goes even when it is an English word.
  Cleaned titled = Clean("Referred by Dr. Smith for CT");
  EXPECT_EQ("Referred by for CT", titled.value);
  EXPECT_EQ(std::vector<std::string>{ "person name" }, titled.categories);
  // What is glued to a removed word goes with it.
  EXPECT_EQ("Patient chest", Clean("Patient O'Xylander chest").value);
  EXPECT_EQ("chest seen", Clean("chest 2023-000123 seen").value);
  // CamelCase words of the vocabulary.
  EXPECT_EQ("Head^HeadSeq (Adult)", Clean("Head^HeadSeq (Adult)").value);

  // Everything removed: false, the Basic Profile action applies (it knows the Type).
  Cleaned all = Clean("Dr Xylander");
  EXPECT_FALSE(all.ok);
}

TEST(TextCleaner, IdentifyingValuesRemovedCaseAndAccentInsensitively)
{
  Cleaned c = Clean("CT chest john DOE", "LO", Patient());
  EXPECT_TRUE(c.ok);
  EXPECT_EQ("CT chest", c.value);
  EXPECT_EQ(std::vector<std::string>{ "identifying value" }, c.categories);

  // Without the instance's values the same English words stay.
  EXPECT_EQ("CT chest john DOE", Clean("CT chest john DOE").value);

  // "DUPRE" (folded from Dupré) and "rose": identifying, not unknown.
  Cleaned accents = Clean("chest DUPRE rose", "LO", Patient());
  EXPECT_EQ("chest", accents.value);
  EXPECT_TRUE(accents.Has("identifying value"));
  EXPECT_FALSE(accents.Has("unknown word"));

  // IDs whole, with or without their punctuation; institution names whole.
  EXPECT_EQ("ref chest", Clean("ref PID-12345 chest", "LO", Patient()).value);
  EXPECT_EQ("ref chest", Clean("ref pid12345 chest", "LO", Patient()).value);
  EXPECT_EQ("chest", Clean("chest ACC77", "LO", Patient()).value);
  Cleaned institution = Clean("chest Saint Mark Hospital", "LO", Patient());
  EXPECT_EQ("chest", institution.value);
  EXPECT_EQ(std::vector<std::string>{ "identifying value" }, institution.categories);
  // Without the institution, "saint mark hospital" are ordinary words.
  EXPECT_EQ("chest saint mark hospital", Clean("chest saint mark hospital").value);
}

TEST(TextCleaner, IdentifyingDatesInCommonFormats)
{
  for (const char* date : { "2023-01-31", "31/01/2023", "01.31.2023", "20230131", "Jan 31 2023",
                            "31 January 2023", "31-Jan-2023", "1/31/23", "January 31, 2023" })
  {
    Cleaned c = Clean(std::string("chest ") + date + " contrast", "LO", Patient());
    EXPECT_EQ("chest contrast", c.value) << date;
    EXPECT_EQ(std::vector<std::string>{ "identifying value" }, c.categories) << date;
  }
}

TEST(TextCleaner, PatternsRemoved)
{
  struct Case { const char* text; const char* expected; const char* category; };
  for (const Case& k : std::vector<Case>{
         { "chest 2021-05-06", "chest", "date" },
         { "chest 06/05/2021", "chest", "date" },
         { "chest March 2021", "chest", "date" },
         { "chest 20210506", "chest", "date" },
         { "chest at 10:30", "chest at", "time" },
         { "chest 10:30:15 pm", "chest", "time" },
         { "call +33 1 23 45 67 89 chest", "call chest", "phone number" },
         { "call (555) 123-4567 chest", "call chest", "phone number" },
         { "call 555-1234 chest", "call chest", "phone number" },
         { "mail john.roe@example.org chest", "mail chest", "e-mail address" },
         { "see https://pacs.example.org/viewer?id=3 chest", "see chest", "URL" },
         { "see www.hospital.org chest", "see chest", "URL" },
         { "MRN12345 chest", "chest", "identifier" },
         { "chest 123456", "chest", "identifier" },
         { "chest A12B34", "chest", "identifier" },
         { "chest 45yo", "chest", "age" },
         { "chest 45 years old", "chest", "age" },
       })
  {
    Cleaned c = Clean(k.text, "LT");
    EXPECT_TRUE(c.ok) << k.text;
    EXPECT_EQ(k.expected, c.value) << k.text;
    EXPECT_TRUE(c.Has(k.category)) << k.text << " (" << (c.categories.empty() ? "" : c.categories[0]) << ")";
  }
}

TEST(TextCleaner, ValueRepresentations)
{
  // Multi-valued: each value cleaned, empty ones dropped, no backslash added.
  EXPECT_EQ("CHEST\\HEAD", Clean("CHEST\\Smithers\\HEAD", "LO").value);
  Cleaned st = Clean("chest\\Smithers", "ST");   // single-valued: "\" is text
  EXPECT_EQ("chest", st.value);

  // PN: every word is a name, even an English word; components and groups
  // keep their places for what is left (numbers).
  Cleaned pn = Clean("Brown^Rose^^^3", "PN");
  EXPECT_EQ("^^^^3", pn.value);
  EXPECT_EQ(std::vector<std::string>{ "person name" }, pn.categories);
  EXPECT_FALSE(Clean("Head^Routine", "PN").ok);
  EXPECT_FALSE(Clean("Doe^John", "PN", Patient()).ok);

  // The result is never longer than the value (SH 16, LO 64...).
  Cleaned sh = Clean("CHEST Xylander", "SH");
  EXPECT_EQ("CHEST", sh.value);

  // CS: an enumerated value is kept whole or not at all.
  EXPECT_TRUE(Clean("COERCE", "CS").ok);
  EXPECT_FALSE(Clean("XYLANDER", "CS").ok);

  // Not text: the Basic Profile action.
  EXPECT_FALSE(Clean("20230131", "DA").ok);
  EXPECT_FALSE(Clean("1.2.3", "UI").ok);
  EXPECT_FALSE(Clean("http://example.org", "UR").ok);

  // Line breaks of long texts are kept.
  EXPECT_EQ("Findings:\nno change", Clean("Findings:\nDr Xylander\nno change", "LT").value);
  // An empty value is clean.
  Cleaned empty = Clean("", "LO");
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ("", empty.value);
}

TEST(TextCleaner, ThreadSafe)
{
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (size_t i = 0; i < results.size(); i++)
  {
    threads.emplace_back([i, &results] { results[i] = Clean("CT chest john DOE Smithers 2023-01-31", "LO", Patient()).value; });
  }
  for (std::thread& t : threads)
  {
    t.join();
  }
  for (const std::string& r : results)
  {
    EXPECT_EQ("CT chest", r);
  }
}

TEST(TextCleaner, LongTextIsBounded)
{
  std::string text;
  for (int i = 0; i < 20000; i++)
  {
    text += "chest Smithers 555-1234 ";
  }
  Cleaned c = Clean(text, "UT", Patient());
  EXPECT_TRUE(c.ok);
  EXPECT_EQ(std::string::npos, c.value.find("Smithers"));
  EXPECT_EQ(std::string::npos, c.value.find("555"));
}

TEST(TextCleaner, ArbitraryBytesNeverCrashOrGrow)
{
  // Any bytes (invalid UTF-8, control characters, lone separators) give a
  // value no longer than the input, or false.
  uint32_t state = 12345;
  auto next = [&state]() { state = state * 1103515245u + 12345u; return (state >> 16) & 0xFF; };
  const char alphabet[] = "aZ09 -./:@^=\\()+,\n\xC3\xA9\xFF";   // 21 bytes and the NUL
  for (int round = 0; round < 1000; round++)
  {
    std::string text;
    size_t length = next() % 64;
    for (size_t i = 0; i < length; i++)
    {
      text += (next() % 2 == 0) ? static_cast<char>(next()) : alphabet[next() % 22];
    }
    for (const char* vr : { "SH", "LO", "ST", "LT", "UT", "UC", "PN", "CS" })
    {
      Cleaned c = Clean(text, vr, Patient());
      if (c.ok)
      {
        EXPECT_LE(c.value.size(), text.size());
        if (std::string(vr) == "ST" || std::string(vr) == "LT" || std::string(vr) == "UT")
        {
          EXPECT_LE(std::count(c.value.begin(), c.value.end(), '\\'),
                    std::count(text.begin(), text.end(), '\\'));
        }
      }
    }
  }
}
