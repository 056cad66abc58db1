// Tests of the PS3.15 Annex E tables (Profiles/*.json, embedded at build time).
#include "Engine/DeidError.h"
#include "Engine/ProfileTables.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace Deid;

namespace
{
  std::shared_ptr<const ProfileTables> Tables()
  {
    return ProfileTables::LoadEmbedded();
  }

  const AttributeRule& Rule(uint16_t group, uint16_t element)
  {
    const AttributeRule* rule = Tables()->FindRule(group, element);
    if (rule == nullptr)
    {
      throw std::runtime_error("no rule");
    }
    return *rule;
  }

  std::string ReadSourceFile(const std::string& relative)
  {
    std::ifstream f(std::string(DEID_SOURCE_DIR) + "/" + relative, std::ios::binary);
    EXPECT_TRUE(f.good()) << relative;
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
  }

  void ExpectBadProfile(const std::map<std::string, std::string>& files)
  {
    try
    {
      ProfileTables::LoadFromJson(files);
      ADD_FAILURE() << "expected DeidError(BadProfile)";
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::BadProfile, e.GetCode()) << e.what();
    }
  }

  // Replaces the first occurrence of "from" in one of the embedded files.
  std::map<std::string, std::string> Corrupt(const std::string& file, const std::string& from,
                                             const std::string& to)
  {
    std::map<std::string, std::string> files = EmbeddedProfileFiles();
    std::string& content = files.at(file);
    size_t pos = content.find(from);
    EXPECT_NE(std::string::npos, pos) << from;
    content.replace(pos, from.size(), to);
    return files;
  }
}

TEST(ProfileTables, RowCounts)
{
  auto t = Tables();
  EXPECT_EQ("2026c", t->GetEdition());
  EXPECT_EQ(656u, t->GetAttributes().size());          // Table E.1-1
  EXPECT_EQ(479u, t->GetSafePrivateAttributes().size());  // Table E.3.10-1
  EXPECT_EQ(13u, t->GetMethodCodes().size());           // CID 7050
}

TEST(ProfileTables, BasicProfileCounts)
{
  std::map<ActionCode, int> counts;
  for (const AttributeRule& rule : Tables()->GetAttributes())
  {
    counts[rule.basic]++;
  }
  EXPECT_EQ(416, counts[ActionCode::X]);
  EXPECT_EQ(93, counts[ActionCode::D]);
  EXPECT_EQ(55, counts[ActionCode::U]);
  EXPECT_EQ(42, counts[ActionCode::Z]);
  EXPECT_EQ(23, counts[ActionCode::XD]);
  EXPECT_EQ(11, counts[ActionCode::XZ]);
  EXPECT_EQ(8, counts[ActionCode::XZD]);
  EXPECT_EQ(6, counts[ActionCode::ZD]);
  EXPECT_EQ(2, counts[ActionCode::XZU]);
  EXPECT_EQ(0, counts[ActionCode::None]);
}

TEST(ProfileTables, ActionCodesFileHasElevenCodes)
{
  const std::string& text = EmbeddedProfileFiles().at("ActionCodes.json");
  size_t count = 0;
  for (size_t pos = text.find("\"Code\""); pos != std::string::npos; pos = text.find("\"Code\"", pos + 1))
  {
    count++;
  }
  EXPECT_EQ(11u, count);
  for (const char* code : { "D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*" })
  {
    EXPECT_NE(std::string::npos, text.find(std::string("\"Code\": \"") + code + "\"")) << code;
    EXPECT_EQ(code, std::string(ToString(ParseActionCode(code))));
  }
}

TEST(ProfileTables, KnownRows)
{
  const AttributeRule& accession = Rule(0x0008, 0x0050);
  EXPECT_EQ("Accession Number", accession.name);
  EXPECT_EQ("(0008,0050)", accession.tagText);
  EXPECT_EQ(ActionCode::Z, accession.basic);
  EXPECT_FALSE(accession.retired);
  EXPECT_TRUE(accession.inStdCompIOD);

  const AttributeRule& patientName = Rule(0x0010, 0x0010);
  EXPECT_EQ("Patient's Name", patientName.name);
  EXPECT_EQ(ActionCode::Z, patientName.basic);

  const AttributeRule& sopInstance = Rule(0x0008, 0x0018);
  EXPECT_EQ("SOP Instance UID", sopInstance.name);
  EXPECT_EQ(ActionCode::U, sopInstance.basic);
  EXPECT_EQ(ActionCode::K, sopInstance.GetOptionAction(Option::RetainUIDs));
  EXPECT_EQ(ActionCode::None, sopInstance.GetOptionAction(Option::CleanDescriptors));

  const AttributeRule& studyDate = Rule(0x0008, 0x0020);
  EXPECT_EQ("Study Date", studyDate.name);
  EXPECT_EQ(ActionCode::Z, studyDate.basic);
  EXPECT_EQ(ActionCode::K, studyDate.GetOptionAction(Option::RetainLongitudinalFullDates));
  EXPECT_EQ(ActionCode::C, studyDate.GetOptionAction(Option::RetainLongitudinalModifiedDates));
  // Not an option column of Table E.1-1.
  EXPECT_EQ(ActionCode::None, studyDate.GetOptionAction(Option::CleanPixelData));

  // Upper-case hex as published.
  const AttributeRule& rule = Rule(0x0008, 0x002A);
  EXPECT_EQ("(0008,002A)", rule.tagText);
  EXPECT_EQ("Acquisition DateTime", rule.name);

  // The row added in 2026c.
  EXPECT_EQ("Display URI", Rule(0x0040, 0xE012).name);
  EXPECT_EQ(ActionCode::X, Rule(0x0040, 0xE012).basic);

  // Not in Table E.1-1.
  EXPECT_EQ(nullptr, Tables()->FindRule(0x0028, 0x0010));   // Rows
  EXPECT_EQ(nullptr, Tables()->FindRule(0x7FE0, 0x0010));   // Pixel Data
}

TEST(ProfileTables, MaskRows)
{
  const AttributeRule& curve = Rule(0x5012, 0x3000);
  EXPECT_EQ("Curve Data", curve.name);
  EXPECT_EQ("(50xx,xxxx)", curve.tagText);
  EXPECT_FALSE(curve.tag.IsExact());
  EXPECT_EQ(ActionCode::X, curve.basic);
  EXPECT_EQ(ActionCode::C, curve.GetOptionAction(Option::CleanGraphics));
  EXPECT_EQ("Curve Data", Rule(0x5000, 0x0000).name);
  EXPECT_EQ("Curve Data", Rule(0x50FE, 0xFFFF).name);

  EXPECT_EQ("Overlay Data", Rule(0x6002, 0x3000).name);
  EXPECT_EQ("(60xx,3000)", Rule(0x6002, 0x3000).tagText);
  EXPECT_EQ("Overlay Data", Rule(0x6000, 0x3000).name);
  EXPECT_EQ("Overlay Comments", Rule(0x6000, 0x4000).name);
  EXPECT_EQ("Overlay Comments", Rule(0x601E, 0x4000).name);

  // Other overlay elements are not listed; neighbours of the masks do not match.
  EXPECT_EQ(nullptr, Tables()->FindRule(0x6000, 0x0010));   // Overlay Rows
  EXPECT_EQ(nullptr, Tables()->FindRule(0x6000, 0x3001));
  EXPECT_EQ(nullptr, Tables()->FindRule(0x5100, 0x3000));
  EXPECT_EQ(nullptr, Tables()->FindRule(0x6100, 0x3000));
}

TEST(ProfileTables, PrivateAttributesRow)
{
  const AttributeRule& p = Tables()->GetPrivateAttributesRule();
  EXPECT_EQ("Private Attributes", p.name);
  EXPECT_EQ("(gggg,eeee) where gggg is odd", p.tagText);
  EXPECT_TRUE(p.tag.allPrivate);
  EXPECT_EQ(ActionCode::X, p.basic);
  EXPECT_EQ(ActionCode::C, p.GetOptionAction(Option::RetainSafePrivate));
  EXPECT_TRUE(p.tag.Matches(0x0009, 0x1001));
  EXPECT_TRUE(p.tag.Matches(0x7053, 0x0010));
  EXPECT_FALSE(p.tag.Matches(0x0008, 0x0050));
}

TEST(ProfileTables, TagPatternMatches)
{
  TagPattern exact;
  exact.group = 0x0010;
  exact.element = 0x0010;
  EXPECT_TRUE(exact.IsExact());
  EXPECT_TRUE(exact.Matches(0x0010, 0x0010));
  EXPECT_FALSE(exact.Matches(0x0010, 0x0020));
}

TEST(ProfileTables, FindSafePrivate)
{
  auto t = Tables();
  const SafePrivateAttribute* suv = t->FindSafePrivate("Philips PET Private Group", 0x7053, 0x00);
  ASSERT_NE(nullptr, suv);
  EXPECT_EQ("(7053,xx00)", suv->tagText);
  EXPECT_EQ("DS", suv->vr);
  EXPECT_EQ(0x7053, suv->group);
  EXPECT_EQ(0x00, suv->element);

  // Same tag, wrong creator; right creator, wrong group or element.
  EXPECT_EQ(nullptr, t->FindSafePrivate("ELSCINT1", 0x7053, 0x00));
  EXPECT_EQ(nullptr, t->FindSafePrivate("Philips PET Private Group", 0x7055, 0x00));
  EXPECT_EQ(nullptr, t->FindSafePrivate("Philips PET Private Group", 0x7053, 0x01));
  EXPECT_EQ(nullptr, t->FindSafePrivate("philips pet private group", 0x7053, 0x00));

  ASSERT_NE(nullptr, t->FindSafePrivate("ELSCINT1", 0x00E1, 0x21));
  EXPECT_EQ("DLP", t->FindSafePrivate("ELSCINT1", 0x00E1, 0x21)->meaning);
  // Padding of the Private Creator value (even length) is ignored.
  EXPECT_NE(nullptr, t->FindSafePrivate("ELSCINT1 ", 0x00E1, 0x21));
  EXPECT_NE(nullptr, t->FindSafePrivate(" ELSCINT1", 0x00E1, 0x21));
  EXPECT_EQ(nullptr, t->FindSafePrivate("ELSCINT", 0x00E1, 0x21));

  // Lower-case hex as published, e.g. (2001,xx0a).
  bool found = false;
  for (const SafePrivateAttribute& a : t->GetSafePrivateAttributes())
  {
    if (a.tagText == "(2001,xx0a)")
    {
      found = true;
      EXPECT_EQ(0x2001, a.group);
      EXPECT_EQ(0x0A, a.element);
      EXPECT_EQ(&a, t->FindSafePrivate(a.privateCreator, 0x2001, 0x0A));
    }
  }
  EXPECT_TRUE(found);

  // Every row can be found by its creator, group and low byte.
  for (const SafePrivateAttribute& a : t->GetSafePrivateAttributes())
  {
    const SafePrivateAttribute* f = t->FindSafePrivate(a.privateCreator, a.group, a.element);
    ASSERT_NE(nullptr, f) << a.tagText;
    EXPECT_EQ(a.group, f->group);
    EXPECT_EQ(a.element, f->element);
  }
}

TEST(ProfileTables, MethodCodes)
{
  auto t = Tables();
  EXPECT_EQ("Basic Application Confidentiality Profile", t->GetMethodCode("113100").codeMeaning);
  EXPECT_EQ("DCM", t->GetMethodCode("113100").codingSchemeDesignator);
  EXPECT_EQ("Retain Longitudinal Temporal Information Full Dates Option",
            t->GetMethodCode(GetOptionCodeValue(Option::RetainLongitudinalFullDates)).codeMeaning);
  EXPECT_EQ("Retain Longitudinal Temporal Information Modified Dates Option",
            t->GetMethodCode(GetOptionCodeValue(Option::RetainLongitudinalModifiedDates)).codeMeaning);
  EXPECT_EQ("Retain Safe Private Option", t->GetMethodCode("113111").codeMeaning);
  EXPECT_EQ("Retain Institution Identity Option", t->GetMethodCode("113112").codeMeaning);
  EXPECT_EQ("Clean Pixel Data Option", t->GetMethodCode("113101").codeMeaning);
  EXPECT_THROW(t->GetMethodCode("113113"), DeidError);

  // Each option's code has a meaning naming that option.
  for (Option o : AllOptions())
  {
    EXPECT_EQ("DCM", t->GetMethodCode(GetOptionCodeValue(o)).codingSchemeDesignator);
  }
}

TEST(ProfileTables, EmbeddedIsByteExact)
{
  const std::map<std::string, std::string>& embedded = EmbeddedProfileFiles();
  ASSERT_EQ(6u, embedded.size());
  for (const char* name : { "AttributeConfidentialityProfile.json", "ActionCodes.json",
                            "SafePrivateAttributes.json", "DeidentificationMethodCodes.json",
                            "AttributeTypes.json", "Vocabulary.json" })
  {
    ASSERT_EQ(1u, embedded.count(name)) << name;
    EXPECT_EQ(ReadSourceFile(std::string("Profiles/") + name), embedded.at(name)) << name;
  }
}

TEST(ProfileTables, EmbeddedEqualsDirectory)
{
  auto embedded = Tables();
  auto fromDirectory = ProfileTables::LoadFromDirectory(DEID_SOURCE_DIR "/Profiles");
  EXPECT_EQ(embedded->GetEdition(), fromDirectory->GetEdition());
  ASSERT_EQ(embedded->GetAttributes().size(), fromDirectory->GetAttributes().size());
  for (size_t i = 0; i < embedded->GetAttributes().size(); i++)
  {
    const AttributeRule& a = embedded->GetAttributes()[i];
    const AttributeRule& b = fromDirectory->GetAttributes()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.tagText, b.tagText);
    EXPECT_EQ(a.basic, b.basic);
    EXPECT_EQ(a.retired, b.retired);
    EXPECT_EQ(a.inStdCompIOD, b.inStdCompIOD);
    EXPECT_TRUE(a.options == b.options) << a.tagText;
  }
  ASSERT_EQ(embedded->GetSafePrivateAttributes().size(), fromDirectory->GetSafePrivateAttributes().size());
  for (size_t i = 0; i < embedded->GetSafePrivateAttributes().size(); i++)
  {
    EXPECT_EQ(embedded->GetSafePrivateAttributes()[i].tagText, fromDirectory->GetSafePrivateAttributes()[i].tagText);
    EXPECT_EQ(embedded->GetSafePrivateAttributes()[i].privateCreator,
              fromDirectory->GetSafePrivateAttributes()[i].privateCreator);
  }
  ASSERT_EQ(embedded->GetMethodCodes().size(), fromDirectory->GetMethodCodes().size());
  // LoadEmbedded parses once and shares.
  EXPECT_EQ(embedded.get(), ProfileTables::LoadEmbedded().get());
}

TEST(ProfileTables, LoadFromDirectoryMissing)
{
  EXPECT_THROW(ProfileTables::LoadFromDirectory("/nonexistent-deid-profiles"), DeidError);
}

TEST(ProfileTables, MalformedTablesAreRejected)
{
  // Valid as embedded.
  EXPECT_NO_THROW(ProfileTables::LoadFromJson(EmbeddedProfileFiles()));

  std::map<std::string, std::string> missing = EmbeddedProfileFiles();
  missing.erase("SafePrivateAttributes.json");
  ExpectBadProfile(missing);

  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "{", "["));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"(0008,0050)\"", "\"(0008,005G)\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"(0008,0050)\"", "\"0008,0050\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"Basic\": \"Z\"", "\"Basic\": \"Q\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"Basic\": \"Z\"", "\"Basic\": \"\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"Retired\": false", "\"Retired\": \"N\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"CleanDescriptors\"", "\"CleanDescriptor\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"CleanDescriptors\"", "\"113105\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"CleanDescriptors\": \"C\"",
                           "\"CleanPixelData\": \"C\""));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "(gggg,eeee) where gggg is odd", "(gggg,eeee)"));
  ExpectBadProfile(Corrupt("AttributeConfidentialityProfile.json", "\"(0008,0050)\"", "\"(0008,0020)\""));
  ExpectBadProfile(Corrupt("ActionCodes.json", "\"Code\": \"D\"", "\"Code\": \"Y\""));
  ExpectBadProfile(Corrupt("SafePrivateAttributes.json", "(7053,xx00)", "(7053,0000)"));
  ExpectBadProfile(Corrupt("SafePrivateAttributes.json", "(7053,xx00)", "(7052,xx00)"));
  ExpectBadProfile(Corrupt("SafePrivateAttributes.json", "\"Philips PET Private Group\"", "\"\""));
  ExpectBadProfile(Corrupt("DeidentificationMethodCodes.json", "\"113110\"", "\"113999\""));
}
