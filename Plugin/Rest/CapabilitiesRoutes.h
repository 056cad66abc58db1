// GET /deidentification/capabilities: which features of the plugin are on in
// this Orthanc, for clients such as the Orthanc Explorer buttons:
//   { "Version": "0.1.0",
//     "Deidentification": true,            // the deidentify routes (always, when the plugin is enabled)
//     "Preview": true,
//     "Reidentification": false,           // Deidentification.EnableReidentification
//     "ConfiguredPrivateKey": false,       // a PrivateKeyFile is configured: no key needed from the caller
//     "MappingLookup": false,              // Deidentification.EnableMappingLookup
//     "Send": false,                       // POST /{level}/{id}/deidentify/send is registered
//     "RulesTest": false,                  // POST /deidentification/rules/test is registered
//     "SourceMetadata": "DeidentifiedFrom" }   // the metadata linking a copy to its source
// Each flag (but MappingLookup, whose route always answers, 403 when off)
// says whether the corresponding routes are registered, so it cannot
// disagree with what the REST API answers.
#pragma once

#include <json/value.h>

namespace Deid
{
  void RegisterCapabilitiesRoute(const Json::Value& section);
}
