#include "Automation/Ingestion.h"

#include "Configuration/Configuration.h"
#include "Operations/DeidentificationEvents.h"
#include "Operations/InstanceDeidentifier.h"
#include "Operations/RuleService.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/OrthancCallbacks.h"

namespace Deid
{
  namespace Automation
  {
    namespace
    {
      bool enabled_ = false;
      bool refuseUnmatched_ = true;

      // C-STORE refused: "Refused: Not authorized" (PS3.7 C.5.2, status 0124H).
      const uint16_t STATUS_REFUSED = 0x0124;

      // Orthanc 1.10.1 calls the received-instance callback first, then (for
      // C-STORE only, in the same thread, before anything is written) the
      // C-STORE filter, which alone can answer a DIMSE failure status. The
      // callback leaves its verdict here for the filter.
      struct PendingCStore
      {
        bool active = false;
        bool refuse = false;
        std::string reason;   // for the log: rule names and reasons, no patient value
      };
      thread_local PendingCStore pendingCStore_;

      const char* OriginKind(OrthancPluginInstanceOrigin origin)
      {
        switch (origin)
        {
          case OrthancPluginInstanceOrigin_DicomProtocol: return "DicomProtocol";
          case OrthancPluginInstanceOrigin_RestApi: return "RestApi";
          case OrthancPluginInstanceOrigin_Plugin: return "Plugins";
          case OrthancPluginInstanceOrigin_Lua: return "Lua";
          case OrthancPluginInstanceOrigin_WebDav: return "WebDav";
          default: return "Unknown";
        }
      }

      Rules::RuleDecision Decide(const void* dicom, size_t size, const Rules::Origin& origin)
      {
        Rules::Destination destination;
        destination.kind = "Ingest";
        Rules::RuleInput input = RuleService::DescribeFile(dicom, size, origin, destination);
        return RuleService::Get().Decide(input);
      }

      // Caller text (an AET) for the log: printable ASCII only, bounded.
      std::string Printable(const std::string& text)
      {
        std::string result;
        for (char c : text.substr(0, 64))
        {
          result += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
        }
        return result;
      }

      std::string Describe(const Rules::RuleDecision& d, const Rules::Origin& origin)
      {
        std::string text = "origin " + origin.kind;
        if (!origin.remoteAet.empty())
        {
          text += " from AET \"" + Printable(origin.remoteAet) + "\"";
        }
        text += d.rule.empty() ? ", no rule covers it" : ", rule \"" + d.rule + "\"";
        if (!d.reason.empty())
        {
          text += ": " + d.reason;
        }
        return text;
      }

      // Refused instances are discarded, except those that no rule covers
      // when RefuseUnmatched is false.
      bool Discards(const Rules::RuleDecision& d)
      {
        return !d.allowed && (!d.rule.empty() || refuseUnmatched_);
      }

      bool FilterCStore(uint16_t& status, const std::string& remoteAet, const void*, size_t)
      {
        PendingCStore pending = pendingCStore_;
        pendingCStore_ = PendingCStore();
        if (pending.active && pending.refuse)
        {
          OrthancApi::LogWarning("De-identification at ingestion: a C-STORE instance from AET \"" +
                                 Printable(remoteAet) + "\" is refused (" + pending.reason + ")");
          status = STATUS_REFUSED;
          return false;
        }
        return true;
      }

      // A refused C-STORE instance: the filter that follows answers the
      // failure status; until then Orthanc holds only a de-identified
      // version (Basic Profile), never the original.
      OrthancApi::ReceivedInstanceAnswer RefuseCStore(const void* dicom, size_t size, const std::string& reason)
      {
        OrthancApi::ReceivedInstanceAnswer answer;
        answer.action = OrthancPluginReceivedInstanceAction_Discard;
        try
        {
          DeidentificationRequest request = DeidentificationRequest::FromConfiguration(Json::Value(Json::objectValue));
          OperationDescription operation = request.Describe("ingest", "Instance", "");
          std::unique_ptr<OperationProviders> providers = ProviderFactory::Create(operation);
          DeidentifiedInstance output = InstanceDeidentifier::Apply(
            dicom, size, operation, providers->GetContext(), DeidentificationSettings(), "the received instance");
          answer.action = OrthancPluginReceivedInstanceAction_Modify;
          answer.modified.swap(output.dicom);
          pendingCStore_.active = true;
          pendingCStore_.refuse = true;
          pendingCStore_.reason = reason;
        }
        catch (...)
        {
          // Discarded silently (the sender sees a success), but never stored.
          OrthancApi::LogWarning("De-identification at ingestion: a C-STORE instance is discarded (" + reason + ")");
        }
        return answer;
      }

      OrthancApi::ReceivedInstanceAnswer OnReceived(const void* dicom, size_t size,
                                                    OrthancPluginInstanceOrigin originCode)
      {
        OrthancApi::ReceivedInstanceAnswer answer;
        Rules::Origin origin;
        origin.kind = OriginKind(originCode);   // Orthanc gives no AET here
        const bool cstore = (originCode == OrthancPluginInstanceOrigin_DicomProtocol);
        pendingCStore_ = PendingCStore();

        if (OrthancApi::IsStoringOwnInstance())
        {
          return answer;   // the plugin's own, already de-identified output
        }

        Rules::RuleDecision decision;
        try
        {
          decision = Decide(dicom, size, origin);
        }
        catch (...)
        {
          std::string message;
          OrthancApi::DescribeCurrentException(message);
          if (cstore)
          {
            return RefuseCStore(dicom, size, "not readable: " + message);
          }
          OrthancApi::LogWarning("De-identification at ingestion: an instance (" + origin.kind +
                                 ") is discarded: " + message);
          answer.action = OrthancPluginReceivedInstanceAction_Discard;
          return answer;
        }

        if (!decision.allowed)
        {
          if (Discards(decision) && cstore)
          {
            return RefuseCStore(dicom, size, Describe(decision, origin));
          }
          else if (Discards(decision))
          {
            OrthancApi::LogWarning("De-identification at ingestion: an instance is discarded (" +
                                   Describe(decision, origin) + ")");
            answer.action = OrthancPluginReceivedInstanceAction_Discard;
          }
          else
          {
            OrthancApi::LogWarning("De-identification at ingestion: an instance is stored as received, "
                                   "RefuseUnmatched is false (" + Describe(decision, origin) + ")");
          }
          return answer;
        }

        DeidentificationRequest request = RuleService::ToRequest(decision);
        OperationDescription operation = request.Describe("ingest", "Instance", "");
        operation.caller = "ingestion " + origin.kind + (origin.remoteAet.empty() ? "" : " " + Printable(origin.remoteAet));
        OperationReport report;
        report.operation = operation;
        report.instancesCount = 1;
        try
        {
          std::unique_ptr<OperationProviders> providers = ProviderFactory::Create(operation);
          DeidentifiedInstance output = InstanceDeidentifier::Apply(
            dicom, size, operation, providers->GetContext(), DeidentificationSettings(), "the received instance");
          answer.action = OrthancPluginReceivedInstanceAction_Modify;
          answer.modified.swap(output.dicom);
        }
        catch (...)
        {
          // Never store the original.
          std::string message;
          OrthancApi::DescribeCurrentException(message);
          report.failedInstancesCount = 1;
          DeidentificationEvents::ReportFinished(report);
          if (cstore)
          {
            return RefuseCStore(dicom, size, "cannot be de-identified (" + Describe(decision, origin) + "): " + message);
          }
          OrthancApi::LogWarning("De-identification at ingestion: an instance is discarded, it cannot be "
                                 "de-identified (" + Describe(decision, origin) + "): " + message);
          answer.action = OrthancPluginReceivedInstanceAction_Discard;
          answer.modified.clear();
          return answer;
        }
        report.stored = true;
        DeidentificationEvents::ReportFinished(report);
        return answer;
      }
    }


    void Ingestion::Initialize(const Json::Value& section)
    {
      enabled_ = false;
      refuseUnmatched_ = true;
      if (!section.isObject() || !section.isMember("Ingestion") || section["Ingestion"].isNull())
      {
        return;
      }
      const Json::Value& s = section["Ingestion"];
      if (!s.isObject())
      {
        throw ConfigurationError("Deidentification.Ingestion must be a JSON object");
      }
      for (const std::string& key : s.getMemberNames())
      {
        if (key != "Enable" && key != "RefuseUnmatched")
        {
          throw ConfigurationError("Deidentification.Ingestion." + key + ": unknown key (Enable, RefuseUnmatched)");
        }
        if (!s[key].isBool())
        {
          throw ConfigurationError("Deidentification.Ingestion." + key + " must be true or false");
        }
      }
      enabled_ = s.get("Enable", false).asBool();
      refuseUnmatched_ = s.get("RefuseUnmatched", true).asBool();
      if (enabled_)
      {
        OrthancApi::RegisterCStoreFilter(FilterCStore);
        OrthancApi::RegisterReceivedInstanceHandler(OnReceived);
        OrthancApi::LogWarning(std::string("De-identification at ingestion is enabled: received instances are "
                                           "de-identified by the rules for destination kind \"Ingest\"") +
                               (refuseUnmatched_ ? "; instances no rule covers are refused" :
                                "; instances no rule covers are stored AS RECEIVED (RefuseUnmatched is false)"));
      }
    }

    bool Ingestion::IsEnabled()
    {
      return enabled_;
    }
  }
}
