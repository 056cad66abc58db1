#include "PostgreSQLKeyStore.h"

#include "../Engine/DeidError.h"

#include <libpq-fe.h>

#include <memory>

namespace Deid
{
  namespace
  {
    const size_t MAX_IDLE_CONNECTIONS = 8;

    // Serializes the schema creation of concurrent first starts (any number).
    const char* const SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(7364218852)";

    struct ResultDeleter
    {
      void operator()(PGresult* r) const { PQclear(r); }
    };

    typedef std::unique_ptr<PGresult, ResultDeleter> Result;

    std::string ErrorOf(PGconn* connection, PGresult* result)
    {
      // Only the primary message: the DETAIL of a constraint violation may
      // quote values.
      const char* primary = result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
      if (primary != nullptr)
      {
        return primary;
      }
      std::string message = connection != nullptr ? PQerrorMessage(connection) : "no connection";
      while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      {
        message.pop_back();
      }
      return message;
    }
  }


  PostgreSQLKeyStore::PostgreSQLKeyStore(const std::string& conninfo, OriginalStorage originals,
                                         const std::string& masterKey) :
    SqlKeyStore(originals, masterKey),
    conninfo_(conninfo)
  {
    CreateSchema();
  }


  PostgreSQLKeyStore::~PostgreSQLKeyStore()
  {
    for (PGconn* c : idle_)
    {
      PQfinish(c);
    }
  }


  PGconn* PostgreSQLKeyStore::Acquire()
  {
    {
      std::lock_guard<std::mutex> lock(poolMutex_);
      if (!idle_.empty())
      {
        PGconn* c = idle_.back();
        idle_.pop_back();
        return c;
      }
    }

    PGconn* c = PQconnectdb(conninfo_.c_str());
    if (c == nullptr || PQstatus(c) != CONNECTION_OK)
    {
      // The libpq message names host/port, never the password.
      std::string message = ErrorOf(c, nullptr);
      PQfinish(c);
      throw DeidError(ErrorCode::Storage, "PostgreSQL key store: cannot connect: " + message);
    }
    return c;
  }


  void PostgreSQLKeyStore::Release(PGconn* connection)
  {
    if (PQstatus(connection) == CONNECTION_OK &&
        PQtransactionStatus(connection) == PQTRANS_IDLE)
    {
      std::lock_guard<std::mutex> lock(poolMutex_);
      if (idle_.size() < MAX_IDLE_CONNECTIONS)
      {
        idle_.push_back(connection);
        return;
      }
    }
    PQfinish(connection);
  }


  void PostgreSQLKeyStore::CreateSchema()
  {
    PGconn* c = Acquire();
    std::vector<std::string> statements = { "BEGIN", SCHEMA_LOCK };
    for (const std::string& s : GetSchema("BIGSERIAL PRIMARY KEY"))
    {
      statements.push_back(s);
    }
    statements.push_back("COMMIT");

    for (const std::string& s : statements)
    {
      Result r(PQexec(c, s.c_str()));
      ExecStatusType status = PQresultStatus(r.get());
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      {
        std::string message = ErrorOf(c, r.get());
        PQfinish(c);
        throw DeidError(ErrorCode::Storage, "PostgreSQL key store: cannot create the schema: " + message);
      }
    }
    Release(c);
  }


  std::vector<SqlKeyStore::Row> PostgreSQLKeyStore::Execute(const std::string& sql,
                                                            const std::vector<Value>& parameters)
  {
    std::vector<const char*> values;
    for (const Value& v : parameters)
    {
      values.push_back(v ? v->c_str() : nullptr);
    }

    // One retry on a fresh connection if a pooled one was dropped by the server.
    for (int attempt = 0; ; attempt++)
    {
      PGconn* c = Acquire();
      Result r(PQexecParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.empty() ? nullptr : values.data(), nullptr, nullptr, 0));
      ExecStatusType status = PQresultStatus(r.get());

      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      {
        std::vector<Row> rows;
        int n = PQntuples(r.get());
        int columns = PQnfields(r.get());
        for (int i = 0; i < n; i++)
        {
          Row row;
          for (int j = 0; j < columns; j++)
          {
            if (PQgetisnull(r.get(), i, j))
            {
              row.push_back(std::nullopt);
            }
            else
            {
              row.push_back(std::string(PQgetvalue(r.get(), i, j), PQgetlength(r.get(), i, j)));
            }
          }
          rows.push_back(std::move(row));
        }
        Release(c);
        return rows;
      }

      std::string message = ErrorOf(c, r.get());
      bool broken = (PQstatus(c) != CONNECTION_OK);
      PQfinish(c);
      if (!broken || attempt > 0)
      {
        throw DeidError(ErrorCode::Storage, "PostgreSQL key store: " + message);
      }
    }
  }
}
