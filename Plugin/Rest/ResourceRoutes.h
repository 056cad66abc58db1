// POST /{patients|studies|series}/{id}/deidentify: a de-identified copy of
// the resource as new resources (PS3.15 E.1), as an Orthanc job, like
// Orthanc's /anonymize.
//   Body: { "Profile", "Options", "KeepSource" (true), "Priority" (0), "Synchronous" (false) }
//   Answer: { "ID", "Path" } of the job, or with "Synchronous": true
//           { "ID", "Path", "Type", "PatientID", "InstancesCount", "FailedInstancesCount", ... }
//           of the new resource.
#pragma once

namespace Deid
{
  void RegisterResourceRoutes();
}
