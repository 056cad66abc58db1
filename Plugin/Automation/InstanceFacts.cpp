#include "Automation/InstanceFacts.h"

#include "Configuration/Configuration.h"
#include "Operations/RuleService.h"
#include "Orthanc/OrthancApi.h"

namespace Deid
{
  namespace Automation
  {
    static std::string GetMetadata(const std::string& instanceId, const std::string& name)
    {
      std::string value;
      if (!OrthancApi::RestGet(value, "/instances/" + instanceId + "/metadata/" + name, true))
      {
        return std::string();
      }
      return value;
    }


    bool ReadInstanceFacts(InstanceFacts& facts, const std::string& instanceId)
    {
      facts = InstanceFacts();
      facts.instanceId = instanceId;

      Json::Value study;
      if (!OrthancApi::RestGet(study, "/instances/" + instanceId + "/study", true) || !study["ID"].isString())
      {
        return false;
      }
      facts.studyId = study["ID"].asString();

      try
      {
        facts.input = RuleService::DescribeInstance(instanceId, Rules::Destination());
      }
      catch (const OrthancApi::HttpError&)
      {
        return false;
      }

      Rules::Origin& origin = facts.input.origin;
      if (origin.kind.empty())
      {
        origin.kind = GetMetadata(instanceId, "Origin");
        origin.remoteAet = GetMetadata(instanceId, "RemoteAET");
        origin.calledAet = GetMetadata(instanceId, "CalledAET");
        origin.remoteIp = GetMetadata(instanceId, "RemoteIP");
      }
      if (origin.kind.empty())
      {
        origin.kind = "Unknown";
      }

      // The plugin's output: the link to its source, or (while that link is
      // being written) an instance stored by a plugin that says its identity
      // was removed (PatientIdentityRemoved, PS3.15 E.1.1 step 6).
      const std::string source = GetMetadata(instanceId, Configuration::Get().GetSourceMetadata());
      auto removed = facts.input.tags.find("0012,0062");
      facts.ownOutput = !source.empty() ||
        (origin.kind == "Plugins" && removed != facts.input.tags.end() && removed->second == "YES");
      return true;
    }
  }
}
