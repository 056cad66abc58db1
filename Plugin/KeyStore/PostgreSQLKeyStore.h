// Key store shared by several Orthanc nodes, in PostgreSQL (libpq). Each
// statement runs in its own transaction (autocommit); races between nodes
// are resolved by the unique constraints (INSERT ... ON CONFLICT DO NOTHING,
// then SELECT). A small pool gives each concurrent thread its own connection.
#pragma once

#include "SqlKeyStore.h"

#include <mutex>
#include <vector>

typedef struct pg_conn PGconn;

namespace Deid
{
  class PostgreSQLKeyStore : public SqlKeyStore
  {
  public:
    // conninfo: a libpq connection string, e.g.
    // "host=127.0.0.1 port=5432 dbname=deid user=orthanc password=...".
    explicit PostgreSQLKeyStore(const std::string& conninfo,
                                OriginalStorage originals = OriginalStorage::Encrypted,
                                const std::string& masterKey = std::string());
    ~PostgreSQLKeyStore() override;

    PostgreSQLKeyStore(const PostgreSQLKeyStore&) = delete;
    PostgreSQLKeyStore& operator=(const PostgreSQLKeyStore&) = delete;

    std::string GetBackendName() const override { return "PostgreSQL"; }

  protected:
    std::vector<Row> Execute(const std::string& sql, const std::vector<Value>& parameters) override;
    std::string GetClaimLockClause() const override { return " FOR UPDATE SKIP LOCKED"; }

  private:
    std::string conninfo_;
    std::mutex poolMutex_;
    std::vector<PGconn*> idle_;

    PGconn* Acquire();
    void Release(PGconn* connection);
    void CreateSchema();
  };
}
