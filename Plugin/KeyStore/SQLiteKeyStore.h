// The default key store: one SQLite file (WAL, busy timeout), created on
// first start. One connection, serialized by a mutex; several processes may
// open the same file (SQLite file locks + busy timeout).
#pragma once

#include "SqlKeyStore.h"

#include <mutex>

struct sqlite3;

namespace Deid
{
  class SQLiteKeyStore : public SqlKeyStore
  {
  public:
    explicit SQLiteKeyStore(const std::string& path,
                            OriginalStorage originals = OriginalStorage::Encrypted,
                            const std::string& masterKey = std::string());
    ~SQLiteKeyStore() override;

    SQLiteKeyStore(const SQLiteKeyStore&) = delete;
    SQLiteKeyStore& operator=(const SQLiteKeyStore&) = delete;

    std::string GetBackendName() const override { return "SQLite"; }

  protected:
    std::vector<Row> Execute(const std::string& sql, const std::vector<Value>& parameters) override;

  private:
    std::mutex mutex_;
    sqlite3* db_ = nullptr;
  };
}
