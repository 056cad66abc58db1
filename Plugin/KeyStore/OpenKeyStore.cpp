#include "IKeyStore.h"

#include "PostgreSQLKeyStore.h"
#include "SQLiteKeyStore.h"
#include "../Engine/DeidError.h"

namespace Deid
{
  std::unique_ptr<IKeyStore> OpenKeyStore(const KeyStoreConfiguration& configuration)
  {
    if (configuration.type == "SQLite")
    {
      if (configuration.path.empty())
      {
        throw DeidError(ErrorCode::BadOption, "The SQLite key store needs a file path");
      }
      return std::make_unique<SQLiteKeyStore>(configuration.path, configuration.originals);
    }
    else if (configuration.type == "PostgreSQL")
    {
      if (configuration.connectionString.empty())
      {
        throw DeidError(ErrorCode::BadOption, "The PostgreSQL key store needs a \"ConnectionString\"");
      }
      return std::make_unique<PostgreSQLKeyStore>(configuration.connectionString, configuration.originals);
    }
    else
    {
      throw DeidError(ErrorCode::BadOption, "Unknown key store type (expected \"SQLite\" or \"PostgreSQL\"): " +
                      configuration.type);
    }
  }
}
