// The logic shared by the SQL back-ends: every operation of IKeyStore is one
// SQL statement (atomic by itself), written once in a dialect that both
// SQLite (>= 3.35: ON CONFLICT, RETURNING) and PostgreSQL accept, with $n
// parameters. A back-end only supplies Execute() and its schema.
#pragma once

#include "IKeyStore.h"

#include <map>
#include <mutex>

namespace Deid
{
  class SqlKeyStore : public IKeyStore
  {
  public:
    typedef std::optional<std::string> Value;   // NULL = nullopt
    typedef std::vector<Value> Row;

    // masterKey: empty, or >= 32 bytes that wrap the project secrets.
    SqlKeyStore(OriginalStorage originals, const std::string& masterKey);

    std::string GetOrCreateProjectSecret(const std::string& project) override;
    std::vector<std::string> ListProjects() override;

    std::string GetOrCreatePseudonym(const std::string& project,
                                     const std::string& kind,
                                     const std::string& original,
                                     const CandidateGenerator& candidates,
                                     unsigned int maxAttempts = 1000) override;
    std::optional<std::string> FindPseudonym(const std::string& project,
                                             const std::string& kind,
                                             const std::string& original) override;
    std::optional<MappingEntry> FindOriginal(const std::string& project,
                                             const std::string& kind,
                                             const std::string& pseudonym) override;
    uint64_t CountMappings(const std::string& project, const std::string& kind) override;

    void PutCertificate(const std::string& name, const std::string& pem) override;
    std::optional<std::string> GetCertificate(const std::string& name) override;
    std::vector<std::string> ListCertificates() override;
    bool DeleteCertificate(const std::string& name) override;

    int64_t AppendAudit(const AuditRecord& record) override;
    std::vector<AuditRecord> ListAudit(int64_t since, size_t limit) override;

    bool AddWorkItem(const WorkItem& item) override;
    bool PostponeWorkItem(const std::string& key, int64_t notBefore, bool reopen) override;
    void MakeStudyItemsDue(const std::string& study, int64_t now) override;
    std::optional<WorkItem> ClaimWorkItem(const std::string& owner, int64_t now, int64_t leaseUntil) override;
    void FinishWorkItem(int64_t id, const std::string& state, const std::string& error,
                        int64_t notBefore = 0, bool undoAttempt = false) override;
    std::vector<WorkItem> ListWorkItems(const std::string& state, size_t limit) override;
    std::vector<WorkItem> ListWorkItemsOfStudy(const std::string& study) override;
    uint64_t CountWorkItems(const std::string& state) override;
    uint64_t RetryFailedWorkItems() override;

    std::optional<int64_t> GetCounter(const std::string& name) override;
    void AdvanceCounter(const std::string& name, int64_t value) override;

    // ISO 8601 UTC with milliseconds, e.g. "2026-11-24T20:15:03.123Z".
    static std::string Now();

  protected:
    // Runs one statement with text parameters $1..$n and returns the rows as
    // text. Throws DeidError(Storage) with a message free of parameter values.
    virtual std::vector<Row> Execute(const std::string& sql, const std::vector<Value>& parameters) = 0;

    // The tables, identical for both back-ends apart from the audit key.
    static std::vector<std::string> GetSchema(const std::string& auditIdColumn);

    // Appended to the row selection of a claim: PostgreSQL skips rows that
    // another node is claiming ("FOR UPDATE SKIP LOCKED"); SQLite has a
    // single writer and needs nothing.
    virtual std::string GetClaimLockClause() const { return std::string(); }

  private:
    OriginalStorage originals_;
    std::string wrappingKey_;   // empty: secrets stored in clear (hex)
    std::mutex secretsMutex_;
    std::map<std::string, std::string> secrets_;   // project -> secret (never changes once created)

    std::string LookupHash(const std::string& project, const std::string& kind, const std::string& original);
  };
}
