#include "Rules/RuleTypes.h"

namespace Deid
{
  namespace Rules
  {
    const char* const Destination::KINDS[] = { "Modality", "Peer", "DicomWeb", "Store", "Ingest", nullptr };

    bool Destination::IsKnownKind(const std::string& kind)
    {
      for (size_t i = 0; KINDS[i] != nullptr; i++)
      {
        if (kind == KINDS[i])
        {
          return true;
        }
      }
      return false;
    }

    std::string Destination::Describe() const
    {
      return name.empty() ? kind : kind + " \"" + name + "\"";
    }

    Json::Value RuleDecision::ToJson() const
    {
      Json::Value v(Json::objectValue);
      v["Allowed"] = allowed;
      v["Rule"] = rule;
      v["Reason"] = reason;
      v["Profile"] = profile;
      v["Options"] = Json::arrayValue;
      for (const std::string& o : options)
      {
        v["Options"].append(o);
      }
      v["Recipients"] = Json::arrayValue;
      for (const std::string& r : recipients)
      {
        v["Recipients"].append(r);
      }
      v["Project"] = project;
      return v;
    }
  }
}
