#include "SqlKeyStore.h"

#include "KeyStoreCrypto.h"
#include "../Engine/DeidError.h"

#include <chrono>
#include <cstring>
#include <cstdio>
#include <ctime>

namespace Deid
{
  namespace
  {
    const size_t SECRET_SIZE = 32;

    std::string Aad(const std::string& project, const std::string& kind, const std::string& hash)
    {
      return project + '\n' + kind + '\n' + hash;
    }

    std::string Text(const SqlKeyStore::Value& v)
    {
      return v ? *v : std::string();
    }
  }


  static const char* const WRAPPED_PREFIX = "wrapped:";
  static const size_t MIN_MASTER_KEY_SIZE = 32;


  SqlKeyStore::SqlKeyStore(OriginalStorage originals, const std::string& masterKey) :
    originals_(originals)
  {
    if (!masterKey.empty())
    {
      if (masterKey.size() < MIN_MASTER_KEY_SIZE)
      {
        throw DeidError(ErrorCode::BadOption, "The key store master key must have at least 32 bytes");
      }
      wrappingKey_ = KeyStoreCrypto::DeriveKey(masterKey, "project-secret-wrapping");
    }
  }


  std::string SqlKeyStore::Now()
  {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    long ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  now.time_since_epoch()).count() % 1000);
    std::tm tm;
    gmtime_r(&t, &tm);
    char buffer[64];
    snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buffer;
  }


  std::vector<std::string> SqlKeyStore::GetSchema(const std::string& auditIdColumn)
  {
    return {
      "CREATE TABLE IF NOT EXISTS deid_projects ("
      "  name TEXT PRIMARY KEY,"
      "  secret TEXT NOT NULL,"             // hex of 32 random bytes
      "  created TEXT NOT NULL)",

      "CREATE TABLE IF NOT EXISTS deid_mappings ("
      "  project TEXT NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  original_hmac TEXT NOT NULL,"      // HMAC-SHA256 of the original, key derived from the secret
      "  original_encrypted TEXT,"          // AES-256-GCM, NULL when HashOnly
      "  pseudonym TEXT NOT NULL,"
      "  created TEXT NOT NULL,"
      "  PRIMARY KEY (project, kind, original_hmac),"
      "  UNIQUE (project, kind, pseudonym))",

      "CREATE TABLE IF NOT EXISTS deid_certificates ("
      "  name TEXT PRIMARY KEY,"
      "  pem TEXT NOT NULL,"
      "  updated TEXT NOT NULL)",

      "CREATE TABLE IF NOT EXISTS deid_audit ("
      "  id " + auditIdColumn + ","
      "  time TEXT NOT NULL,"
      "  operation TEXT NOT NULL,"
      "  route TEXT, project TEXT, profile TEXT, options TEXT,"
      "  source TEXT, result TEXT, caller TEXT, status TEXT, details TEXT)",

      // Automatic rules: the persisted work queue (SqlWorkQueue.cpp) and
      // the change-log cursor.
      "CREATE TABLE IF NOT EXISTS deid_work ("
      "  id " + auditIdColumn + ","
      "  work_key TEXT NOT NULL UNIQUE,"
      "  resource TEXT NOT NULL, level TEXT NOT NULL, study TEXT NOT NULL,"
      "  rule TEXT NOT NULL, action TEXT NOT NULL,"
      "  state TEXT NOT NULL,"
      "  attempts INTEGER NOT NULL DEFAULT 0,"
      "  not_before BIGINT NOT NULL DEFAULT 0,"
      "  lease BIGINT NOT NULL DEFAULT 0,"
      "  owner TEXT, error TEXT,"
      "  created TEXT NOT NULL, updated TEXT NOT NULL)",

      "CREATE INDEX IF NOT EXISTS deid_work_state ON deid_work (state, not_before)",
      "CREATE INDEX IF NOT EXISTS deid_work_study ON deid_work (study)",

      "CREATE TABLE IF NOT EXISTS deid_counters ("
      "  name TEXT PRIMARY KEY,"
      "  value BIGINT NOT NULL)"
    };
  }


  std::string SqlKeyStore::GetOrCreateProjectSecret(const std::string& project)
  {
    {
      std::lock_guard<std::mutex> lock(secretsMutex_);
      auto found = secrets_.find(project);
      if (found != secrets_.end())
      {
        return found->second;
      }
    }

    // Concurrent creators (threads or nodes): the first INSERT wins, every
    // caller then reads the same row.
    const std::string fresh = KeyStoreCrypto::RandomBytes(SECRET_SIZE);
    const std::string stored = wrappingKey_.empty() ? KeyStoreCrypto::ToHex(fresh) :
      WRAPPED_PREFIX + KeyStoreCrypto::ToHex(KeyStoreCrypto::Encrypt(wrappingKey_, fresh, "project:" + project));
    Execute("INSERT INTO deid_projects (name, secret, created) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            { project, stored, Now() });

    std::vector<Row> rows = Execute("SELECT secret FROM deid_projects WHERE name = $1", { project });
    if (rows.size() != 1 || !rows[0][0])
    {
      throw DeidError(ErrorCode::Storage, "Cannot read the secret of a project from the key store");
    }

    std::string secret;
    const std::string& text = *rows[0][0];
    if (text.compare(0, strlen(WRAPPED_PREFIX), WRAPPED_PREFIX) == 0)
    {
      if (wrappingKey_.empty())
      {
        throw DeidError(ErrorCode::Crypto, "The secret of project \"" + project + "\" is wrapped with a "
                        "master key, but no master key is configured (KeyStore.MasterKeyFile)");
      }
      try
      {
        secret = KeyStoreCrypto::Decrypt(wrappingKey_, KeyStoreCrypto::FromHex(text.substr(strlen(WRAPPED_PREFIX))),
                                         "project:" + project);
      }
      catch (const DeidError&)
      {
        throw DeidError(ErrorCode::Crypto, "The secret of project \"" + project + "\" cannot be unwrapped: "
                        "wrong master key (KeyStore.MasterKeyFile) or altered key store");
      }
    }
    else
    {
      // Stored in clear (no master key when it was created).
      secret = KeyStoreCrypto::FromHex(text);
    }
    if (secret.size() != SECRET_SIZE)
    {
      throw DeidError(ErrorCode::Storage, "Corrupted project secret in the key store");
    }

    std::lock_guard<std::mutex> lock(secretsMutex_);
    secrets_[project] = secret;
    return secret;
  }


  std::vector<std::string> SqlKeyStore::ListProjects()
  {
    std::vector<std::string> result;
    for (const Row& row : Execute("SELECT name FROM deid_projects ORDER BY name", {}))
    {
      result.push_back(Text(row[0]));
    }
    return result;
  }


  std::string SqlKeyStore::LookupHash(const std::string& project, const std::string& kind,
                                      const std::string& original)
  {
    std::string key = KeyStoreCrypto::DeriveKey(GetOrCreateProjectSecret(project), "mapping-lookup:" + kind);
    return KeyStoreCrypto::ToHex(KeyStoreCrypto::HmacSha256(key, original));
  }


  std::string SqlKeyStore::GetOrCreatePseudonym(const std::string& project,
                                                const std::string& kind,
                                                const std::string& original,
                                                const CandidateGenerator& candidates,
                                                unsigned int maxAttempts)
  {
    const std::string hash = LookupHash(project, kind, original);

    if (std::optional<std::string> existing = FindPseudonym(project, kind, original))
    {
      return *existing;
    }

    Value sealed;
    if (originals_ == OriginalStorage::Encrypted)
    {
      std::string key = KeyStoreCrypto::DeriveKey(GetOrCreateProjectSecret(project), "mapping-encryption:" + kind);
      sealed = KeyStoreCrypto::ToHex(KeyStoreCrypto::Encrypt(key, original, Aad(project, kind, hash)));
    }

    for (unsigned int attempt = 0; attempt < maxAttempts; attempt++)
    {
      const std::string candidate = candidates(attempt);

      // Both uniqueness constraints (one pseudonym per original, one original
      // per pseudonym) make the INSERT a no-op on conflict; RETURNING tells
      // whether this caller's row went in.
      std::vector<Row> inserted = Execute(
        "INSERT INTO deid_mappings (project, kind, original_hmac, original_encrypted, pseudonym, created) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING pseudonym",
        { project, kind, hash, sealed, candidate, Now() });
      if (!inserted.empty())
      {
        return candidate;
      }

      // The conflict was either the same original, inserted meanwhile by
      // another thread or node (use its pseudonym), or a collision with
      // another original (try the next candidate).
      std::vector<Row> rows = Execute(
        "SELECT pseudonym FROM deid_mappings WHERE project = $1 AND kind = $2 AND original_hmac = $3",
        { project, kind, hash });
      if (!rows.empty())
      {
        return Text(rows[0][0]);
      }
    }

    throw DeidError(ErrorCode::Storage, "No free pseudonym after " + std::to_string(maxAttempts) +
                    " attempts (kind " + kind + "): the pseudonym format has too few values");
  }


  std::optional<std::string> SqlKeyStore::FindPseudonym(const std::string& project,
                                                        const std::string& kind,
                                                        const std::string& original)
  {
    std::vector<Row> rows = Execute(
      "SELECT pseudonym FROM deid_mappings WHERE project = $1 AND kind = $2 AND original_hmac = $3",
      { project, kind, LookupHash(project, kind, original) });
    if (rows.empty())
    {
      return std::nullopt;
    }
    return Text(rows[0][0]);
  }


  std::optional<MappingEntry> SqlKeyStore::FindOriginal(const std::string& project,
                                                        const std::string& kind,
                                                        const std::string& pseudonym)
  {
    std::vector<Row> rows = Execute(
      "SELECT original_hmac, original_encrypted, created FROM deid_mappings "
      "WHERE project = $1 AND kind = $2 AND pseudonym = $3",
      { project, kind, pseudonym });
    if (rows.empty())
    {
      return std::nullopt;
    }

    MappingEntry entry;
    entry.pseudonym = pseudonym;
    entry.created = Text(rows[0][2]);
    if (rows[0][1] && !rows[0][1]->empty())
    {
      std::string key = KeyStoreCrypto::DeriveKey(GetOrCreateProjectSecret(project), "mapping-encryption:" + kind);
      entry.original = KeyStoreCrypto::Decrypt(key, KeyStoreCrypto::FromHex(*rows[0][1]),
                                               Aad(project, kind, Text(rows[0][0])));
    }
    return entry;
  }


  uint64_t SqlKeyStore::CountMappings(const std::string& project, const std::string& kind)
  {
    std::vector<Row> rows = Execute("SELECT COUNT(*) FROM deid_mappings WHERE project = $1 AND kind = $2",
                                    { project, kind });
    return rows.empty() ? 0 : std::stoull(Text(rows[0][0]));
  }


  void SqlKeyStore::PutCertificate(const std::string& name, const std::string& pem)
  {
    Execute("INSERT INTO deid_certificates (name, pem, updated) VALUES ($1, $2, $3) "
            "ON CONFLICT (name) DO UPDATE SET pem = excluded.pem, updated = excluded.updated",
            { name, pem, Now() });
  }


  std::optional<std::string> SqlKeyStore::GetCertificate(const std::string& name)
  {
    std::vector<Row> rows = Execute("SELECT pem FROM deid_certificates WHERE name = $1", { name });
    if (rows.empty())
    {
      return std::nullopt;
    }
    return Text(rows[0][0]);
  }


  std::vector<std::string> SqlKeyStore::ListCertificates()
  {
    std::vector<std::string> result;
    for (const Row& row : Execute("SELECT name FROM deid_certificates ORDER BY name", {}))
    {
      result.push_back(Text(row[0]));
    }
    return result;
  }


  bool SqlKeyStore::DeleteCertificate(const std::string& name)
  {
    return !Execute("DELETE FROM deid_certificates WHERE name = $1 RETURNING name", { name }).empty();
  }


  int64_t SqlKeyStore::AppendAudit(const AuditRecord& r)
  {
    std::vector<Row> rows = Execute(
      "INSERT INTO deid_audit (time, operation, route, project, profile, options, source, result, "
      "caller, status, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
      { r.time.empty() ? Now() : r.time, r.operation, r.route, r.project, r.profile, r.options,
        r.source, r.result, r.caller, r.status, r.details });
    if (rows.size() != 1)
    {
      throw DeidError(ErrorCode::Storage, "Cannot append to the audit trail");
    }
    return std::stoll(Text(rows[0][0]));
  }


  std::vector<AuditRecord> SqlKeyStore::ListAudit(int64_t since, size_t limit)
  {
    std::vector<AuditRecord> result;
    for (const Row& row : Execute(
           "SELECT id, time, operation, route, project, profile, options, source, result, caller, "
           "status, details FROM deid_audit WHERE id > CAST($1 AS BIGINT) ORDER BY id "
           "LIMIT CAST($2 AS BIGINT)",
           { std::to_string(since), std::to_string(limit) }))
    {
      AuditRecord r;
      r.id = std::stoll(Text(row[0]));
      r.time = Text(row[1]);
      r.operation = Text(row[2]);
      r.route = Text(row[3]);
      r.project = Text(row[4]);
      r.profile = Text(row[5]);
      r.options = Text(row[6]);
      r.source = Text(row[7]);
      r.result = Text(row[8]);
      r.caller = Text(row[9]);
      r.status = Text(row[10]);
      r.details = Text(row[11]);
      result.push_back(r);
    }
    return result;
  }
}
