#include "Jobs/SendJob.h"

#include "Configuration/Configuration.h"
#include "Configuration/DeidentificationRequest.h"
#include "Operations/DeidentificationEvents.h"
#include "Operations/RuleService.h"
#include "Orthanc/CallerContext.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/ResourceLevel.h"
#include "Sending/DestinationSender.h"
#include "Sending/Senders.h"

#include <map>
#include <set>

namespace Deid
{
  using namespace OrthancApi;

  SendOperation::SendOperation(const Rules::Destination& destination, bool store,
                               const std::string& level, const std::string& sourceId) :
    destination_(destination),
    store_(store),
    level_(level),
    sourceId_(sourceId),
    caller_(CallerContext::GetCurrent())
  {
    AddInstances(ListInstances(ResourceLevel::FromName(level), sourceId));
    decisions_.resize(instances_.size());
  }


  void SendOperation::ProcessInstance(size_t index)
  {
    Instance& instance = instances_[index];
    Sending::InstanceOutcome outcome = Sending::ProcessInstance(instance.sourceId, destination_, store_);

    std::lock_guard<std::mutex> lock(mutex_);
    decisions_[index] = outcome.decision;
    instance.newId = outcome.storedId;
    if (outcome.sent)
    {
      instance.state = State::Done;
      instance.error.clear();
    }
    else
    {
      instance.state = outcome.refused ? State::Refused : State::Failed;
      instance.error = outcome.error;
      LogWarning("De-identification: " + outcome.error);
    }
  }


  void SendOperation::Finish()
  {
    if (MarkFinished())
    {
      Report();
    }
  }


  // The audit record of the send: the destination, the counts, the rules
  // and the profiles they chose.
  void SendOperation::Report() const
  {
    OperationReport report;
    std::map<std::string, Rules::RuleDecision> decisions;   // distinct profiles of the sent instances
    std::set<std::string> rules;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      report.jobId = jobId_;
      report.instancesCount = instances_.size();
      for (size_t k = 0; k < instances_.size(); k++)
      {
        const Instance& i = instances_[k];
        if (!decisions_[k].rule.empty())
        {
          rules.insert(decisions_[k].rule);
        }
        switch (i.state)
        {
          case State::Done:   // sent
          {
            report.sentInstancesCount++;
            Rules::RuleDecision profile = decisions_[k];
            profile.rule.clear();
            profile.reason.clear();
            decisions[WriteJson(profile.ToJson(), false)] = profile;
            if (!i.newId.empty())
            {
              report.newInstances.push_back(i.newId);
            }
            break;
          }
          case State::Refused:
            report.refusedInstancesCount++;
            break;
          case State::Failed:
            report.failedInstancesCount++;
            break;
          default:
            break;
        }
      }
    }

    const ResourceLevel& level = ResourceLevel::FromName(level_);
    if (decisions.size() == 1)
    {
      try
      {
        report.operation = RuleService::ToRequest(decisions.begin()->second).Describe("send", level.singular, sourceId_);
      }
      catch (...)
      {
      }
    }
    else
    {
      std::set<std::string> profiles;
      for (const auto& d : decisions)
      {
        try
        {
          profiles.insert(RuleService::ToRequest(d.second).profileName);
        }
        catch (...)
        {
        }
      }
      report.profiles.assign(profiles.begin(), profiles.end());
    }
    report.operation.kind = "send";
    report.operation.level = level.singular;
    report.operation.sourceId = sourceId_;
    report.operation.caller = caller_;
    report.destination = Sending::DescribeDestination(destination_);
    report.rules.assign(rules.begin(), rules.end());
    report.stored = store_;

    DeidentificationEvents::ReportFinished(report);
  }


  bool SendOperation::HasFailures() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    return CountLocked(State::Failed) > 0 || CountLocked(State::Refused) > 0;
  }


  Json::Value SendOperation::GetContent() const
  {
    std::lock_guard<std::mutex> lock(mutex_);

    Json::Value content(Json::objectValue);
    content["Description"] = "Send de-identified instances (PS3.15 Annex E)";
    content["Level"] = ResourceLevel::FromName(level_).singular;
    content["Source"] = sourceId_;
    content["Destination"] = Json::objectValue;
    content["Destination"]["Kind"] = destination_.kind;
    content["Destination"]["Name"] = destination_.name;
    content["Store"] = store_;
    content["InstancesCount"] = static_cast<Json::UInt64>(instances_.size());

    std::set<std::string> rules;
    Json::Value refused(Json::arrayValue);
    Json::Value stored(Json::arrayValue);
    for (size_t k = 0; k < instances_.size(); k++)
    {
      const Instance& i = instances_[k];
      if (!decisions_[k].rule.empty())
      {
        rules.insert(decisions_[k].rule);
      }
      if (!i.newId.empty())
      {
        stored.append(i.newId);
      }
      if (i.state == State::Refused)
      {
        Json::Value r(Json::objectValue);
        r["Instance"] = i.sourceId;
        r["Rule"] = decisions_[k].rule;
        r["Reason"] = i.error;
        refused.append(r);
      }
    }
    const Json::Value failed = GetFailedInstancesLocked();
    content["SentInstancesCount"] = static_cast<Json::UInt64>(CountLocked(State::Done));
    content["RefusedInstancesCount"] = static_cast<Json::UInt64>(refused.size());
    content["FailedInstancesCount"] = static_cast<Json::UInt64>(failed.size());
    content["RefusedInstances"] = refused;
    content["FailedInstances"] = failed;
    content["Rules"] = Json::arrayValue;
    for (const std::string& r : rules)
    {
      content["Rules"].append(r);
    }
    if (store_)
    {
      content["StoredInstances"] = stored;
    }
    return content;
  }


  std::string SendOperation::Submit(std::shared_ptr<SendOperation> operation, int priority,
                                    bool waitForCompletion)
  {
    return InstanceBatchJob::Submit(operation, JOB_TYPE, priority, waitForCompletion);
  }
}
