#include "Rest/ResourceRoutes.h"

#include "Jobs/DeidentificationJob.h"
#include "Configuration/DeidentificationRequest.h"
#include "Orthanc/KnownKeys.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/ResourceLevel.h"

namespace Deid
{
  using namespace OrthancApi;

  static void DeidentifyResource(RestAnswer& answer, const RestRequest& request)
  {
    const ResourceLevel& level = ResourceLevel::FromName(request.groups.at(0));
    const std::string& id = request.groups.at(1);

    const Json::Value body = request.GetJsonBody();
    KnownKeys::Check(body, KnownKeys::Join(DeidentificationRequest::GetRequestKeys(),
                                           { "KeepSource", "Priority", "Synchronous" }));
    DeidentificationRequest r = DeidentificationRequest::FromJson(body);
    std::shared_ptr<DeidentificationOperation> operation =
      std::make_shared<DeidentificationOperation>(r, level.singular, id);

    // Like Orthanc's /anonymize: always a job; "Synchronous" waits for it.
    std::string jobId = DeidentificationOperation::Submit(operation, r.priority, r.synchronous);
    if (r.synchronous)
    {
      answer.AnswerJson(operation->GetSynchronousAnswer());
    }
    else
    {
      Json::Value result(Json::objectValue);
      result["ID"] = jobId;
      result["Path"] = "/jobs/" + jobId;
      answer.AnswerJson(result);
    }
  }

  void RegisterResourceRoutes()
  {
    RegisterRoute("/(patients|studies|series)/([^/]+)/deidentify",
                  OrthancPluginHttpMethod_Post, DeidentifyResource);
  }
}
