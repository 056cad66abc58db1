// The configured rules per destination (Rules/RuleEngine) in the plugin:
// decisions are checked against the configuration at start-up (JSON rules)
// or when made (Lua), and what a rule sees of an instance comes from Orthanc
// (/instances/{id}/tags?short and the origin metadata) or from DCMTK.
#include "Operations/RuleService.h"

#include "Configuration/Configuration.h"
#include "Engine/DeidError.h"
#include "Engine/DicomFile.h"
#include "Operations/EncryptionRecipients.h"
#include "Operations/KeyStoreService.h"
#include "Orthanc/OrthancApi.h"
#include "Rules/RuleEngine.h"
#include "Rules/RuleError.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcelem.h>

#include <cstdio>
#include <stdexcept>

namespace Deid
{
  static std::unique_ptr<RuleService> globalRules_;

  namespace
  {
    // Longer values are left out, as Orthanc leaves them out of /tags (256).
    const size_t MAXIMUM_VALUE_LENGTH = 256;

    // Throws if an allowing decision names something that is not configured:
    // the profile and options (through the request they make), the
    // recipients (Deidentification.Recipients or the key store), the project.
    void ValidateDecision(const Rules::RuleDecision& decision)
    {
      RuleService::ToRequest(decision);

      if (!decision.recipients.empty())
      {
        const Json::Value configured = EncryptionRecipients::List();
        for (const std::string& name : decision.recipients)
        {
          bool found = false;
          for (Json::ArrayIndex i = 0; i < configured.size(); i++)
          {
            found = found || (configured[i].asString() == name);
          }
          if (!found && KeyStoreService::IsInitialized())
          {
            found = KeyStoreService::Get().GetStore().GetCertificate(name).has_value();
          }
          if (!found)
          {
            throw std::runtime_error("unknown recipient \"" + Rules::EscapeText(name) +
                                     "\" (neither in Deidentification.Recipients nor in the key store)");
          }
        }
      }

      if (!decision.project.empty() && KeyStoreService::IsInitialized())
      {
        KeyStoreService::Get().GetProject(decision.project);   // throws DeidError(BadOption)
      }
    }

    std::string GetMetadata(const Json::Value& metadata, const char* name)
    {
      return (metadata.isObject() && metadata[name].isString()) ? metadata[name].asString() : std::string();
    }

    std::string FormatTag(const DcmTagKey& key)
    {
      char buffer[16];
      snprintf(buffer, sizeof(buffer), "%04x,%04x", key.getGroup(), key.getElement());
      return buffer;
    }

    bool IsBinary(DcmEVR vr)
    {
      switch (vr)
      {
        case EVR_SQ: case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV:
        case EVR_UN: case EVR_ox: case EVR_px: case EVR_pixelSQ: case EVR_na: case EVR_up:
          return true;
        default:
          return false;
      }
    }
  }


  void RuleService::Initialize(const Json::Value& deidentificationSection)
  {
    Rules::RuleEnvironment environment;
    environment.validate = ValidateDecision;
    environment.logError = [](const std::string& message) { OrthancApi::LogError(message); };

    std::unique_ptr<RuleService> service(new RuleService);
    try
    {
      const Json::Value rules = deidentificationSection.isObject() ? deidentificationSection["Rules"] : Json::Value();
      std::unique_ptr<Rules::RuleEngine> engine = Rules::RuleEngine::Parse(rules, environment);
      OrthancApi::LogWarning("De-identification rules per destination: " + engine->Describe());
      service->rules_ = std::move(engine);
      service->configuration_ = rules.isObject() ? rules : Json::Value(Json::objectValue);
      if (!service->configuration_.isMember("List"))
      {
        service->configuration_["List"] = Json::arrayValue;
      }
      if (!service->configuration_.isMember("Uncovered"))
      {
        service->configuration_["Uncovered"] = Rules::RuleEngine::REFUSE;
      }
    }
    catch (const Rules::RuleConfigurationError& e)
    {
      throw ConfigurationError(e.what());
    }
    globalRules_ = std::move(service);
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
    if (!OrthancApi::RestGet(tags, "/instances/" + instanceId + "/tags?short", true) || !tags.isObject())
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

    // Orthanc 1.10.1: /metadata?expand gives every metadata with its value.
    Json::Value metadata;
    OrthancApi::RestGet(metadata, "/instances/" + instanceId + "/metadata?expand", true);
    input.origin.kind = GetMetadata(metadata, "Origin");
    if (input.origin.kind.empty())
    {
      input.origin.kind = "Unknown";
    }
    input.origin.remoteAet = GetMetadata(metadata, "RemoteAET");
    input.origin.calledAet = GetMetadata(metadata, "CalledAET");
    input.origin.remoteIp = GetMetadata(metadata, "RemoteIP");
    return input;
  }


  Rules::RuleInput RuleService::DescribeFile(const void* dicom, size_t size, const Rules::Origin& origin,
                                             const Rules::Destination& destination)
  {
    Rules::RuleInput input;
    input.origin = origin;
    input.destination = destination;

    std::unique_ptr<DcmFileFormat> file = ParseDicom(dicom, size);   // DeidError(BadInput)
    // UTF-8, as Orthanc gives the tags of stored instances (and as the
    // configuration and Lua scripts are written); unchanged if not possible.
    file->convertToUTF8();
    DcmDataset& dataset = *file->getDataset();
    for (unsigned long i = 0; i < dataset.card(); i++)
    {
      DcmElement* element = dataset.getElement(i);
      if (element == nullptr || IsBinary(element->getTag().getEVR()) || element->getLength() > 4 * MAXIMUM_VALUE_LENGTH)
      {
        continue;
      }
      OFString value;
      if (element->getOFStringArray(value).good() && value.size() <= MAXIMUM_VALUE_LENGTH)
      {
        std::string v(value.c_str(), value.size());
        while (!v.empty() && (v.back() == ' ' || v.back() == '\0'))
        {
          v.pop_back();
        }
        input.tags[FormatTag(element->getTag())] = v;
      }
    }
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
