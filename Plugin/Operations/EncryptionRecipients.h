// The recipients of the Encrypted Attributes Sequence (PS3.15 E.1.1 step 4):
// who can re-identify the copies an operation makes.
//
//   "Deidentification": {
//     "Recipients": {                        // name -> PEM certificate file (RSA key)
//       "custodian": "/etc/orthanc/custodian.pem"
//     },
//     "Profiles": {
//       "reversible": { "Options": [], "Recipients": [ "custodian" ], "Cipher": "AES128" }
//     }
//   }
//
// A request names recipients with "Recipients": ["custodian"] (JSON body) or
// the header X-Deidentification-Recipients: custodian,other (POST
// /tools/deidentify), and optionally "Cipher": "AES256" (default) | "AES128"
// | "TripleDES" (header X-Deidentification-Cipher). The request's recipients
// replace the profile's. A name not in "Recipients" is looked up among the
// certificates of the key store. No recipient: no Encrypted Attributes
// Sequence (the default).
#pragma once

#include "Operations/ProviderFactory.h"

#include "Engine/EncryptedAttributes.h"

#include <json/value.h>

#include <memory>
#include <string>
#include <vector>

namespace Deid
{
  class EncryptionRecipients
  {
  public:
    // Reads and checks every certificate of "Recipients". Throws
    // ConfigurationError (unreadable file, not an RSA certificate).
    static void Initialize(const Json::Value& section);
    static void Finalize();

    // The writer for the recipients of an operation, nullptr if it names
    // none. Throws DeidError(BadOption) for an unknown recipient or cipher.
    static std::shared_ptr<const EncryptedAttributesWriter> ForOperation(const OperationDescription& operation);

    // Recipient names of a request or profile: ["a", "b"] or "a,b" (a header).
    // Throws DeidError(BadOption) for anything else.
    static std::vector<std::string> ParseNames(const Json::Value& value, const std::string& where);

    // The configured recipient names (for GET /deidentification/recipients).
    static Json::Value List();
  };
}
