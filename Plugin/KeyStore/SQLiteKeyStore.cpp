#include "SQLiteKeyStore.h"

#include "../Engine/DeidError.h"

#include <sqlite3.h>

#include <memory>

namespace Deid
{
  namespace
  {
    const int BUSY_TIMEOUT_MS = 30000;

    struct StatementDeleter
    {
      void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };

    void Fail(sqlite3* db, const std::string& what)
    {
      // sqlite3_errmsg never contains bound parameter values.
      throw DeidError(ErrorCode::Storage, "SQLite key store: " + what + ": " +
                      (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
    }
  }


  SQLiteKeyStore::SQLiteKeyStore(const std::string& path, OriginalStorage originals,
                                 const std::string& masterKey) :
    SqlKeyStore(originals, masterKey)
  {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK)
    {
      std::string message = "cannot open the database file";
      if (db_ != nullptr)
      {
        message += std::string(": ") + sqlite3_errmsg(db_);
        sqlite3_close(db_);
        db_ = nullptr;
      }
      throw DeidError(ErrorCode::Storage, "SQLite key store: " + message);
    }

    try
    {
      sqlite3_busy_timeout(db_, BUSY_TIMEOUT_MS);
      Execute("PRAGMA journal_mode=WAL", {});
      Execute("PRAGMA synchronous=FULL", {});
      Execute("PRAGMA foreign_keys=ON", {});
      for (const std::string& statement : GetSchema("INTEGER PRIMARY KEY AUTOINCREMENT"))
      {
        Execute(statement, {});
      }
    }
    catch (...)
    {
      sqlite3_close(db_);
      db_ = nullptr;
      throw;
    }
  }


  SQLiteKeyStore::~SQLiteKeyStore()
  {
    if (db_ != nullptr)
    {
      sqlite3_close(db_);
    }
  }


  std::vector<SqlKeyStore::Row> SQLiteKeyStore::Execute(const std::string& sql,
                                                        const std::vector<Value>& parameters)
  {
    std::lock_guard<std::mutex> lock(mutex_);

    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK)
    {
      Fail(db_, "cannot prepare a statement");
    }
    std::unique_ptr<sqlite3_stmt, StatementDeleter> statement(raw);

    // The SQL uses PostgreSQL-style $1..$n, which SQLite reads as named parameters.
    for (size_t i = 0; i < parameters.size(); i++)
    {
      const std::string name = "$" + std::to_string(i + 1);
      int index = sqlite3_bind_parameter_index(raw, name.c_str());
      if (index == 0)
      {
        continue;
      }
      int rc = parameters[i] ?
        sqlite3_bind_text(raw, index, parameters[i]->data(), static_cast<int>(parameters[i]->size()),
                          SQLITE_TRANSIENT) :
        sqlite3_bind_null(raw, index);
      if (rc != SQLITE_OK)
      {
        Fail(db_, "cannot bind a parameter");
      }
    }

    std::vector<Row> rows;
    for (;;)
    {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE)
      {
        break;
      }
      else if (rc == SQLITE_ROW)
      {
        Row row;
        int columns = sqlite3_column_count(raw);
        for (int c = 0; c < columns; c++)
        {
          if (sqlite3_column_type(raw, c) == SQLITE_NULL)
          {
            row.push_back(std::nullopt);
          }
          else
          {
            const unsigned char* text = sqlite3_column_text(raw, c);
            row.push_back(std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(raw, c)));
          }
        }
        rows.push_back(std::move(row));
      }
      else
      {
        Fail(db_, "statement failed");
      }
    }
    return rows;
  }
}
