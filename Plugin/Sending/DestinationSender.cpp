// One instance, one destination: the rules decide (fail closed), the
// instance is de-identified with the decided profile through the same path
// as the de-identification jobs, then delivered by the sender of the
// destination's kind (Senders.h). Replacement UIDs, pseudonyms and date
// offsets come from the keyed providers of the decided project and profile
// (ProviderFactory): a study sent instance by instance, in one job or in
// many, keeps one new Study/Series Instance UID per original one
// (PS3.15 E.1-1a, U).
#include "Sending/DestinationSender.h"

#include "Sending/Senders.h"

#include "Configuration/DeidentificationRequest.h"
#include "Operations/InstanceDeidentifier.h"
#include "Operations/RuleService.h"
#include "Orthanc/OrthancApi.h"

namespace Deid
{
  namespace Sending
  {
    using namespace OrthancApi;

    static void Deliver(const std::string& dicom, const LocalCopy& copy, const Rules::Destination& destination,
                        const std::string& label)
    {
      if (destination.kind == "Modality")
      {
        SendToModality(dicom, destination, label);
      }
      else if (destination.kind == "Peer")
      {
        SendToPeer(dicom, destination, label);
      }
      else if (destination.kind == "DicomWeb")
      {
        SendByStowRs(copy.id, destination, label);
      }
      // "Store": the stored copy is the delivery.
    }


    InstanceOutcome ProcessInstance(const std::string& instanceId,
                                    const Rules::Destination& destination,
                                    bool keepCopy)
    {
      InstanceOutcome outcome;
      const std::string label = "instance " + instanceId;
      const std::string where = DescribeDestination(destination);

      try
      {
        const std::string& kind = destination.kind;
        if (kind != "Modality" && kind != "Peer" && kind != "DicomWeb" && kind != "Store")
        {
          throw HttpError::BadRequest("Cannot send to a destination of kind " + where);
        }

        // 1. The rules (thread-safe, never throw; anything unexpected refuses).
        Rules::RuleInput input = RuleService::DescribeInstance(instanceId, destination);
        outcome.decision = RuleService::Get().Decide(input);
        if (!outcome.decision.allowed)
        {
          outcome.refused = true;
          outcome.error = label + " is not sent to " + where + ": " +
            (outcome.decision.rule.empty() ? std::string() :
             "rule " + WriteJson(Json::Value(outcome.decision.rule), false) + ": ") +
            (outcome.decision.reason.empty() ? std::string("refused") : outcome.decision.reason);
          return outcome;
        }

        // 2. De-identification with the decided profile (trusted request).
        DeidentificationRequest request = RuleService::ToRequest(outcome.decision);
        OperationDescription description = request.Describe("send", "Instance", instanceId);
        std::unique_ptr<OperationProviders> providers = ProviderFactory::Create(description);

        MemoryBuffer original;   // Orthanc's buffer, not copied; freed before the delivery
        try
        {
          RestGet(original, "/instances/" + instanceId + "/file");
        }
        catch (const HttpError& e)
        {
          throw HttpError(e.GetCode(), "Cannot read " + label + " from the Orthanc storage: " +
                          DescribeError(e.GetCode()));
        }
        DeidentifiedInstance output = InstanceDeidentifier::Apply(
          original.GetData(), original.GetSize(), description, providers->GetContext(),
          DeidentificationSettings(), label);
        original.Clear();

        // 3. Delivery. DICOMweb sends stored resources only: its copy is
        // deleted afterwards unless a copy is to be kept.
        const bool storeHere = keepCopy || kind == "Store";
        LocalCopy copy;
        if (storeHere || kind == "DicomWeb")
        {
          copy = StoreLocalCopy(output.dicom, instanceId, label);
          if (storeHere)
          {
            outcome.storedId = copy.id;
          }
        }

        try
        {
          Deliver(output.dicom, copy, destination, label);
        }
        catch (...)
        {
          if (!storeHere && !copy.id.empty())
          {
            DeleteLocalCopy(copy);
          }
          throw;
        }

        if (!storeHere && !copy.id.empty() && !DeleteLocalCopy(copy))
        {
          LogWarning("De-identification: cannot delete the temporary copy " + copy.id + " of " + label +
                     " sent to " + where);
        }
        outcome.sent = true;
      }
      catch (...)
      {
        std::string error;
        DescribeCurrentException(error);
        if (error.find(instanceId) == std::string::npos)
        {
          error = label + " (to " + where + "): " + error;
        }
        outcome.sent = false;
        outcome.error = error;
      }
      return outcome;
    }
  }
}
