#include "Rest/SendRoutes.h"

#include "Jobs/SendJob.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/ResourceLevel.h"
#include "Sending/DestinationSender.h"

#include <chrono>
#include <thread>

namespace Deid
{
  using namespace OrthancApi;

  static const char* const DESTINATION_KEYS[] = { "Modality", "Peer", "DicomWeb" };
  static const char* const OTHER_KEYS[] = { "Store", "Synchronous", "Priority" };

  static std::string Quote(const std::string& text)
  {
    return WriteJson(Json::Value(text), false);   // escaped: caller text
  }

  static bool GetBoolean(const Json::Value& body, const char* key)
  {
    if (!body.isMember(key))
    {
      return false;
    }
    if (!body[key].isBool())
    {
      throw HttpError::BadRequest(std::string("\"") + key + "\" must be true or false");
    }
    return body[key].asBool();
  }

  static Rules::Destination ParseDestination(const Json::Value& body)
  {
    for (const std::string& key : body.getMemberNames())
    {
      bool known = false;
      for (const char* k : DESTINATION_KEYS)
      {
        known = known || key == k;
      }
      for (const char* k : OTHER_KEYS)
      {
        known = known || key == k;
      }
      if (!known)
      {
        throw HttpError::BadRequest("Unknown key " + Quote(key) + " in the body of /deidentify/send "
                                    "(expected one of \"Modality\", \"Peer\", \"DicomWeb\", plus "
                                    "\"Store\", \"Synchronous\", \"Priority\")");
      }
    }

    Rules::Destination destination;
    for (const char* key : DESTINATION_KEYS)
    {
      if (!body.isMember(key))
      {
        continue;
      }
      if (!destination.kind.empty())
      {
        throw HttpError::BadRequest("Give exactly one destination: \"Modality\", \"Peer\" or \"DicomWeb\"");
      }
      if (!body[key].isString() || body[key].asString().empty())
      {
        throw HttpError::BadRequest(std::string("\"") + key + "\" must be the name of a configured destination");
      }
      destination.kind = key;
      destination.name = body[key].asString();
    }
    if (destination.kind.empty())
    {
      throw HttpError::BadRequest("No destination: give \"Modality\", \"Peer\" or \"DicomWeb\" with its name");
    }
    return destination;
  }

  // The operation has finished when a synchronous submission returns, but
  // Orthanc records the job's final state just after: wait for it (briefly),
  // so that the answer and GET /jobs/{id} agree.
  static void WaitForFinalState(const std::string& jobId)
  {
    for (int i = 0; i < 200; i++)
    {
      Json::Value job;
      if (!RestGet(job, "/jobs/" + jobId, true) ||
          job["State"].asString() == "Success" || job["State"].asString() == "Failure")
      {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  static void SendResource(RestAnswer& answer, const RestRequest& request)
  {
    const ResourceLevel& level = ResourceLevel::FromName(request.groups.at(0));
    const std::string& id = request.groups.at(1);

    const Json::Value body = request.GetJsonBody();
    const Rules::Destination destination = ParseDestination(body);
    const bool store = GetBoolean(body, "Store");
    const bool synchronous = GetBoolean(body, "Synchronous");
    int priority = 0;
    if (body.isMember("Priority"))
    {
      if (!body["Priority"].isInt())
      {
        throw HttpError::BadRequest("\"Priority\" must be an integer");
      }
      priority = body["Priority"].asInt();
    }

    // Refused up front: nothing is de-identified for a destination that
    // does not exist.
    Sending::CheckDestination(destination);

    std::shared_ptr<SendOperation> operation =
      std::make_shared<SendOperation>(destination, store, level.singular, id);
    const std::string jobId = SendOperation::Submit(operation, priority, synchronous);
    if (synchronous)
    {
      WaitForFinalState(jobId);
    }

    Json::Value result = synchronous ? operation->GetContent() : Json::Value(Json::objectValue);
    result["ID"] = jobId;
    result["Path"] = "/jobs/" + jobId;
    answer.AnswerJson(result);
  }

  void RegisterSendRoutes()
  {
    RegisterRoute("/(patients|studies|series|instances)/([^/]+)/deidentify/send",
                  OrthancPluginHttpMethod_Post, SendResource);
  }
}
