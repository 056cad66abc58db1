// Shared by the key store tests: runs each test against SQLite (a temp file)
// and, when DEID_TEST_POSTGRES holds a libpq conninfo, a real PostgreSQL.
#pragma once

#include "KeyStore/IKeyStore.h"
#include "KeyStore/KeyStoreCrypto.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace Deid
{
  namespace Testing
  {
    inline std::string UniqueSuffix()
    {
      return KeyStoreCrypto::ToHex(KeyStoreCrypto::RandomBytes(6));
    }

    class KeyStoreBackendTest : public ::testing::TestWithParam<std::string>
    {
    protected:
      std::filesystem::path directory_;
      std::string conninfo_;
      std::string suffix_;   // makes names unique: a PostgreSQL database outlives one run

      void SetUp() override
      {
        suffix_ = UniqueSuffix();
        if (GetParam() == "PostgreSQL")
        {
          const char* env = std::getenv("DEID_TEST_POSTGRES");
          if (env == nullptr || env[0] == '\0')
          {
            GTEST_SKIP() << "DEID_TEST_POSTGRES is not set (a libpq conninfo, see "
                            "Resources/StartTestPostgres.sh): PostgreSQL key store not tested";
          }
          conninfo_ = env;
        }
        else
        {
          directory_ = std::filesystem::temp_directory_path() / ("deid-keystore-test-" + suffix_);
          std::filesystem::create_directories(directory_);
        }
      }

      void TearDown() override
      {
        if (!directory_.empty())
        {
          std::error_code ignored;
          std::filesystem::remove_all(directory_, ignored);
        }
      }

      std::string SQLitePath() const
      {
        return (directory_ / "keys.db").string();
      }

      // A new store instance on the same database (a restart, or another node).
      std::unique_ptr<IKeyStore> Open(OriginalStorage originals = OriginalStorage::Encrypted,
                                      const std::string& masterKey = std::string()) const
      {
        KeyStoreConfiguration c;
        c.type = GetParam();
        c.path = SQLitePath();
        c.connectionString = conninfo_;
        c.originals = originals;
        c.masterKey = masterKey;
        return OpenKeyStore(c);
      }

      std::string Name(const std::string& base) const
      {
        return base + "-" + suffix_;
      }
    };

    inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info)
    {
      return info.param;
    }
  }
}
