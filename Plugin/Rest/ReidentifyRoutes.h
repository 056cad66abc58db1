// Re-identification routes (PS3.15 E.1.2): decrypt the Encrypted Attributes
// Sequence with a recipient's private key and restore the original values.
//
//   POST /instances/{id}/reidentify        -> the restored file (application/dicom),
//                                             or with "Store": true the answer of POST /instances
//   POST /{patients|studies|series}/{id}/reidentify
//                                          -> an Orthanc job storing the restored copies
//                                             ("Synchronous": true runs it in the request)
//   POST /tools/reidentify                 -> body: a DICOM file; answers the restored file
//   GET /deidentification/recipients       -> {"Configured": [...], "KeyStore": [...], "Ciphers": [...]}
//                                             (names only; registered even if re-identification is disabled)
//
// The private key (PEM, RSA) comes with each request, in this order:
//   1. JSON body { "PrivateKey": "-----BEGIN PRIVATE KEY-----\n...", "Password": "optional" }
//      (not for /tools/reidentify, whose body is the file);
//   2. HTTP headers X-Deidentification-Private-Key: base64 of the whole PEM text, and
//      X-Deidentification-Key-Password: the password of an encrypted key (optional);
//   3. the configured "PrivateKeyFile" (off by default).
// The server never stores a key given with a request: it lives in memory for
// the request (or the job) only, and is never logged, audited or put in a
// job's content or saved state: after a restart of Orthanc, a saved
// re-identification job resumes only with "PrivateKeyFile"
// (Jobs/ReidentificationJob.h).
//
//   "Deidentification": {
//     "EnableReidentification": false,       // default: the reidentify routes are not registered
//     "PrivateKeyFile": "/etc/orthanc/custodian-key.pem",   // optional, for convenience
//     "PrivateKeyPassword": "..."            // optional, for an encrypted PrivateKeyFile
//   }
//
// Every re-identification is written to the audit trail (operation
// "reidentify"). A key that opens no Encrypted Attributes item, a file without
// the sequence, or corrupted content are 400 Bad Request with a clear message.
#pragma once

#include <json/value.h>

namespace Deid
{
  // Reads the options above (throws ConfigurationError for an unreadable
  // PrivateKeyFile) and registers the routes if enabled.
  void RegisterReidentifyRoutes(const Json::Value& section);
}
