// The automatic work of the plugin: what is pending and what failed (with
// Orthanc IDs and reasons, never patient data), and a retry of the failures.
#include "Rest/AutomaticRoutes.h"

#include "Automation/AutomaticService.h"
#include "Orthanc/OrthancApi.h"

#include <string>

namespace Deid
{
  using namespace OrthancApi;

  static Automation::AutomaticService& Service()
  {
    Automation::AutomaticService* service = Automation::AutomaticService::Get();
    if (service == nullptr)
    {
      throw HttpError(OrthancPluginErrorCode_InternalError, "The automatic rules are not initialized");
    }
    return *service;
  }

  static void GetAutomatic(RestAnswer& answer, const RestRequest& request)
  {
    size_t limit = 100;
    if (const std::string* l = request.GetArgument("limit"))
    {
      try
      {
        limit = static_cast<size_t>(std::stoul(*l));
      }
      catch (const std::exception&)
      {
        throw HttpError::BadRequest("\"limit\" must be a number");
      }
    }
    answer.AnswerJson(Service().Describe(limit));
  }

  static void RetryAutomatic(RestAnswer& answer, const RestRequest&)
  {
    Json::Value result(Json::objectValue);
    result["Retried"] = static_cast<Json::UInt64>(Service().RetryFailed());
    answer.AnswerJson(result);
  }

  void RegisterAutomaticRoutes()
  {
    RegisterRoute("/deidentification/automatic", OrthancPluginHttpMethod_Get, GetAutomatic);
    RegisterRoute("/deidentification/automatic/retry", OrthancPluginHttpMethod_Post, RetryAutomatic);
  }
}
