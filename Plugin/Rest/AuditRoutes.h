// GET /deidentification/audit?since=<id>&limit=<n>: the audit trail of the
// key store, oldest first, paged by record id (answer "Next" = the "since" of
// the next page). Holds Orthanc IDs, routes, profiles, options and callers,
// never patient data.
#pragma once

namespace Deid
{
  void RegisterAuditRoutes();
}
