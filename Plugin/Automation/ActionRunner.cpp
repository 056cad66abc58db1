#include "Automation/ActionRunner.h"

#include "Automation/ChangeFollower.h"
#include "Automation/InstanceFacts.h"
#include "Operations/DeidentificationEvents.h"
#include "Orthanc/OrthancApi.h"
#include "Sending/DestinationSender.h"

#include <algorithm>
#include <stdexcept>

namespace Deid
{
  namespace Automation
  {
    namespace
    {
      // A failure with a message free of patient data.
      class ActionError : public std::runtime_error
      {
      public:
        bool permanent;
        ActionError(const std::string& message, bool isPermanent) :
          std::runtime_error(message), permanent(isPermanent) {}
      };
    }


    // One audit record per work item (PS3.15 does not require it; our rule:
    // every de-identification is in the audit trail). No patient data.
    static void Audit(const WorkItem& item, const Rules::Destination& destination,
                      const std::vector<Sending::InstanceOutcome>& outcomes)
    {
      OperationReport report;
      report.operation.kind = "automatic";
      report.operation.level = item.level;
      report.operation.sourceId = item.resource;
      report.operation.caller = "automatic rule " + item.rule;
      report.destination = destination.Describe();
      report.rules.push_back(item.rule);
      report.instancesCount = outcomes.size();
      for (const Sending::InstanceOutcome& o : outcomes)
      {
        if (o.sent)
        {
          report.sentInstancesCount++;
        }
        else
        {
          report.failedInstancesCount++;
        }
        if (o.refused)
        {
          report.refusedInstancesCount++;
        }
        if (!o.storedId.empty())
        {
          report.stored = true;
          report.newInstances.push_back(o.storedId);
        }
        if (report.operation.profileName.empty() && o.decision.allowed)
        {
          report.operation.profileName = o.decision.profile;
        }
        if (o.decision.allowed &&
            std::find(report.profiles.begin(), report.profiles.end(), o.decision.profile) == report.profiles.end())
        {
          report.profiles.push_back(o.decision.profile);
        }
      }
      DeidentificationEvents::ReportFinished(report);
    }


    ActionRunner::ActionRunner(const AutomaticSettings& settings, IKeyStore& store) :
      settings_(settings),
      store_(store)
    {
    }


    void ActionRunner::RunOnInstance(const std::string& instanceId, const Rules::Destination& destination,
                                     std::vector<Sending::InstanceOutcome>& outcomes)
    {
      // Destination kind "Store": the rules for the kept copy give its profile.
      outcomes.push_back(Sending::ProcessInstance(instanceId, destination, destination.kind == "Store"));
      const Sending::InstanceOutcome& outcome = outcomes.back();
      if (outcome.refused)
      {
        throw ActionError(outcome.error.empty() ? "refused by the rules for " + destination.Describe() :
                          outcome.error, true);
      }
      if (!outcome.sent)
      {
        // An instance deleted meanwhile will not come back: no retry.
        Json::Value exists;
        const bool gone = !OrthancApi::RestGet(exists, "/instances/" + instanceId, true);
        throw ActionError(outcome.error.empty() ? "not delivered to " + destination.Describe() : outcome.error,
                          gone);
      }
    }


    // PS3.15 does not govern this; our rule: an original is deleted only
    // after every copy and send made of it succeeded.
    void ActionRunner::RunDelete(const WorkItem& item)
    {
      std::string waiting, failed;
      for (const WorkItem& other : store_.ListWorkItemsOfStudy(item.study))
      {
        if (other.id == item.id || other.action == "Delete" || other.state == "Seen")
        {
          continue;
        }
        bool concerns = (item.level == "Study" || other.resource == item.resource || other.level == "Study");
        if (!concerns)
        {
          continue;
        }
        const std::string label = "action " + other.action + " of rule \"" + other.rule + "\" on " +
          other.level + " " + other.resource;
        if (other.state == "Failed")
        {
          failed = label;
        }
        else if (other.state != "Done")
        {
          waiting = label;
        }
      }

      if (!failed.empty())
      {
        store_.FinishWorkItem(item.id, "Failed", "original kept: " + failed + " failed");
        return;
      }
      if (!waiting.empty())
      {
        // Not an attempt: wait for the other actions.
        store_.FinishWorkItem(item.id, "Pending", "waiting for " + waiting,
                              NowSeconds() + settings_.pollInterval, true);
        return;
      }

      const std::string uri = (item.level == "Study" ? "/studies/" : "/instances/") + item.resource;
      Json::Value exists;
      if (OrthancApi::RestGet(exists, uri, true))
      {
        OrthancApi::RestDelete(uri);
        OrthancApi::LogInfo("De-identification: automatic rule \"" + item.rule + "\" deleted the original " +
                            item.level + " " + item.resource + " after every action succeeded");
      }
      store_.FinishWorkItem(item.id, "Done", "");
    }


    void ActionRunner::Run(const WorkItem& item)
    {
      std::string error;
      bool permanent = false;
      Rules::Destination destination;
      std::vector<Sending::InstanceOutcome> outcomes;
      try
      {
        if (item.action == "Delete")
        {
          RunDelete(item);
          return;
        }
        if (!ParseDestination(item.action, destination))
        {
          throw ActionError("unknown action \"" + item.action + "\"", true);
        }

        if (item.level == "Study")
        {
          Json::Value instances;
          if (!OrthancApi::RestGet(instances, "/studies/" + item.resource + "/instances", true))
          {
            throw ActionError("study " + item.resource + " no longer exists", true);
          }
          std::string failures;
          size_t failed = 0;
          for (Json::ArrayIndex i = 0; i < instances.size(); i++)
          {
            const std::string id = instances[i]["ID"].asString();
            InstanceFacts facts;
            if (!ReadInstanceFacts(facts, id) || facts.ownOutput)
            {
              continue;
            }
            try
            {
              RunOnInstance(id, destination, outcomes);
            }
            catch (const ActionError& e)
            {
              permanent = permanent || e.permanent;
              if (failed++ < 3)
              {
                failures += (failures.empty() ? "" : "; ") + std::string(e.what());
              }
            }
          }
          if (failed > 0)
          {
            throw ActionError(std::to_string(failed) + "/" + std::to_string(instances.size()) +
                              " instances failed: " + failures, permanent);
          }
        }
        else
        {
          RunOnInstance(item.resource, destination, outcomes);
        }
        Audit(item, destination, outcomes);
        store_.FinishWorkItem(item.id, "Done", "");
        return;
      }
      catch (const ActionError& e)
      {
        error = e.what();
        permanent = permanent || e.permanent;
      }
      catch (...)
      {
        OrthancApi::DescribeCurrentException(error);
      }

      if (!outcomes.empty())
      {
        Audit(item, destination, outcomes);
      }

      try
      {
        const bool last = permanent || item.attempts >= settings_.maxAttempts;
        OrthancApi::LogWarning("De-identification: automatic rule \"" + item.rule + "\", action " + item.action +
                               " on " + item.level + " " + item.resource + ", attempt " +
                               std::to_string(item.attempts) + (last ? " (final)" : "") + ": " + error);
        store_.FinishWorkItem(item.id, last ? "Failed" : "Pending", error,
                              last ? 0 : NowSeconds() + settings_.retryDelay);
      }
      catch (...)
      {
        // The key store is unreachable: the claim expires and the item is retried.
      }
    }
  }
}
