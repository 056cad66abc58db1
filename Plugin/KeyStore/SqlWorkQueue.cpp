// The persisted work queue of the automatic rules and the named counters
// (the change-log cursor), shared by the SQL back-ends. Cluster safety comes
// from the database: unique work keys (INSERT ... ON CONFLICT DO NOTHING)
// make one item per action in the whole cluster, and a claim is one atomic
// UPDATE of a row selected with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite
// has a single writer), so two nodes never run the same item.
#include "SqlKeyStore.h"

#include "../Engine/DeidError.h"

namespace Deid
{
  namespace
  {
    const char* const COLUMNS =
      "id, work_key, resource, level, study, rule, action, state, attempts, not_before, owner, error, "
      "created, updated";

    std::string Text(const SqlKeyStore::Value& v)
    {
      return v ? *v : std::string();
    }

    int64_t Number(const SqlKeyStore::Value& v)
    {
      return (v && !v->empty()) ? std::stoll(*v) : 0;
    }

    WorkItem ToItem(const SqlKeyStore::Row& row)
    {
      WorkItem w;
      w.id = Number(row[0]);
      w.key = Text(row[1]);
      w.resource = Text(row[2]);
      w.level = Text(row[3]);
      w.study = Text(row[4]);
      w.rule = Text(row[5]);
      w.action = Text(row[6]);
      w.state = Text(row[7]);
      w.attempts = static_cast<int>(Number(row[8]));
      w.notBefore = Number(row[9]);
      w.owner = Text(row[10]);
      w.error = Text(row[11]);
      w.created = Text(row[12]);
      w.updated = Text(row[13]);
      return w;
    }
  }


  bool SqlKeyStore::AddWorkItem(const WorkItem& item)
  {
    const std::string now = Now();
    return !Execute(
      "INSERT INTO deid_work (work_key, resource, level, study, rule, action, state, attempts, not_before, "
      "lease, error, created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, CAST($8 AS BIGINT), 0, $9, $10, $10) "
      "ON CONFLICT DO NOTHING RETURNING id",
      { item.key, item.resource, item.level, item.study, item.rule, item.action,
        item.state.empty() ? std::string("Pending") : item.state, std::to_string(item.notBefore),
        item.error.empty() ? Value() : Value(item.error), now }).empty();
  }


  bool SqlKeyStore::PostponeWorkItem(const std::string& key, int64_t notBefore, bool reopen)
  {
    if (reopen)
    {
      // A finished item runs again (a study that received new instances);
      // a running one is left alone.
      return !Execute(
        "UPDATE deid_work SET not_before = CAST($2 AS BIGINT), updated = $3, "
        "attempts = CASE WHEN state = 'Pending' THEN attempts ELSE 0 END, state = 'Pending' "
        "WHERE work_key = $1 AND state <> 'Running' RETURNING id",
        { key, std::to_string(notBefore), Now() }).empty();
    }
    else
    {
      return !Execute(
        "UPDATE deid_work SET not_before = CAST($2 AS BIGINT), updated = $3 "
        "WHERE work_key = $1 AND state = 'Pending' AND not_before < CAST($2 AS BIGINT) RETURNING id",
        { key, std::to_string(notBefore), Now() }).empty();
    }
  }


  void SqlKeyStore::MakeStudyItemsDue(const std::string& study, int64_t now)
  {
    Execute("UPDATE deid_work SET not_before = CAST($2 AS BIGINT) "
            "WHERE study = $1 AND level = 'Study' AND state = 'Pending' AND not_before > CAST($2 AS BIGINT)",
            { study, std::to_string(now) });
  }


  std::optional<WorkItem> SqlKeyStore::ClaimWorkItem(const std::string& owner, int64_t now, int64_t leaseUntil)
  {
    // The inner SELECT picks a candidate; the outer WHERE re-checks it, so
    // that of two concurrent claimers of one row only one gets it back.
    const std::string due =
      "((state = 'Pending' AND not_before <= CAST($2 AS BIGINT)) OR "
      "(state = 'Running' AND lease < CAST($2 AS BIGINT)))";
    std::vector<Row> rows = Execute(
      "UPDATE deid_work SET state = 'Running', owner = $1, lease = CAST($3 AS BIGINT), "
      "attempts = attempts + 1, updated = $4 "
      "WHERE id = (SELECT id FROM deid_work WHERE " + due + " ORDER BY not_before, id LIMIT 1" +
      GetClaimLockClause() + ") AND " + due + " RETURNING " + COLUMNS,
      { owner, std::to_string(now), std::to_string(leaseUntil), Now() });
    if (rows.empty())
    {
      return std::nullopt;
    }
    return ToItem(rows[0]);
  }


  void SqlKeyStore::FinishWorkItem(int64_t id, const std::string& state, const std::string& error,
                                   int64_t notBefore, bool undoAttempt)
  {
    Execute("UPDATE deid_work SET state = $2, error = $3, not_before = CAST($4 AS BIGINT), lease = 0, "
            "attempts = attempts - CAST($5 AS INTEGER), updated = $6 WHERE id = CAST($1 AS BIGINT)",
            { std::to_string(id), state, error.empty() ? Value() : Value(error), std::to_string(notBefore),
              undoAttempt ? "1" : "0", Now() });
  }


  std::vector<WorkItem> SqlKeyStore::ListWorkItems(const std::string& state, size_t limit)
  {
    std::vector<WorkItem> result;
    for (const Row& row : Execute(std::string("SELECT ") + COLUMNS + " FROM deid_work "
                                  "WHERE ($1 = '' OR state = $1) ORDER BY id LIMIT CAST($2 AS BIGINT)",
                                  { state, std::to_string(limit) }))
    {
      result.push_back(ToItem(row));
    }
    return result;
  }


  std::vector<WorkItem> SqlKeyStore::ListWorkItemsOfStudy(const std::string& study)
  {
    std::vector<WorkItem> result;
    for (const Row& row : Execute(std::string("SELECT ") + COLUMNS + " FROM deid_work WHERE study = $1 ORDER BY id",
                                  { study }))
    {
      result.push_back(ToItem(row));
    }
    return result;
  }


  uint64_t SqlKeyStore::CountWorkItems(const std::string& state)
  {
    std::vector<Row> rows = Execute("SELECT COUNT(*) FROM deid_work WHERE ($1 = '' OR state = $1)", { state });
    return rows.empty() ? 0 : static_cast<uint64_t>(Number(rows[0][0]));
  }


  uint64_t SqlKeyStore::RetryFailedWorkItems()
  {
    return Execute("UPDATE deid_work SET state = 'Pending', attempts = 0, not_before = 0, updated = $1 "
                   "WHERE state = 'Failed' RETURNING id", { Now() }).size();
  }


  std::optional<int64_t> SqlKeyStore::GetCounter(const std::string& name)
  {
    std::vector<Row> rows = Execute("SELECT value FROM deid_counters WHERE name = $1", { name });
    if (rows.empty())
    {
      return std::nullopt;
    }
    return Number(rows[0][0]);
  }


  void SqlKeyStore::AdvanceCounter(const std::string& name, int64_t value)
  {
    Execute("INSERT INTO deid_counters (name, value) VALUES ($1, CAST($2 AS BIGINT)) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE deid_counters.value < excluded.value",
            { name, std::to_string(value) });
  }
}
