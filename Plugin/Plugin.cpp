// Entry points of the Orthanc plugin: reads the configuration and registers
// every route. One feature per file: ResourceRoutes (jobs on patients,
// studies, series), InstanceRoutes (single instances, uploads, preview),
// ProfileRoutes (configured profiles).
#include "Automation/AutomaticService.h"
#include "Automation/Ingestion.h"
#include "Rest/AuditRoutes.h"
#include "Rest/AutomaticRoutes.h"
#include "Configuration/CallerPolicy.h"
#include "Orthanc/CallerContext.h"
#include "Configuration/Configuration.h"
#include "Operations/EncryptionRecipients.h"
#include "Explorer/OrthancExplorerExtension.h"
#include "Rest/InstanceRoutes.h"
#include "Jobs/DeidentificationJob.h"
#include "Jobs/ReidentificationJob.h"
#include "Jobs/SendJob.h"
#include "Orthanc/OrthancJob.h"
#include "Operations/KeyStoreService.h"
#include "Operations/ServiceLog.h"
#include "Rest/MappingRoutes.h"
#include "Orthanc/OrthancApi.h"
#include "Rest/ProfileRoutes.h"
#include "Rest/ReidentifyRoutes.h"
#include "Rest/ResourceRoutes.h"
#include "Rest/SendRoutes.h"
#include "Rest/RuleRoutes.h"
#include "Operations/RuleService.h"

#include "Engine/DeidError.h"
#include "Engine/NestingDepth.h"
#include "Engine/ProfileTables.h"

#ifndef DEID_PLUGIN_VERSION
#define DEID_PLUGIN_VERSION "unknown"
#endif

static const char* const PLUGIN_NAME = "deidentification";

extern "C"
{
  ORTHANC_PLUGINS_API int32_t OrthancPluginInitialize(OrthancPluginContext* context)
  {
    using namespace Deid;
    OrthancApi::SetContext(context);
    ServiceLog::SetErrorSink([](const std::string& message) { OrthancApi::LogError(message); });

    if (OrthancPluginCheckVersion(context) == 0)
    {
      OrthancApi::LogError("De-identification plugin: this Orthanc (" + std::string(context->orthancVersion) +
                           ") is older than the SDK the plugin was built with (" +
                           std::to_string(ORTHANC_PLUGINS_MINIMAL_MAJOR_NUMBER) + "." +
                           std::to_string(ORTHANC_PLUGINS_MINIMAL_MINOR_NUMBER) + "." +
                           std::to_string(ORTHANC_PLUGINS_MINIMAL_REVISION_NUMBER) + ")");
      return -1;
    }

    OrthancApi::RegisterErrorCodes();
    OrthancPluginSetDescription(context, "DICOM de-identification (PS3.15 Annex E Basic Profile and Options)");

    try
    {
      std::unique_ptr<Configuration> configuration =
        Configuration::Parse(OrthancApi::GetConfiguration(), ProfileTables::LoadEmbedded());
      bool enabled = configuration->IsEnabled();
      std::string summary = "De-identification plugin " DEID_PLUGIN_VERSION ": PS3.15 " +
        configuration->GetTables()->GetEdition() + ", " +
        std::to_string(configuration->GetProfiles().size()) + " profiles, default \"" +
        configuration->GetDefaultProfileName() + "\", source metadata \"" +
        configuration->GetSourceMetadata() + "\"";
      SetMaximumNestingDepth(configuration->GetMaximumNestingDepth());   // every parse of the engine
      Configuration::SetGlobal(std::move(configuration));

      if (!enabled)
      {
        OrthancApi::LogWarning("De-identification plugin is disabled (Deidentification.Enable = false)");
        return 0;
      }

      RegisterResourceRoutes();
      RegisterInstanceRoutes();
      RegisterProfileRoutes();

      // The key store: stable pseudonyms/UIDs/date offsets, audit trail, mappings.
      const Json::Value orthancConfiguration = OrthancApi::GetConfiguration();
      KeyStoreService::Initialize(orthancConfiguration, Configuration::Get().GetSection());
      CallerContext::Register(orthancConfiguration["AuthenticationEnabled"].isBool() &&
                              orthancConfiguration["AuthenticationEnabled"].asBool());
      RegisterAuditRoutes();
      RegisterMappingRoutes();

      // PS3.15 E.1.1 recipients of the Encrypted Attributes Sequence, E.1.2 re-identification.
      EncryptionRecipients::Initialize(Configuration::Get().GetSection());

      // What callers may ask for beyond the configuration (403 otherwise).
      CallerPolicy::Initialize(Configuration::Get().GetSection(), KeyStoreService::Get().GetProjectNames());
      RegisterReidentifyRoutes(Configuration::Get().GetSection());

      // Jobs saved by Orthanc ("SaveJobs") resume after a restart.
      DeidentificationOperation::RegisterUnserializer();
      ReidentificationOperation::RegisterUnserializer();
      SendOperation::RegisterUnserializer();
      RegisterOrthancJobsUnserializer();

      // Rules per destination (JSON, Lua): sending, automatic rules, ingestion.
      RuleService::Initialize(Configuration::Get().GetSection());
      RegisterRuleRoutes();
      RegisterSendRoutes();

      // Automatic rules (a worker following Orthanc's changes) and
      // de-identification at ingestion (Orthanc's received-instance callback).
      Automation::Ingestion::Initialize(Configuration::Get().GetSection());
      Automation::AutomaticService::Initialize(Configuration::Get().GetSection(), orthancConfiguration);
      RegisterAutomaticRoutes();

      // Orthanc Explorer buttons, and GET /deidentification/capabilities.
      RegisterOrthancExplorer(Configuration::Get().GetSection());
      summary += ", " + KeyStoreService::Get().GetDescription();

      OrthancApi::LogWarning(summary);
      return 0;
    }
    catch (const ConfigurationError& e)
    {
      OrthancApi::LogError(std::string("De-identification plugin: bad configuration: ") + e.what());
      return -1;
    }
    catch (const DeidError& e)
    {
      OrthancApi::LogError(std::string("De-identification plugin cannot start: ") + e.what());
      return -1;
    }
    catch (const std::exception& e)
    {
      OrthancApi::LogError(std::string("De-identification plugin cannot start: ") + e.what());
      return -1;
    }
  }

  ORTHANC_PLUGINS_API void OrthancPluginFinalize()
  {
    Deid::Automation::AutomaticService::Finalize();   // first: its worker uses everything below
    Deid::RuleService::Finalize();
    Deid::CallerPolicy::Finalize();
    Deid::EncryptionRecipients::Finalize();
    Deid::KeyStoreService::Finalize();
    Deid::Configuration::SetGlobal(nullptr);
  }

  ORTHANC_PLUGINS_API const char* OrthancPluginGetName()
  {
    return PLUGIN_NAME;
  }

  ORTHANC_PLUGINS_API const char* OrthancPluginGetVersion()
  {
    return DEID_PLUGIN_VERSION;
  }
}
