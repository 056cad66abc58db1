#include "IKeyStore.h"

#include "PostgreSQLKeyStore.h"
#include "SQLiteKeyStore.h"
#include "../Engine/DeidError.h"

#include <fstream>
#include <iterator>

namespace Deid
{
  std::string ReadMasterKeyFile(const std::string& path)
  {
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
      throw DeidError(ErrorCode::BadOption, "Cannot read the key store master key file: " + path);
    }
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const char* const SPACES = " \t\r\n";
    size_t first = content.find_first_not_of(SPACES);
    size_t last = content.find_last_not_of(SPACES);
    content = (first == std::string::npos) ? std::string() : content.substr(first, last - first + 1);
    if (content.size() < 32)
    {
      throw DeidError(ErrorCode::BadOption, "The key store master key file must hold at least 32 bytes "
                      "(e.g. made with \"openssl rand -hex 32\"): " + path);
    }
    return content;
  }


  std::unique_ptr<IKeyStore> OpenKeyStore(const KeyStoreConfiguration& configuration)
  {
    if (configuration.type == "SQLite")
    {
      if (configuration.path.empty())
      {
        throw DeidError(ErrorCode::BadOption, "The SQLite key store needs a file path");
      }
      return std::make_unique<SQLiteKeyStore>(configuration.path, configuration.originals,
                                              configuration.masterKey);
    }
    else if (configuration.type == "PostgreSQL")
    {
      if (configuration.connectionString.empty())
      {
        throw DeidError(ErrorCode::BadOption, "The PostgreSQL key store needs a \"ConnectionString\"");
      }
      return std::make_unique<PostgreSQLKeyStore>(configuration.connectionString, configuration.originals,
                                                  configuration.masterKey);
    }
    else
    {
      throw DeidError(ErrorCode::BadOption, "Unknown key store type (expected \"SQLite\" or \"PostgreSQL\"): " +
                      configuration.type);
    }
  }
}
