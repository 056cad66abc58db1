#include "Rest/MappingRoutes.h"

#include "Orthanc/CallerContext.h"
#include "Operations/KeyStoreService.h"
#include "Orthanc/OrthancApi.h"

#include "Engine/DeidError.h"

namespace Deid
{
  using namespace OrthancApi;

  static void SendForbidden(RestAnswer& answer, const std::string& message)
  {
    Json::Value body(Json::objectValue);
    body["HttpStatus"] = 403;
    body["Message"] = message;
    std::string s = WriteJson(body);
    OrthancPluginSendHttpStatus(GetContext(), answer.GetOutput(), 403, s.c_str(), static_cast<uint32_t>(s.size()));
  }

  static void Audit(const std::string& project, const std::string& direction, bool found)
  {
    AuditRecord r;
    r.operation = "mapping-lookup";
    r.route = "GET /deidentification/mappings";
    r.project = project;
    r.caller = CallerContext::GetCurrent();
    r.status = found ? "Found" : "NotFound";
    Json::Value details(Json::objectValue);
    details["Direction"] = direction;
    r.details = WriteJson(details, false);
    try
    {
      KeyStoreService::Get().GetStore().AppendAudit(r);
    }
    catch (const std::exception& e)
    {
      LogError(std::string("De-identification: cannot write the audit trail: ") + e.what());
    }
  }

  static void GetMapping(RestAnswer& answer, const RestRequest& request)
  {
    KeyStoreService& service = KeyStoreService::Get();
    if (!service.IsMappingLookupEnabled())
    {
      SendForbidden(answer, "The mapping lookup is disabled: set \"EnableMappingLookup\": true in the "
                    "\"Deidentification\" section of the Orthanc configuration to enable it");
      return;
    }

    const std::string* projectArgument = request.GetArgument("Project");
    const std::string project = projectArgument != nullptr ? *projectArgument : KeyStoreService::DEFAULT_PROJECT;
    service.GetProject(project);   // 400 if unknown

    const std::string* patientId = request.GetArgument("PatientID");
    const std::string* patientName = request.GetArgument("PatientName");
    const std::string* pseudonym = request.GetArgument("Pseudonym");
    const std::string* issuer = request.GetArgument("IssuerOfPatientID");

    if ((pseudonym != nullptr) == (patientId != nullptr || patientName != nullptr))
    {
      throw HttpError::BadRequest("Give either \"PatientID\" (with optional \"IssuerOfPatientID\") or "
                                  "\"Pseudonym\" as GET argument");
    }

    IKeyStore& store = service.GetStore();
    Json::Value result(Json::objectValue);
    result["Project"] = project;

    if (pseudonym != nullptr)
    {
      std::optional<MappingEntry> entry = store.FindOriginal(project, KeyedPseudonymProvider::KIND, *pseudonym);
      Audit(project, "reverse", entry.has_value());
      if (!entry)
      {
        throw HttpError::NotFound("No patient has this pseudonym in project \"" + project + "\"");
      }
      result["Pseudonym"] = entry->pseudonym;
      result["Created"] = entry->created;
      if (entry->original)
      {
        PatientKey key = ParseCanonicalPatient(*entry->original);
        if (!key.patientId.empty())
        {
          result["PatientID"] = key.patientId;
          result["IssuerOfPatientID"] = key.issuerOfPatientId;
        }
        else
        {
          result["PatientName"] = key.patientName;
        }
      }
      else
      {
        result["Message"] = "The key store keeps only a hash of the original (\"Originals\": \"HashOnly\")";
      }
    }
    else
    {
      PatientKey key;
      if (patientId != nullptr)
      {
        key.patientId = *patientId;
        key.issuerOfPatientId = (issuer != nullptr ? *issuer : std::string());
      }
      else
      {
        key.patientName = *patientName;
      }

      std::optional<std::string> found = store.FindPseudonym(project, KeyedPseudonymProvider::KIND,
                                                             CanonicalPatient(key));
      Audit(project, "forward", found.has_value());
      if (!found)
      {
        throw HttpError::NotFound("This patient has no pseudonym in project \"" + project + "\"");
      }
      if (patientId != nullptr)
      {
        result["PatientID"] = key.patientId;
        result["IssuerOfPatientID"] = key.issuerOfPatientId;
      }
      else
      {
        result["PatientName"] = key.patientName;
      }
      result["Pseudonym"] = *found;
    }

    answer.AnswerJson(result);
  }

  void RegisterMappingRoutes()
  {
    RegisterRoute("/deidentification/mappings", OrthancPluginHttpMethod_Get, GetMapping);
  }
}
