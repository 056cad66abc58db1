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

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

namespace Deid
{
  using namespace OrthancApi;

  // The Orthanc IDs of the instances of a resource, in Orthanc's order.
  static std::vector<std::string> ListInstances(const ResourceLevel& level, const std::string& id)
  {
    Json::Value resource;
    if (!RestGet(resource, level.GetUri(id), true /* tolerate */))
    {
      throw HttpError::NotFound("Unknown " + std::string(level.singular) + ": " + id);
    }
    if (std::string(level.singular) == "Instance")
    {
      return { id };
    }

    Json::Value instances;
    RestGet(instances, level.GetUri(id) + "/instances");
    std::vector<std::string> ids;
    for (const Json::Value& i : instances)
    {
      if (i.isString())
      {
        ids.push_back(i.asString());
      }
      else if (i.isObject() && i["ID"].isString())
      {
        ids.push_back(i["ID"].asString());
      }
      else
      {
        throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot list the instances of " + id);
      }
    }
    return ids;
  }


  SendOperation::SendOperation(const Rules::Destination& destination, bool store,
                               const std::string& level, const std::string& sourceId) :
    destination_(destination),
    store_(store),
    level_(level),
    sourceId_(sourceId),
    caller_(CallerContext::GetCurrent())
  {
    for (const std::string& id : ListInstances(ResourceLevel::FromName(level), sourceId))
    {
      Instance instance;
      instance.sourceId = id;
      instances_.push_back(instance);
    }
  }


  void SendOperation::SetJobId(const std::string& jobId)
  {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobId_ = jobId;
      waitForJobId_ = false;
    }
    jobIdSet_.notify_all();
  }


  bool SendOperation::Step()
  {
    // As DeidentificationOperation::Step: a batch of ThreadsPerJob instances
    // in parallel; the senders and providers are thread-safe.
    std::vector<Instance*> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      jobIdSet_.wait_for(lock, std::chrono::seconds(10), [this] { return !waitForJobId_; });

      const size_t threads = std::max<size_t>(1, Configuration::Get().GetThreadsPerJob());
      while (next_ < instances_.size() && batch.size() < threads)
      {
        if (instances_[next_].state == State::Pending)
        {
          batch.push_back(&instances_[next_]);   // the vector is never resized after construction
        }
        next_++;
      }
    }

    if (batch.empty())
    {
      return false;
    }
    std::vector<std::thread> workers;
    for (size_t i = 1; i < batch.size(); i++)
    {
      workers.emplace_back([this, &batch, i] { Process(*batch[i]); });
    }
    Process(*batch[0]);
    for (std::thread& worker : workers)
    {
      worker.join();
    }
    return true;
  }


  void SendOperation::Process(Instance& instance)
  {
    Sending::InstanceOutcome outcome = Sending::ProcessInstance(instance.sourceId, destination_, store_);

    std::lock_guard<std::mutex> lock(mutex_);
    instance.decision = outcome.decision;
    instance.storedId = outcome.storedId;
    if (outcome.sent)
    {
      instance.state = State::Sent;
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
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_)
      {
        return;
      }
      finished_ = true;
    }
    Report();
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
      for (const Instance& i : instances_)
      {
        if (!i.decision.rule.empty())
        {
          rules.insert(i.decision.rule);
        }
        switch (i.state)
        {
          case State::Sent:
          {
            report.sentInstancesCount++;
            Rules::RuleDecision profile = i.decision;
            profile.rule.clear();
            profile.reason.clear();
            decisions[WriteJson(profile.ToJson(), false)] = profile;
            if (!i.storedId.empty())
            {
              report.newInstances.push_back(i.storedId);
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


  void SendOperation::Reset()
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Instance& i : instances_)
    {
      if (i.state == State::Failed)
      {
        i.state = State::Pending;
        i.error.clear();
      }
    }
    next_ = 0;
    finished_ = false;
  }


  float SendOperation::GetProgress() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (instances_.empty())
    {
      return 1.0f;
    }
    size_t done = 0;
    for (const Instance& i : instances_)
    {
      if (i.state != State::Pending)
      {
        done++;
      }
    }
    return static_cast<float>(done) / static_cast<float>(instances_.size());
  }


  bool SendOperation::HasFailures() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Instance& i : instances_)
    {
      if (i.state == State::Failed || i.state == State::Refused)
      {
        return true;
      }
    }
    return false;
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

    size_t sent = 0;
    std::set<std::string> rules;
    Json::Value refused(Json::arrayValue);
    Json::Value failed(Json::arrayValue);
    Json::Value stored(Json::arrayValue);
    for (const Instance& i : instances_)
    {
      if (!i.decision.rule.empty())
      {
        rules.insert(i.decision.rule);
      }
      if (!i.storedId.empty())
      {
        stored.append(i.storedId);
      }
      if (i.state == State::Sent)
      {
        sent++;
      }
      else if (i.state == State::Refused)
      {
        Json::Value r(Json::objectValue);
        r["Instance"] = i.sourceId;
        r["Rule"] = i.decision.rule;
        r["Reason"] = i.error;
        refused.append(r);
      }
      else if (i.state == State::Failed)
      {
        Json::Value f(Json::objectValue);
        f["Instance"] = i.sourceId;
        f["Error"] = i.error;
        failed.append(f);
      }
    }
    content["SentInstancesCount"] = static_cast<Json::UInt64>(sent);
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
    {
      std::lock_guard<std::mutex> lock(operation->mutex_);
      operation->waitForJobId_ = true;
    }
    return SubmitOrthancJob(operation, "DeidentificationSend", priority, waitForCompletion);
  }
}
