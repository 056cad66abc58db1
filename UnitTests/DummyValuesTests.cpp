// Dummy values of action D (PS3.15 Table E.1-1a): non-empty, ASCII, valid for the VR.
#include "Engine/DummyValues.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcitem.h>

#include <gtest/gtest.h>

using namespace Deid;

TEST(DummyValues, EveryStringVRHasAValidAsciiDummy)
{
  for (DcmEVR vr : { EVR_AE, EVR_AS, EVR_CS, EVR_DA, EVR_DS, EVR_DT, EVR_IS, EVR_LO, EVR_LT,
                     EVR_PN, EVR_SH, EVR_ST, EVR_TM, EVR_UC, EVR_UR, EVR_UT })
  {
    const std::string dummy = GetDummyString(vr);
    const char* name = DcmVR(vr).getVRName();
    ASSERT_FALSE(dummy.empty()) << name;
    for (char c : dummy)
    {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << name;
    }
    // DCMTK's own VR checker accepts the value.
    DcmItem item;
    DcmTag tag(DcmTagKey(0x0009, 0x1000), DcmVR(vr));
    ASSERT_TRUE(item.putAndInsertString(tag, dummy.c_str()).good()) << name;
    DcmElement* element = nullptr;
    ASSERT_TRUE(item.findAndGetElement(tag, element).good());
    EXPECT_TRUE(element->checkValue("1").good()) << name << " " << dummy;
    EXPECT_TRUE(IsStringVR(vr)) << name;
  }
  EXPECT_TRUE(IsStringVR(EVR_UI));
  EXPECT_TRUE(GetDummyString(EVR_UI).empty());   // a UI dummy is a new UID
}

TEST(DummyValues, SpecificValues)
{
  EXPECT_EQ("19000101", GetDummyString(EVR_DA));
  EXPECT_EQ("19000101000000", GetDummyString(EVR_DT));
  EXPECT_EQ("000000", GetDummyString(EVR_TM));
  EXPECT_EQ("ANONYMOUS", GetDummyString(EVR_PN));
  EXPECT_EQ("0", GetDummyString(EVR_DS));
  EXPECT_EQ("000D", GetDummyString(EVR_AS));
}

TEST(DummyValues, BinaryVRs)
{
  EXPECT_EQ(2u, GetDummyBinarySize(EVR_US));
  EXPECT_EQ(4u, GetDummyBinarySize(EVR_FL));
  EXPECT_EQ(8u, GetDummyBinarySize(EVR_FD));
  EXPECT_EQ(2u, GetDummyBinarySize(EVR_OB));
  EXPECT_EQ(0u, GetDummyBinarySize(EVR_LO));
  EXPECT_EQ(0u, GetDummyBinarySize(EVR_SQ));
  EXPECT_FALSE(IsStringVR(EVR_OB));
  EXPECT_FALSE(IsStringVR(EVR_SQ));
}

TEST(DummyValues, NormalizeInternalVRs)
{
  EXPECT_EQ(EVR_US, NormalizeVR(EVR_xs));
  EXPECT_EQ(EVR_OW, NormalizeVR(EVR_ox));
  EXPECT_EQ(EVR_OW, NormalizeVR(EVR_lt));
  EXPECT_EQ(EVR_UL, NormalizeVR(EVR_up));
  EXPECT_EQ(EVR_UN, NormalizeVR(EVR_UNKNOWN));
  EXPECT_EQ(EVR_PN, NormalizeVR(EVR_PN));
}
