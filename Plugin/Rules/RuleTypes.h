// The contract of rules per destination: what a rule sees of one instance
// and one destination, and what it decides. Evaluated identically by the
// JSON rules and the Lua rules; no Orthanc dependency (unit-testable).
#pragma once

#include <json/value.h>

#include <map>
#include <string>
#include <vector>

namespace Deid
{
  namespace Rules
  {
    // Where a de-identified instance goes.
    struct Destination
    {
      std::string kind;   // "Modality" (C-STORE), "Peer" (another Orthanc), "DicomWeb" (STOW-RS),
                          // "Store" (a de-identified copy kept in this Orthanc),
                          // "Ingest" (de-identification at ingestion, before storage)
      std::string name;   // the configured name; empty for "Store" and "Ingest"

      static const char* const KINDS[];   // the kinds above, nullptr-terminated
      static bool IsKnownKind(const std::string& kind);
      std::string Describe() const;       // "Modality \"TRIAL\"", for messages
    };

    // Where the original instance came from: Orthanc's instance metadata
    // "Origin", "RemoteAET", "CalledAET", "RemoteIP".
    struct Origin
    {
      std::string kind;        // "DicomProtocol", "RestApi", "Plugins", "Lua", "WebDav", "Unknown"
      std::string remoteAet;
      std::string calledAet;
      std::string remoteIp;
    };

    // What a rule sees: the top-level attributes with a string value,
    // keyed by tag as "gggg,eeee" (lower-case hex, as Orthanc's
    // /instances/{id}/tags?short), the origin and the destination.
    struct RuleInput
    {
      std::map<std::string, std::string> tags;
      Origin origin;
      Destination destination;
    };

    // What a rule decides for one instance and one destination.
    struct RuleDecision
    {
      bool allowed = false;
      std::string rule;                     // name of the deciding rule; "" for none
      std::string reason;                   // why: the refusal, or what matched; no patient value
      std::string profile;                  // configured profile; "" = the configuration's default
      std::vector<std::string> options;     // options on top of the profile (names or CID 7050 codes)
      std::vector<std::string> recipients;  // E.1.1 recipients; empty = the profile's
      std::string project;                  // key store project; "" = the profile's or "default"

      Json::Value ToJson() const;
    };

    // A set of rules. Decide() is thread-safe and never throws: any error
    // (including a Lua error) is a refusal whose reason says so.
    class IRuleSet
    {
    public:
      virtual ~IRuleSet() = default;
      virtual RuleDecision Decide(const RuleInput& input) const = 0;
    };
  }
}
