// Keyed providers (Plugin/KeyStore/KeyedProviders): stable UIDs, pseudonyms
// and date offsets per project, with collisions resolved through the store.
#include "KeyStoreTestSupport.h"

#include "Engine/DeidError.h"
#include "KeyStore/KeyedProviders.h"

#include <map>
#include <set>
#include <thread>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  PatientKey Patient(const std::string& id, const std::string& issuer = "")
  {
    PatientKey k;
    k.patientId = id;
    k.issuerOfPatientId = issuer;
    return k;
  }

  // The decimal of the first 128 bits of HMAC-SHA256(secret, "uid:" + uid),
  // computed here without OpenSSL BIGNUM.
  std::string ExpectedUidNumber(const std::string& secret, const std::string& uid)
  {
    std::string digest = KeyStoreCrypto::HmacSha256(secret, "uid:" + uid);
    unsigned __int128 v = 0;
    for (int i = 0; i < 16; i++)
    {
      v = (v << 8) | static_cast<unsigned char>(digest[i]);
    }
    std::string s;
    do
    {
      s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
      v /= 10;
    } while (v != 0);
    return s;
  }

  bool IsValidUid(const std::string& uid)
  {
    if (uid.empty() || uid.size() > 64 || uid.find_first_not_of("0123456789.") != std::string::npos)
    {
      return false;
    }
    size_t start = 0;
    for (;;)
    {
      size_t dot = uid.find('.', start);
      std::string c = uid.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (c.empty() || (c.size() > 1 && c[0] == '0'))
      {
        return false;
      }
      if (dot == std::string::npos)
      {
        return true;
      }
      start = dot + 1;
    }
  }
}


TEST(HmacUidProvider, IsTheHmacUnderRoot225)
{
  const std::string secret(32, 's');
  HmacUidProvider uids(secret);
  const std::string original = "1.2.840.113619.2.55.3.604688119.868.1234567890.1";
  std::string mapped = uids.MapUid(original);
  EXPECT_EQ("2.25." + ExpectedUidNumber(secret, original), mapped);
  EXPECT_TRUE(IsValidUid(mapped)) << mapped;
  EXPECT_EQ(mapped, uids.MapUid(original));
  EXPECT_EQ(mapped, HmacUidProvider(secret).MapUid(original));   // stable across instances
  EXPECT_NE(mapped, uids.MapUid(original + "2"));
  EXPECT_NE(mapped, HmacUidProvider(std::string(32, 't')).MapUid(original));   // other project
}


TEST(HmacUidProvider, ScopeSeparatesProfiles)
{
  // Two de-identified versions (other profile/options) of one instance must
  // not share UIDs; one scope is stable.
  const std::string secret(32, 's');
  const std::string original = "1.2.3.4.5";
  const std::string basic = HmacUidProvider(secret, "2.25", "profile=a;options=").MapUid(original);
  EXPECT_EQ(basic, HmacUidProvider(secret, "2.25", "profile=a;options=").MapUid(original));
  EXPECT_NE(basic, HmacUidProvider(secret, "2.25", "profile=a;options=RetainUIDs").MapUid(original));
  EXPECT_NE(basic, HmacUidProvider(secret).MapUid(original));
}


TEST(HmacUidProvider, LongRootKeepsAtMost64Characters)
{
  const std::string root = "1.2.826.0.1.3680043.10.54321.999999.88888";   // 41 characters
  HmacUidProvider uids(std::string(32, 's'), root);
  std::set<std::string> seen;
  for (int i = 0; i < 200; i++)
  {
    std::string uid = uids.MapUid("1.2.3." + std::to_string(i));
    EXPECT_LE(uid.size(), 64u);
    EXPECT_EQ(0u, uid.find(root + "."));
    EXPECT_TRUE(IsValidUid(uid)) << uid;
    seen.insert(uid);
  }
  EXPECT_EQ(200u, seen.size());

  EXPECT_THROW(HmacUidProvider(std::string(32, 's'), "1.02.3"), DeidError);
  EXPECT_THROW(HmacUidProvider(std::string(32, 's'), "1.2."), DeidError);
  EXPECT_THROW(HmacUidProvider(std::string(32, 's'), std::string(50, '1')), DeidError);
}


TEST(HmacDateOffsetProvider, InRangeNeverZeroStable)
{
  HmacDateOffsetProvider offsets(std::string(32, 's'), -3, 3);
  std::set<int32_t> seen;
  for (int i = 0; i < 300; i++)
  {
    int32_t d = offsets.GetOffsetDays(Patient("P" + std::to_string(i)));
    EXPECT_GE(d, -3);
    EXPECT_LE(d, 3);
    EXPECT_NE(0, d);
    seen.insert(d);
    EXPECT_EQ(d, offsets.GetOffsetDays(Patient("P" + std::to_string(i))));
  }
  EXPECT_EQ(6u, seen.size());   // every non-zero value is reachable

  HmacDateOffsetProvider narrow(std::string(32, 's'), 0, 1);
  EXPECT_EQ(1, narrow.GetOffsetDays(Patient("x")));
  EXPECT_THROW(HmacDateOffsetProvider(std::string(32, 's'), 0, 0), DeidError);
  EXPECT_THROW(HmacDateOffsetProvider(std::string(32, 's'), 5, 1), DeidError);
}


TEST(HmacDateOffsetProvider, DependsOnProjectSecret)
{
  HmacDateOffsetProvider a(std::string(32, 'a'), -3650, -1);
  HmacDateOffsetProvider b(std::string(32, 'b'), -3650, -1);
  int differences = 0;
  for (int i = 0; i < 20; i++)
  {
    if (a.GetOffsetDays(Patient("P" + std::to_string(i))) != b.GetOffsetDays(Patient("P" + std::to_string(i))))
    {
      differences++;
    }
  }
  EXPECT_GE(differences, 18);
}


TEST(CanonicalPatient, RoundTripAndIssuer)
{
  PatientKey k = Patient("ID\"1", "Issuer");
  EXPECT_EQ("{\"IssuerOfPatientID\":\"Issuer\",\"PatientID\":\"ID\\\"1\"}", CanonicalPatient(k));
  PatientKey back = ParseCanonicalPatient(CanonicalPatient(k));
  EXPECT_EQ("ID\"1", back.patientId);
  EXPECT_EQ("Issuer", back.issuerOfPatientId);
  EXPECT_NE(CanonicalPatient(Patient("A", "X")), CanonicalPatient(Patient("A", "Y")));
  PatientKey nameOnly;
  nameOnly.patientName = "Doe^John";
  EXPECT_EQ("{\"PatientName\":\"Doe^John\"}", CanonicalPatient(nameOnly));
}


TEST(ProjectSettings, Validation)
{
  ProjectSettings s;
  EXPECT_NO_THROW(s.Validate());
  s.pseudonymDigits = 0;
  EXPECT_THROW(s.Validate(), DeidError);
  s.pseudonymDigits = 19;
  EXPECT_THROW(s.Validate(), DeidError);
  s.pseudonymDigits = 8;
  s.uidRoot = "2.25.";
  EXPECT_THROW(s.Validate(), DeidError);
}


class KeyedPseudonymTest : public KeyStoreBackendTest
{
protected:
  ProjectSettings Settings(const std::string& project, const std::string& prefix = "ANON", unsigned digits = 8)
  {
    ProjectSettings s;
    s.name = Name(project);
    s.pseudonymPrefix = prefix;
    s.pseudonymDigits = digits;
    return s;
  }
};


TEST_P(KeyedPseudonymTest, FormatAndStabilityAcrossInstancesAndReopen)
{
  std::string first;
  {
    auto store = Open();
    KeyedPseudonymProvider provider(*store, Settings("p"));
    Pseudonym p = provider.GetPseudonym(Patient("12345", "HOSP"));
    first = p.patientId;
    ASSERT_EQ(12u, first.size());
    EXPECT_EQ(0u, first.find("ANON"));
    EXPECT_EQ(std::string::npos, first.substr(4).find_first_not_of("0123456789"));
    EXPECT_EQ(first, p.patientName);
    // Without collision the pseudonym is the first candidate.
    EXPECT_EQ(provider.GetCandidate(CanonicalPatient(Patient("12345", "HOSP")), 0), first);
    EXPECT_EQ(first, provider.GetPseudonym(Patient("12345", "HOSP")).patientId);

    KeyedPseudonymProvider other(*store, Settings("p"));   // another operation
    EXPECT_EQ(first, other.GetPseudonym(Patient("12345", "HOSP")).patientId);
    EXPECT_NE(first, other.GetPseudonym(Patient("12346", "HOSP")).patientId);
    EXPECT_NE(first, other.GetPseudonym(Patient("12345", "OTHER")).patientId);
  }

  auto reopened = Open();   // restart of Orthanc
  KeyedPseudonymProvider provider(*reopened, Settings("p"));
  EXPECT_EQ(first, provider.GetPseudonym(Patient("12345", "HOSP")).patientId);

  // The mapping can be reversed through the store.
  auto entry = reopened->FindOriginal(Name("p"), KeyedPseudonymProvider::KIND, first);
  ASSERT_TRUE(entry.has_value() && entry->original.has_value());
  EXPECT_EQ("12345", ParseCanonicalPatient(*entry->original).patientId);
}


TEST_P(KeyedPseudonymTest, DifferentProjectsGiveDifferentPseudonymsAndUids)
{
  auto store = Open();
  auto a = CreateKeyedProviders(*store, Settings("a"));
  auto b = CreateKeyedProviders(*store, Settings("b"));
  EXPECT_NE(a.pseudonyms->GetPseudonym(Patient("12345")).patientId,
            b.pseudonyms->GetPseudonym(Patient("12345")).patientId);
  EXPECT_NE(a.uids->MapUid("1.2.3.4"), b.uids->MapUid("1.2.3.4"));

  // Same project through another store instance (another node): same values.
  auto node2 = Open();
  auto a2 = CreateKeyedProviders(*node2, Settings("a"));
  EXPECT_EQ(a.uids->MapUid("1.2.3.4"), a2.uids->MapUid("1.2.3.4"));
  EXPECT_EQ(a.pseudonyms->GetPseudonym(Patient("12345")).patientId,
            a2.pseudonyms->GetPseudonym(Patient("12345")).patientId);
  EXPECT_EQ(a.dateOffsets->GetOffsetDays(Patient("12345")), a2.dateOffsets->GetOffsetDays(Patient("12345")));
}


TEST_P(KeyedPseudonymTest, CollisionsWithOneDigitAreResolvedDeterministically)
{
  // One digit: only 10 pseudonyms exist, so collisions are certain.
  auto store = Open();
  KeyedPseudonymProvider provider(*store, Settings("tiny", "P", 1));

  std::map<std::string, std::string> assigned;   // patient -> pseudonym
  std::set<std::string> distinct;
  int collisions = 0;
  for (int i = 0; i < 10; i++)
  {
    const std::string id = "patient-" + std::to_string(i);
    std::string pseudonym = provider.GetPseudonym(Patient(id)).patientId;
    ASSERT_EQ(2u, pseudonym.size());
    if (pseudonym != provider.GetCandidate(CanonicalPatient(Patient(id)), 0))
    {
      collisions++;
    }
    assigned[id] = pseudonym;
    distinct.insert(pseudonym);
  }
  EXPECT_EQ(10u, distinct.size()) << "two patients share a pseudonym";
  EXPECT_GT(collisions, 0);

  // Stable for another provider instance and after reopening.
  auto reopened = Open();
  KeyedPseudonymProvider again(*reopened, Settings("tiny", "P", 1));
  for (const auto& a : assigned)
  {
    EXPECT_EQ(a.second, again.GetPseudonym(Patient(a.first)).patientId);
    auto entry = reopened->FindOriginal(Name("tiny"), KeyedPseudonymProvider::KIND, a.second);
    ASSERT_TRUE(entry.has_value());
    EXPECT_EQ(a.first, ParseCanonicalPatient(entry->original.value_or("{}")).patientId);
  }

  // An eleventh patient cannot get a pseudonym: an error, never a duplicate.
  EXPECT_THROW(again.GetPseudonym(Patient("patient-10")), DeidError);
}


TEST_P(KeyedPseudonymTest, ConcurrentProvidersOnTwoNodesAgree)
{
  auto node1 = Open();
  auto node2 = Open();
  std::vector<std::string> r1(20), r2(20);
  std::thread t1([&]()
  {
    KeyedPseudonymProvider p(*node1, Settings("race", "R", 3));
    for (int i = 0; i < 20; i++) r1[i] = p.GetPseudonym(Patient("id" + std::to_string(i))).patientId;
  });
  std::thread t2([&]()
  {
    KeyedPseudonymProvider p(*node2, Settings("race", "R", 3));
    for (int i = 19; i >= 0; i--) r2[i] = p.GetPseudonym(Patient("id" + std::to_string(i))).patientId;
  });
  t1.join();
  t2.join();
  EXPECT_EQ(r1, r2);
  EXPECT_EQ(20u, std::set<std::string>(r1.begin(), r1.end()).size());
}


INSTANTIATE_TEST_SUITE_P(Backends, KeyedPseudonymTest, ::testing::Values("SQLite", "PostgreSQL"), BackendName);
