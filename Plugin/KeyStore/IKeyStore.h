// The plugin-managed key store: per-project secrets, the original->pseudonym
// mappings, recipient certificates and the audit trail. Implementations:
// SQLiteKeyStore (default, one file) and PostgreSQLKeyStore (shared by
// several Orthanc nodes). Every method is one atomic transaction and may be
// called from many threads (and, for PostgreSQL, from many processes) at once.
// No method ever logs or throws with an original value in the message.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Deid
{
  // How the original side of a mapping is kept.
  enum class OriginalStorage
  {
    Encrypted,   // AES-256-GCM, key derived from the project secret (HKDF): reverse lookup works
    HashOnly     // only the HMAC: forward lookup works, reverse lookup returns the pseudonym only
  };

  // One line of the audit trail. Never holds patient data: Orthanc IDs,
  // route, profile, options and the caller only.
  struct AuditRecord
  {
    int64_t id = 0;            // set by the store, increasing
    std::string time;          // ISO 8601 UTC, set by the store if empty
    std::string operation;     // "deidentify", "reidentify", ...
    std::string route;         // "POST /deidentification/studies/{id}" or the rule name
    std::string project;
    std::string profile;       // profile name
    std::string options;       // "CleanDescriptors,RetainUIDs"
    std::string source;        // JSON array of source Orthanc IDs
    std::string result;        // JSON array of resulting Orthanc IDs
    std::string caller;        // remote IP / user name as Orthanc gives them
    std::string status;        // "Success", "Failure"
    std::string details;       // free JSON text (job ID, counts) - no DICOM values
  };

  // The result of a reverse lookup.
  struct MappingEntry
  {
    std::string pseudonym;
    std::optional<std::string> original;   // unset when stored HashOnly
    std::string created;                   // ISO 8601 UTC
  };

  // One persisted unit of automatic work (automatic rules): one action of
  // one rule on one instance or study. Never holds patient data: Orthanc
  // IDs, rule and destination names, and error messages free of values.
  struct WorkItem
  {
    int64_t id = 0;            // set by the store, increasing
    std::string key;           // unique in the whole cluster: "rule|action|resource"
    std::string resource;      // Orthanc ID of the instance or study
    std::string level;         // "Instance" or "Study"
    std::string study;         // Orthanc ID of the (parent) study
    std::string rule;          // name of the automatic rule
    std::string action;        // "Store", "Modality:NAME", "Peer:NAME", "DicomWeb:NAME", "Delete"
    std::string state;         // "Pending", "Running", "Done", "Failed"
    int attempts = 0;          // claims so far
    int64_t notBefore = 0;     // Unix time (s) before which a pending item is not claimed
    std::string owner;         // the node that claimed it last
    std::string error;         // last error (no patient data)
    std::string created;       // ISO 8601 UTC
    std::string updated;       // ISO 8601 UTC
  };

  class IKeyStore
  {
  public:
    // Gives the n-th candidate pseudonym for an original (n = 0, 1, ...).
    // Must be deterministic; the store tries candidates in order until one is
    // not yet taken by another original of the same project and kind.
    typedef std::function<std::string(unsigned int attempt)> CandidateGenerator;

    virtual ~IKeyStore() = default;

    // "SQLite" or "PostgreSQL".
    virtual std::string GetBackendName() const = 0;

    // --- Project secrets -------------------------------------------------

    // The 32-byte secret of a project (raw bytes), created with RAND_bytes on
    // first use. Concurrent first uses on any node agree on one secret.
    virtual std::string GetOrCreateProjectSecret(const std::string& project) = 0;

    virtual std::vector<std::string> ListProjects() = 0;

    // --- Mappings (original -> pseudonym), per project and kind -----------
    // "kind" separates name spaces, e.g. "PatientID".

    // Returns the existing pseudonym of "original", or atomically inserts the
    // first free candidate. Concurrent callers on any node get ONE pseudonym
    // for one original; two originals never share a pseudonym. Throws
    // DeidError(Storage) if maxAttempts candidates are all taken.
    virtual std::string GetOrCreatePseudonym(const std::string& project,
                                             const std::string& kind,
                                             const std::string& original,
                                             const CandidateGenerator& candidates,
                                             unsigned int maxAttempts = 1000) = 0;

    // Forward lookup without creating.
    virtual std::optional<std::string> FindPseudonym(const std::string& project,
                                                     const std::string& kind,
                                                     const std::string& original) = 0;

    // Reverse lookup.
    virtual std::optional<MappingEntry> FindOriginal(const std::string& project,
                                                     const std::string& kind,
                                                     const std::string& pseudonym) = 0;

    virtual uint64_t CountMappings(const std::string& project, const std::string& kind) = 0;

    // --- Recipient certificates (PEM), for the encryption of E.1.2 ---------

    virtual void PutCertificate(const std::string& name, const std::string& pem) = 0;
    virtual std::optional<std::string> GetCertificate(const std::string& name) = 0;
    virtual std::vector<std::string> ListCertificates() = 0;
    virtual bool DeleteCertificate(const std::string& name) = 0;

    // --- Audit trail --------------------------------------------------------

    // Appends and returns the new record's id.
    virtual int64_t AppendAudit(const AuditRecord& record) = 0;

    // Records with id > since, oldest first, at most "limit".
    virtual std::vector<AuditRecord> ListAudit(int64_t since, size_t limit) = 0;

    // --- Automatic work (persisted queue shared by the nodes) -------------

    // Inserts a pending item; false (and nothing changes) if an item with
    // the same key exists, on any node.
    virtual bool AddWorkItem(const WorkItem& item) = 0;

    // Delays (or, with "reopen", re-opens a finished item of) a study-level
    // item: not before "notBefore". Returns false if the key is unknown.
    virtual bool PostponeWorkItem(const std::string& key, int64_t notBefore, bool reopen) = 0;

    // Makes the pending study-level items of a study due at once.
    virtual void MakeStudyItemsDue(const std::string& study, int64_t now) = 0;

    // Atomically claims the oldest due item (pending with notBefore <= now,
    // or running with an expired lease): state "Running", attempts + 1,
    // owner, lease until "leaseUntil". Concurrent claimers on any node never
    // get the same item.
    virtual std::optional<WorkItem> ClaimWorkItem(const std::string& owner, int64_t now,
                                                  int64_t leaseUntil) = 0;

    // Ends a claim: "Done", "Failed", or back to "Pending" (not before
    // "notBefore"). "undoAttempt" gives back the attempt of the claim.
    virtual void FinishWorkItem(int64_t id, const std::string& state, const std::string& error,
                                int64_t notBefore = 0, bool undoAttempt = false) = 0;

    // Items in one state, oldest first (all states if empty).
    virtual std::vector<WorkItem> ListWorkItems(const std::string& state, size_t limit) = 0;
    virtual std::vector<WorkItem> ListWorkItemsOfStudy(const std::string& study) = 0;
    virtual uint64_t CountWorkItems(const std::string& state) = 0;

    // Failed items back to pending with no attempt; returns how many.
    virtual uint64_t RetryFailedWorkItems() = 0;

    // --- Named counters (the change-log cursor of the automatic rules) -----

    virtual std::optional<int64_t> GetCounter(const std::string& name) = 0;

    // Sets the counter to "value" unless it is already larger (monotonic,
    // safe when several nodes advance it).
    virtual void AdvanceCounter(const std::string& name, int64_t value) = 0;
  };


  struct KeyStoreConfiguration
  {
    std::string type = "SQLite";         // "SQLite" | "PostgreSQL"
    std::string path;                    // SQLite file
    std::string connectionString;        // PostgreSQL libpq conninfo
    OriginalStorage originals = OriginalStorage::Encrypted;
    // Optional (>= 32 bytes, e.g. the content of a key file): project secrets
    // are then stored wrapped with AES-256-GCM under a key derived from it, so
    // that a copy of the database alone reveals neither secrets nor originals.
    std::string masterKey;
  };

  // Reads a master key file (at least 32 bytes once surrounding whitespace is
  // trimmed, e.g. "openssl rand -hex 32"). Throws DeidError(BadOption).
  std::string ReadMasterKeyFile(const std::string& path);

  // Opens (and creates on first start) the configured store. Throws
  // DeidError(BadOption) for an unknown type, DeidError(Storage) on failure.
  std::unique_ptr<IKeyStore> OpenKeyStore(const KeyStoreConfiguration& configuration);
}
