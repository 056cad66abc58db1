// The key store (Plugin/KeyStore): secrets, mappings, certificates, audit,
// against SQLite and a real PostgreSQL (DEID_TEST_POSTGRES).
#include "KeyStoreTestSupport.h"

#include "Engine/DeidError.h"
#include "KeyStore/PostgreSQLKeyStore.h"
#include "KeyStore/SQLiteKeyStore.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

using namespace Deid;
using namespace Deid::Testing;

namespace
{
  IKeyStore::CandidateGenerator Numbered(const std::string& prefix)
  {
    return [prefix](unsigned int attempt) { return prefix + std::to_string(attempt); };
  }
}


class KeyStoreTest : public KeyStoreBackendTest
{
};


TEST_P(KeyStoreTest, ProjectSecretIsRandomStableAndPerProject)
{
  auto store = Open();
  std::string a = store->GetOrCreateProjectSecret(Name("a"));
  std::string b = store->GetOrCreateProjectSecret(Name("b"));
  EXPECT_EQ(32u, a.size());
  EXPECT_EQ(32u, b.size());
  EXPECT_NE(a, b);
  EXPECT_EQ(a, store->GetOrCreateProjectSecret(Name("a")));

  auto projects = store->ListProjects();
  EXPECT_NE(projects.end(), std::find(projects.begin(), projects.end(), Name("a")));
  EXPECT_NE(projects.end(), std::find(projects.begin(), projects.end(), Name("b")));
}


TEST_P(KeyStoreTest, SecretAndMappingsSurviveReopen)
{
  std::string secret, pseudonym;
  {
    auto store = Open();
    secret = store->GetOrCreateProjectSecret(Name("p"));
    pseudonym = store->GetOrCreatePseudonym(Name("p"), "PatientID", "original-1", Numbered("X"));
  }

  auto reopened = Open();
  EXPECT_EQ(secret, reopened->GetOrCreateProjectSecret(Name("p")));
  EXPECT_EQ(pseudonym, reopened->FindPseudonym(Name("p"), "PatientID", "original-1").value_or(""));
  auto entry = reopened->FindOriginal(Name("p"), "PatientID", pseudonym);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ("original-1", entry->original.value_or(""));
}


TEST_P(KeyStoreTest, GetOrCreatePseudonymIsStableAndUnique)
{
  auto store = Open();
  const std::string p = Name("p");
  std::string a = store->GetOrCreatePseudonym(p, "PatientID", "A", Numbered("A"));
  EXPECT_EQ("A0", a);
  EXPECT_EQ(a, store->GetOrCreatePseudonym(p, "PatientID", "A", Numbered("other")));
  EXPECT_EQ("B0", store->GetOrCreatePseudonym(p, "PatientID", "B", Numbered("B")));
  EXPECT_EQ(2u, store->CountMappings(p, "PatientID"));

  EXPECT_FALSE(store->FindPseudonym(p, "PatientID", "C").has_value());
  EXPECT_FALSE(store->FindOriginal(p, "PatientID", "nothing").has_value());
  // Kinds and projects are separate name spaces.
  EXPECT_FALSE(store->FindPseudonym(p, "Other", "A").has_value());
  EXPECT_FALSE(store->FindPseudonym(Name("q"), "PatientID", "A").has_value());
}


TEST_P(KeyStoreTest, CollidingCandidatesAreResolvedWithTheNextOne)
{
  auto store = Open();
  const std::string p = Name("p");
  // Both originals propose "C0" first: the second gets its next candidate.
  EXPECT_EQ("C0", store->GetOrCreatePseudonym(p, "PatientID", "first", Numbered("C")));
  EXPECT_EQ("C1", store->GetOrCreatePseudonym(p, "PatientID", "second", Numbered("C")));
  EXPECT_EQ("C2", store->GetOrCreatePseudonym(p, "PatientID", "third", Numbered("C")));
  // Stable afterwards, and the reverse lookups tell them apart.
  EXPECT_EQ("C1", store->GetOrCreatePseudonym(p, "PatientID", "second", Numbered("C")));
  EXPECT_EQ("second", store->FindOriginal(p, "PatientID", "C1")->original.value_or(""));
  EXPECT_EQ("first", store->FindOriginal(p, "PatientID", "C0")->original.value_or(""));
}


TEST_P(KeyStoreTest, ExhaustedCandidatesThrowWithoutValues)
{
  auto store = Open();
  const std::string p = Name("p");
  auto constant = [](unsigned int) { return std::string("SAME"); };
  store->GetOrCreatePseudonym(p, "PatientID", "first", constant);
  try
  {
    store->GetOrCreatePseudonym(p, "PatientID", "secret-original", constant, 5);
    FAIL() << "expected DeidError";
  }
  catch (const DeidError& e)
  {
    EXPECT_EQ(ErrorCode::Storage, e.GetCode());
    EXPECT_EQ(std::string::npos, std::string(e.what()).find("secret-original"));
  }
}


TEST_P(KeyStoreTest, HashOnlyStoresNoOriginal)
{
  auto store = Open(OriginalStorage::HashOnly);
  const std::string p = Name("p");
  std::string pseudonym = store->GetOrCreatePseudonym(p, "PatientID", "hidden", Numbered("H"));
  EXPECT_EQ(pseudonym, store->FindPseudonym(p, "PatientID", "hidden").value_or(""));
  auto entry = store->FindOriginal(p, "PatientID", pseudonym);
  ASSERT_TRUE(entry.has_value());
  EXPECT_FALSE(entry->original.has_value());
}


TEST_P(KeyStoreTest, ConcurrentCallersOnSeveralNodesGetOnePseudonym)
{
  // Two store instances (two nodes) x several threads, all asking at once for
  // the same originals; every candidate generator is different per caller, so
  // any race that let two inserts through would show two pseudonyms.
  const std::string p = Name("p");
  auto node1 = Open();
  auto node2 = Open();

  const int THREADS = 8;
  const int PATIENTS = 5;
  std::vector<std::vector<std::string>> results(THREADS, std::vector<std::string>(PATIENTS));
  std::vector<std::thread> threads;
  for (int t = 0; t < THREADS; t++)
  {
    threads.emplace_back([&, t]()
    {
      IKeyStore& store = (t % 2 == 0) ? *node1 : *node2;
      for (int i = 0; i < PATIENTS; i++)
      {
        results[t][i] = store.GetOrCreatePseudonym(p, "PatientID", "patient-" + std::to_string(i),
                                                   Numbered("T" + std::to_string(t) + "-"));
      }
    });
  }
  for (auto& t : threads)
  {
    t.join();
  }

  std::set<std::string> distinct;
  for (int i = 0; i < PATIENTS; i++)
  {
    for (int t = 1; t < THREADS; t++)
    {
      EXPECT_EQ(results[0][i], results[t][i]) << "patient " << i << ", thread " << t;
    }
    distinct.insert(results[0][i]);
  }
  EXPECT_EQ(static_cast<size_t>(PATIENTS), distinct.size());
  EXPECT_EQ(static_cast<uint64_t>(PATIENTS), node1->CountMappings(p, "PatientID"));
}


TEST_P(KeyStoreTest, ConcurrentFirstUseAgreesOnOneSecret)
{
  const std::string p = Name("concurrent");
  auto node1 = Open();
  auto node2 = Open();
  std::string s1, s2;
  std::thread a([&]() { s1 = node1->GetOrCreateProjectSecret(p); });
  std::thread b([&]() { s2 = node2->GetOrCreateProjectSecret(p); });
  a.join();
  b.join();
  EXPECT_EQ(s1, s2);
}


TEST_P(KeyStoreTest, Certificates)
{
  auto store = Open();
  const std::string name = Name("recipient");
  EXPECT_FALSE(store->GetCertificate(name).has_value());
  store->PutCertificate(name, "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n");
  EXPECT_EQ("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n", store->GetCertificate(name).value_or(""));
  store->PutCertificate(name, "replaced");
  EXPECT_EQ("replaced", store->GetCertificate(name).value_or(""));

  auto names = store->ListCertificates();
  EXPECT_NE(names.end(), std::find(names.begin(), names.end(), name));

  EXPECT_TRUE(store->DeleteCertificate(name));
  EXPECT_FALSE(store->DeleteCertificate(name));
  EXPECT_FALSE(store->GetCertificate(name).has_value());
}


TEST_P(KeyStoreTest, AuditAppendAndPaging)
{
  auto store = Open();
  // Start after whatever is already there (a shared PostgreSQL keeps history).
  int64_t start = 0;
  for (;;)
  {
    auto page = store->ListAudit(start, 1000);
    if (page.empty())
    {
      break;
    }
    start = page.back().id;
  }

  std::vector<int64_t> ids;
  for (int i = 0; i < 5; i++)
  {
    AuditRecord r;
    r.operation = "deidentify";
    r.route = "POST /deidentification/studies/{id}";
    r.project = Name("p");
    r.profile = "Basic";
    r.options = "RetainUIDs";
    r.source = "[\"study-" + std::to_string(i) + "\"]";
    r.result = "[\"result-" + std::to_string(i) + "\"]";
    r.caller = "127.0.0.1";
    r.status = "Success";
    ids.push_back(store->AppendAudit(r));
  }
  for (size_t i = 1; i < ids.size(); i++)
  {
    EXPECT_GT(ids[i], ids[i - 1]);
  }

  auto first = store->ListAudit(start, 2);
  ASSERT_EQ(2u, first.size());
  EXPECT_EQ(ids[0], first[0].id);
  EXPECT_EQ("[\"study-0\"]", first[0].source);
  EXPECT_EQ("[\"result-1\"]", first[1].result);
  EXPECT_EQ("deidentify", first[0].operation);
  EXPECT_EQ("127.0.0.1", first[0].caller);
  EXPECT_EQ("RetainUIDs", first[0].options);
  EXPECT_FALSE(first[0].time.empty());
  EXPECT_EQ('Z', first[0].time.back());

  auto second = store->ListAudit(first.back().id, 2);
  ASSERT_EQ(2u, second.size());
  EXPECT_EQ(ids[2], second[0].id);
  auto last = store->ListAudit(second.back().id, 10);
  ASSERT_EQ(1u, last.size());
  EXPECT_EQ(ids[4], last[0].id);
  EXPECT_TRUE(store->ListAudit(ids[4], 10).empty());
}


TEST_P(KeyStoreTest, MasterKeyWrapsProjectSecrets)
{
  const std::string master(64, 'm');
  const std::string p = Name("wrapped");
  std::string secret, pseudonym;
  {
    auto store = Open(OriginalStorage::Encrypted, master);
    secret = store->GetOrCreateProjectSecret(p);
    pseudonym = store->GetOrCreatePseudonym(p, "PatientID", "wrapped-original", Numbered("W"));
  }

  // Same master key (restart): same secret, the mapping is readable.
  {
    auto store = Open(OriginalStorage::Encrypted, master);
    EXPECT_EQ(secret, store->GetOrCreateProjectSecret(p));
    EXPECT_EQ("wrapped-original", store->FindOriginal(p, "PatientID", pseudonym)->original.value_or(""));
  }

  // Without it, or with another one: a clear error, never another secret.
  for (const std::string& key : { std::string(), std::string(64, 'x') })
  {
    auto store = Open(OriginalStorage::Encrypted, key);
    try
    {
      store->GetOrCreateProjectSecret(p);
      FAIL() << "expected DeidError(Crypto)";
    }
    catch (const DeidError& e)
    {
      EXPECT_EQ(ErrorCode::Crypto, e.GetCode());
    }
  }

  // A secret created before a master key was configured stays usable.
  const std::string clear = Name("clear");
  std::string clearSecret = Open()->GetOrCreateProjectSecret(clear);
  EXPECT_EQ(clearSecret, Open(OriginalStorage::Encrypted, master)->GetOrCreateProjectSecret(clear));

  EXPECT_THROW(Open(OriginalStorage::Encrypted, "too short"), DeidError);
}


INSTANTIATE_TEST_SUITE_P(Backends, KeyStoreTest, ::testing::Values("SQLite", "PostgreSQL"), BackendName);


// SQLite only: the file is created on first start, and originals never
// appear in clear in it.
TEST(SQLiteKeyStore, FileIsCreatedAndOriginalsAreEncrypted)
{
  auto dir = std::filesystem::temp_directory_path() / ("deid-sqlite-" + UniqueSuffix());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "keys.db").string();
  ASSERT_FALSE(std::filesystem::exists(path));
  {
    SQLiteKeyStore store(path);
    EXPECT_TRUE(std::filesystem::exists(path));
    const std::string original = "{\"PatientID\":\"VerySpecificPatientId4242\"}";
    std::string pseudonym = store.GetOrCreatePseudonym("p", "PatientID", original, Numbered("Z"));
    EXPECT_EQ(original, store.FindOriginal("p", "PatientID", pseudonym)->original.value_or(""));
  }

  // After close, WAL content is checkpointed into the main file; check all files.
  for (const auto& entry : std::filesystem::directory_iterator(dir))
  {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(std::string::npos, content.find("VerySpecificPatientId4242")) << entry.path();
  }
  std::filesystem::remove_all(dir);
}


TEST(SQLiteKeyStore, UnopenableFileThrowsStorage)
{
  try
  {
    SQLiteKeyStore store("/nonexistent-directory-deid/keys.db");
    FAIL();
  }
  catch (const DeidError& e)
  {
    EXPECT_EQ(ErrorCode::Storage, e.GetCode());
  }
}


// PostgreSQL only: pooled connections dropped by the server are replaced.
TEST(PostgreSQLKeyStore, ReconnectsAfterTheServerDropsConnections)
{
  const char* env = std::getenv("DEID_TEST_POSTGRES");
  if (env == nullptr || env[0] == '\0')
  {
    GTEST_SKIP() << "DEID_TEST_POSTGRES is not set: PostgreSQL key store not tested";
  }

  const std::string application = "deid-reconnect-" + UniqueSuffix();
  KeyStoreConfiguration c;
  c.type = "PostgreSQL";
  c.connectionString = std::string(env) + " application_name=" + application;
  auto store = OpenKeyStore(c);
  const std::string p = "reconnect-" + UniqueSuffix();
  std::string secret = store->GetOrCreateProjectSecret(p);
  store->ListProjects();   // leaves an idle pooled connection

  // Another session terminates every connection of this store.
  class Terminator : public PostgreSQLKeyStore
  {
  public:
    using PostgreSQLKeyStore::PostgreSQLKeyStore;
    size_t Terminate(const std::string& application)
    {
      return Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                     { application }).size();
    }
  };
  Terminator terminator(env);
  EXPECT_GE(terminator.Terminate(application), 1u);

  // The next calls work on new connections.
  EXPECT_NO_THROW(store->ListProjects());
  auto pseudonym = store->GetOrCreatePseudonym(p, "PatientID", "after-reconnect",
                                               [](unsigned int a) { return "R" + std::to_string(a); });
  EXPECT_EQ("R0", pseudonym);
}


TEST(KeyStoreConfiguration, MasterKeyFile)
{
  auto dir = std::filesystem::temp_directory_path() / ("deid-master-" + UniqueSuffix());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "master.key").string();
  {
    std::ofstream out(path);
    out << "  0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
  }
  EXPECT_EQ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ReadMasterKeyFile(path));
  {
    std::ofstream out(path);
    out << "short\n";
  }
  EXPECT_THROW(ReadMasterKeyFile(path), DeidError);
  EXPECT_THROW(ReadMasterKeyFile((dir / "missing").string()), DeidError);
  std::filesystem::remove_all(dir);
}


TEST(KeyStoreConfiguration, UnknownTypeIsRejected)
{
  KeyStoreConfiguration c;
  c.type = "Oracle";
  EXPECT_THROW(OpenKeyStore(c), DeidError);
}


TEST(KeyStoreCrypto, EncryptionRoundTripAndTamperDetection)
{
  std::string key = KeyStoreCrypto::DeriveKey(std::string(32, 'k'), "purpose");
  EXPECT_EQ(32u, key.size());
  EXPECT_NE(key, KeyStoreCrypto::DeriveKey(std::string(32, 'k'), "other"));
  std::string sealed = KeyStoreCrypto::Encrypt(key, "hello", "aad");
  EXPECT_EQ("hello", KeyStoreCrypto::Decrypt(key, sealed, "aad"));
  EXPECT_THROW(KeyStoreCrypto::Decrypt(key, sealed, "other aad"), DeidError);
  sealed[13] ^= 1;
  EXPECT_THROW(KeyStoreCrypto::Decrypt(key, sealed, "aad"), DeidError);
  // RFC 4231 test case 2.
  EXPECT_EQ("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            KeyStoreCrypto::ToHex(KeyStoreCrypto::HmacSha256("Jefe", "what do ya want for nothing?")));
}
