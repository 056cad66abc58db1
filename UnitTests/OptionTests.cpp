// Tests of the Options of PS3.15 E.3 and their CID 7050 codes.
#include "Engine/DeidError.h"
#include "Engine/Option.h"

#include <gtest/gtest.h>

#include <set>

using namespace Deid;

namespace
{
  void ExpectBadOption(const std::string& text)
  {
    try
    {
      OptionSet::Parse(text);
      ADD_FAILURE() << "expected DeidError(BadOption) for \"" << text << "\"";
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::BadOption, e.GetCode());
    }
  }
}

TEST(Option, NamesAndCodes)
{
  EXPECT_STREQ("RetainSafePrivate", GetOptionName(Option::RetainSafePrivate));
  EXPECT_STREQ("113111", GetOptionCodeValue(Option::RetainSafePrivate));
  EXPECT_STREQ("113110", GetOptionCodeValue(Option::RetainUIDs));
  EXPECT_STREQ("113109", GetOptionCodeValue(Option::RetainDeviceIdentity));
  EXPECT_STREQ("113112", GetOptionCodeValue(Option::RetainInstitutionIdentity));
  EXPECT_STREQ("113108", GetOptionCodeValue(Option::RetainPatientCharacteristics));
  EXPECT_STREQ("113106", GetOptionCodeValue(Option::RetainLongitudinalFullDates));
  EXPECT_STREQ("113107", GetOptionCodeValue(Option::RetainLongitudinalModifiedDates));
  EXPECT_STREQ("113105", GetOptionCodeValue(Option::CleanDescriptors));
  EXPECT_STREQ("113104", GetOptionCodeValue(Option::CleanStructuredContent));
  EXPECT_STREQ("113103", GetOptionCodeValue(Option::CleanGraphics));
  EXPECT_STREQ("113101", GetOptionCodeValue(Option::CleanPixelData));
  EXPECT_STREQ("113102", GetOptionCodeValue(Option::CleanRecognizableVisualFeatures));
  EXPECT_STREQ("CleanRecognizableVisualFeatures", GetOptionName(Option::CleanRecognizableVisualFeatures));

  std::vector<Option> all = AllOptions();
  ASSERT_EQ(OPTION_COUNT, all.size());
  std::set<std::string> names, codes;
  for (Option o : all)
  {
    names.insert(GetOptionName(o));
    codes.insert(GetOptionCodeValue(o));
    // Round trip by name and by code.
    EXPECT_EQ(o, ParseOption(GetOptionName(o)));
    EXPECT_EQ(o, ParseOption(GetOptionCodeValue(o)));
  }
  EXPECT_EQ(OPTION_COUNT, names.size());
  EXPECT_EQ(OPTION_COUNT, codes.size());
  EXPECT_EQ(0u, codes.count("113100"));   // the Basic Profile itself is not an option
}

TEST(Option, Implemented)
{
  EXPECT_TRUE(IsOptionImplemented(Option::CleanPixelData));
  EXPECT_TRUE(IsOptionImplemented(Option::CleanRecognizableVisualFeatures));   // head CT defacing (E.3.2)
  for (size_t i = 0; i < TABLE_OPTION_COLUMNS; i++)
  {
    EXPECT_TRUE(IsOptionImplemented(static_cast<Option>(i))) << i;
  }
}

TEST(Option, ParseOption)
{
  EXPECT_EQ(Option::RetainUIDs, ParseOption("RetainUIDs"));
  EXPECT_EQ(Option::RetainUIDs, ParseOption("113110"));
  EXPECT_EQ(Option::RetainLongitudinalModifiedDates, ParseOption("113107"));
  EXPECT_EQ(Option::CleanPixelData, ParseOption("CleanPixelData"));

  for (const char* bad : { "", "retainuids", "RetainUid", "113100", "113113", "Retain UIDs",
                           "Retain UIDs Option", "DCM:113110" })
  {
    try
    {
      ParseOption(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::BadOption, e.GetCode()) << bad;
    }
  }
}

TEST(Option, OptionSet)
{
  OptionSet empty;
  EXPECT_TRUE(empty.IsEmpty());
  EXPECT_TRUE(empty.List().empty());
  EXPECT_TRUE(OptionSet::Parse("").IsEmpty());
  EXPECT_TRUE(OptionSet::Parse("  ").IsEmpty());

  OptionSet s = OptionSet::Parse("CleanDescriptors,113110");
  EXPECT_FALSE(s.IsEmpty());
  EXPECT_TRUE(s.Has(Option::CleanDescriptors));
  EXPECT_TRUE(s.Has(Option::RetainUIDs));
  EXPECT_FALSE(s.Has(Option::RetainSafePrivate));
  EXPECT_TRUE(s == (OptionSet{ Option::RetainUIDs, Option::CleanDescriptors }));

  // List() is in Option order, duplicates collapse, whitespace is ignored.
  OptionSet t = OptionSet::Parse(" CleanGraphics , RetainSafePrivate,113103 ,\tRetainUIDs ");
  std::vector<Option> expected = { Option::RetainSafePrivate, Option::RetainUIDs, Option::CleanGraphics };
  EXPECT_EQ(expected, t.List());

  OptionSet v = OptionSet::Parse(std::vector<std::string>{ "113106", "RetainPatientCharacteristics" });
  EXPECT_TRUE(v == (OptionSet{ Option::RetainLongitudinalFullDates, Option::RetainPatientCharacteristics }));

  ExpectBadOption("CleanDescriptors,Nonsense");
  ExpectBadOption("CleanDescriptors,,RetainUIDs");
  ExpectBadOption("CleanDescriptors;RetainUIDs");
  EXPECT_THROW(OptionSet::Parse(std::vector<std::string>{ "RetainUIDs", "" }), DeidError);
}
