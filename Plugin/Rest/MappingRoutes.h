// The pseudonym mappings of the key store (disabled unless
// "EnableMappingLookup": true, answering 403 otherwise):
//   GET /deidentification/mappings?PatientID=..[&IssuerOfPatientID=..][&Project=..]
//       -> { "Project", "PatientID", "IssuerOfPatientID", "Pseudonym" }   (404 if none)
//   GET /deidentification/mappings?Pseudonym=..[&Project=..]
//       -> { "Project", "Pseudonym", "PatientID", "IssuerOfPatientID", "Created" }
// Lookups never create a mapping; each one is written to the audit trail
// (without the looked-up values).
#pragma once

namespace Deid
{
  void RegisterMappingRoutes();
}
