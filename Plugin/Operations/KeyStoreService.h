// The plugin's key store: opened at start-up from the configuration, gives
// each operation the keyed providers of its project (stable pseudonyms, UIDs
// and date offsets) and records the audit trail.
//
//   "Deidentification": {
//     "KeyStore": {
//       "Type": "SQLite",                  // default; or "PostgreSQL"
//       "Path": "...",                     // SQLite; default <StorageDirectory>/deidentification-keys.db
//       "ConnectionString": "host=... dbname=... user=...",   // PostgreSQL (libpq conninfo)
//       "Originals": "Encrypted",          // or "HashOnly": no reverse lookup possible
//       "MasterKeyFile": "/etc/orthanc/deidentification.key"   // optional: wraps the project secrets
//     },
//     "Pseudonym": { "Prefix": "ANON", "Digits": 8 },   // defaults of every project
//     "UidRoot": "2.25",
//     "DateOffsetRange": [ -3650, -1 ],                 // days, 0 is never used
//     "Projects": {                                     // "default" always exists
//       "trial": { "Pseudonym": { "Prefix": "TRIAL", "Digits": 6 }, "UidRoot": "1.2.3.4" }
//     },
//     "Profiles": { "research": { "Options": [...], "Project": "trial" } },
//     "EnableMappingLookup": false          // GET /deidentification/mappings
//   }
//
// The project of an operation: the request's "Project", else the profile's
// "Project", else "default".
#pragma once

#include "Operations/DeidentificationEvents.h"
#include "Operations/ProviderFactory.h"

#include "KeyStore/IKeyStore.h"
#include "KeyStore/KeyedProviders.h"

#include <json/value.h>

#include <map>
#include <memory>
#include <string>

namespace Deid
{
  class KeyStoreService
  {
  public:
    static constexpr const char* DEFAULT_PROJECT = "default";
    static constexpr const char* DEFAULT_SQLITE_FILE = "deidentification-keys.db";

    // Reads the configuration and opens (creates) the store. Throws
    // ConfigurationError or DeidError(Storage).
    static void Initialize(const Json::Value& orthancConfiguration, const Json::Value& section);
    static void Finalize();
    static bool IsInitialized();
    static KeyStoreService& Get();   // throws std::logic_error if not initialized

    IKeyStore& GetStore() { return *store_; }
    bool IsMappingLookupEnabled() const { return mappingLookup_; }
    const std::string& GetDescription() const { return description_; }

    // The project of an operation (see above). Throws DeidError(BadOption)
    // for a project that is not configured.
    std::string ResolveProject(const OperationDescription& operation) const;
    const ProjectSettings& GetProject(const std::string& name) const;   // throws DeidError(BadOption)
    std::vector<std::string> GetProjectNames() const;

    // Replaces the UID, pseudonym and date offset providers of "defaults"
    // with the keyed providers of the operation's project.
    std::unique_ptr<OperationProviders> WrapProviders(std::unique_ptr<OperationProviders> defaults,
                                                      const OperationDescription& operation);

    // One audit record per finished operation (no patient data). Never throws.
    void RecordOperation(const OperationReport& report);

  private:
    std::unique_ptr<IKeyStore> store_;
    std::map<std::string, ProjectSettings> projects_;
    bool mappingLookup_ = false;
    std::string description_;
  };
}
