#include "Automation/ActionRunner.h"

#include "Automation/ChangeFollower.h"
#include "Automation/InstanceFacts.h"
#include "Configuration/Configuration.h"
#include "Operations/DeidentificationEvents.h"
#include "Operations/InstanceDeidentifier.h"
#include "Operations/RuleService.h"
#include "Orthanc/OrthancApi.h"
#include "Sending/DestinationSender.h"

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

      // The de-identified copy kept in this Orthanc, with the profile that
      // the rules give to destination kind "Store".
      void StoreCopy(const std::string& instanceId, const std::string& ruleName)
      {
        InstanceFacts facts;
        if (!ReadInstanceFacts(facts, instanceId))
        {
          throw ActionError("instance " + instanceId + " no longer exists", true);
        }
        Rules::RuleInput input = facts.input;
        input.destination.kind = "Store";
        const Rules::RuleDecision decision = RuleService::Get().Decide(input);
        if (!decision.allowed)
        {
          throw ActionError("refused by the rules for destination Store" +
                            (decision.rule.empty() ? std::string() : " (rule \"" + decision.rule + "\")") +
                            ": " + decision.reason, true);
        }

        DeidentificationRequest request = RuleService::ToRequest(decision);
        OperationDescription operation = request.Describe("automatic", "Instance", instanceId);
        operation.caller = "automatic rule " + ruleName;

        std::string dicom;
        if (!OrthancApi::RestGet(dicom, "/instances/" + instanceId + "/file", true))
        {
          throw ActionError("cannot read instance " + instanceId + " from the storage", false);
        }

        OperationReport report;
        report.operation = operation;
        report.instancesCount = 1;
        try
        {
          std::unique_ptr<OperationProviders> providers = ProviderFactory::Create(operation);
          DeidentifiedInstance output = InstanceDeidentifier::Apply(
            dicom.data(), dicom.size(), operation, providers->GetContext(), DeidentificationSettings(),
            "instance " + instanceId);

          Json::Value stored;
          if (!OrthancApi::RestPost(stored, "/instances", output.dicom.data(), output.dicom.size(), true) ||
              !stored["ID"].isString())
          {
            throw ActionError("Orthanc refused to store the de-identified copy of instance " + instanceId, false);
          }
          const std::string newId = stored["ID"].asString();
          OrthancApi::RestPut("/instances/" + newId + "/metadata/" + Configuration::Get().GetSourceMetadata(),
                              instanceId);
          report.stored = true;
          report.newInstances.push_back(newId);
          report.newResources.push_back(newId);
        }
        catch (...)
        {
          report.failedInstancesCount = 1;
          DeidentificationEvents::ReportFinished(report);
          throw;
        }
        DeidentificationEvents::ReportFinished(report);
      }
    }


    ActionRunner::ActionRunner(const AutomaticSettings& settings, IKeyStore& store) :
      settings_(settings),
      store_(store)
    {
    }


    void ActionRunner::RunOnInstance(const std::string& instanceId, const std::string& action,
                                     const std::string& rule, bool& permanent)
    {
      Rules::Destination destination;
      if (!ParseDestination(action, destination))
      {
        permanent = true;
        throw ActionError("unknown action \"" + action + "\"", true);
      }
      if (destination.kind == "Store")
      {
        StoreCopy(instanceId, rule);
        return;
      }

      Sending::InstanceOutcome outcome = Sending::ProcessInstance(instanceId, destination, false);
      if (outcome.refused)
      {
        throw ActionError(outcome.error.empty() ? "refused by the rules for " + destination.Describe() :
                          outcome.error, true);
      }
      if (!outcome.sent)
      {
        throw ActionError(outcome.error.empty() ? "not delivered to " + destination.Describe() : outcome.error,
                          false);
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
      try
      {
        if (item.action == "Delete")
        {
          RunDelete(item);
          return;
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
              RunOnInstance(id, item.action, item.rule, permanent);
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
          RunOnInstance(item.resource, item.action, item.rule, permanent);
        }
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
