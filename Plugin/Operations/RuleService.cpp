// PLACEHOLDER until the rules land: every destination allowed with the
// default profile. Replaced by the rules work (branch "rules").
#include "Operations/RuleService.h"

#include "Configuration/Configuration.h"
#include "Orthanc/OrthancApi.h"

#include <stdexcept>

namespace Deid
{
  static std::unique_ptr<RuleService> globalRules_;

  namespace
  {
    class AllowAll : public Rules::IRuleSet
    {
    public:
      Rules::RuleDecision Decide(const Rules::RuleInput&) const override
      {
        Rules::RuleDecision d;
        d.allowed = true;
        d.reason = "placeholder: no rules yet";
        return d;
      }
    };
  }

  void RuleService::Initialize(const Json::Value&)
  {
    globalRules_.reset(new RuleService);
    globalRules_->rules_.reset(new AllowAll);
  }

  void RuleService::Finalize()
  {
    globalRules_.reset();
  }

  RuleService& RuleService::Get()
  {
    if (!globalRules_)
    {
      throw std::logic_error("RuleService is not initialized");
    }
    return *globalRules_;
  }

  Rules::RuleInput RuleService::DescribeInstance(const std::string& instanceId,
                                                 const Rules::Destination& destination)
  {
    Rules::RuleInput input;
    input.destination = destination;
    Json::Value tags;
    if (!OrthancApi::RestGet(tags, "/instances/" + instanceId + "/tags?short", true))
    {
      throw OrthancApi::HttpError::NotFound("Unknown instance: " + instanceId);
    }
    for (const std::string& tag : tags.getMemberNames())
    {
      if (tags[tag].isString())
      {
        input.tags[tag] = tags[tag].asString();
      }
    }
    return input;
  }

  Rules::RuleInput RuleService::DescribeFile(const void*, size_t, const Rules::Origin& origin,
                                             const Rules::Destination& destination)
  {
    Rules::RuleInput input;
    input.origin = origin;
    input.destination = destination;
    return input;
  }

  Rules::RuleDecision RuleService::Decide(const Rules::RuleInput& input) const
  {
    return rules_->Decide(input);
  }

  DeidentificationRequest RuleService::ToRequest(const Rules::RuleDecision& decision)
  {
    Json::Value body(Json::objectValue);
    if (!decision.profile.empty())
    {
      body["Profile"] = decision.profile;
    }
    body["Options"] = Json::arrayValue;
    for (const std::string& o : decision.options)
    {
      body["Options"].append(o);
    }
    if (!decision.recipients.empty())
    {
      body["Recipients"] = Json::arrayValue;
      for (const std::string& r : decision.recipients)
      {
        body["Recipients"].append(r);
      }
    }
    if (!decision.project.empty())
    {
      body["Project"] = decision.project;
    }
    return DeidentificationRequest::FromConfiguration(body);
  }
}
