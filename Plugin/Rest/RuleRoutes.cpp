// GET /deidentification/rules: the configured rules ("Deidentification.Rules").
// POST /deidentification/rules/test
//
//   JSON body: { "Resource": "<Orthanc ID of a patient, study, series or instance>",
//                "Destination": { "Modality": "X" } | { "Peer": "X" } | { "DicomWeb": "X" }
//                               | { "Store": true } | { "Ingest": true },
//                "Origin": { "Kind": "DicomProtocol", "RemoteAet": "CT1", ... } }   // optional: replaces
//                                                                                   // the instances' origin
//   or a DICOM file (Content-Type: application/dicom) with the headers
//   X-Deidentification-Destination-Kind / -Name and optionally
//   X-Deidentification-Origin-Kind (default RestApi) / -Origin-Remote-Aet /
//   -Origin-Called-Aet / -Origin-Remote-Ip.
//
// Answer: the distinct decisions over the instances, each with its instance
// count and one example instance, and "Allowed" (true only if all are).
#include "Rest/RuleRoutes.h"

#include "Operations/ConfiguredDestinations.h"
#include "Operations/RuleService.h"
#include "Orthanc/OrthancApi.h"
#include "Rules/RuleCriteria.h"
#include "Rules/RuleError.h"

#include <cstring>
#include <map>
#include <vector>

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
    struct Group
    {
      Rules::RuleDecision decision;
      size_t count = 0;
      std::string example;
    };

    // Distinct decisions in order of first appearance.
    class DecisionGroups
    {
    public:
      void Add(const Rules::RuleDecision& decision, const std::string& instanceId)
      {
        const std::string key = WriteJson(decision.ToJson(), false);
        auto found = index_.find(key);
        if (found == index_.end())
        {
          index_[key] = groups_.size();
          Group g;
          g.decision = decision;
          g.example = instanceId;
          groups_.push_back(g);
          found = index_.find(key);
        }
        groups_[found->second].count++;
        total_++;
      }

      Json::Value ToJson(const Rules::Destination& destination) const
      {
        Json::Value answer(Json::objectValue);
        answer["Destination"] = Json::objectValue;
        answer["Destination"]["Kind"] = destination.kind;
        answer["Destination"]["Name"] = destination.name;
        answer["InstancesCount"] = static_cast<Json::UInt64>(total_);
        bool allowed = (total_ > 0);
        Json::Value decisions(Json::arrayValue);
        for (const Group& g : groups_)
        {
          Json::Value d = g.decision.ToJson();
          d["InstancesCount"] = static_cast<Json::UInt64>(g.count);
          if (!g.example.empty())
          {
            d["ExampleInstance"] = g.example;
          }
          if (g.decision.allowed)
          {
            // What the decision resolves to: the profile and all its options.
            DeidentificationRequest request = RuleService::ToRequest(g.decision);
            d["Effective"] = Json::objectValue;
            d["Effective"]["Profile"] = request.profileName;
            d["Effective"]["Options"] = request.GetOptionNames();
          }
          allowed = allowed && g.decision.allowed;
          decisions.append(d);
        }
        answer["Allowed"] = allowed;
        answer["Decisions"] = decisions;
        return answer;
      }

    private:
      std::vector<Group> groups_;
      std::map<std::string, size_t> index_;
      size_t total_ = 0;
    };

    bool IsOrthancId(const std::string& id)
    {
      return !id.empty() && id.size() <= 64 && id.find_first_not_of("0123456789abcdef-") == std::string::npos;
    }

    Rules::Origin ParseOrigin(const Json::Value& value)
    {
      if (!value.isObject())
      {
        throw HttpError::BadRequest("\"Origin\" must be a JSON object with Kind, RemoteAet, CalledAet, RemoteIp");
      }
      Rules::Origin origin;
      origin.kind = "Unknown";
      for (const std::string& key : value.getMemberNames())
      {
        if (!value[key].isString())
        {
          throw HttpError::BadRequest("\"Origin\": \"" + Rules::EscapeText(key, 64) + "\" must be a string");
        }
        const std::string v = value[key].asString();
        if (key == "Kind")
        {
          origin.kind = v;
        }
        else if (key == "RemoteAet")
        {
          origin.remoteAet = v;
        }
        else if (key == "CalledAet")
        {
          origin.calledAet = v;
        }
        else if (key == "RemoteIp")
        {
          origin.remoteIp = v;
        }
        else
        {
          throw HttpError::BadRequest("\"Origin\": unknown key \"" + Rules::EscapeText(key, 64) +
                                      "\" (Kind, RemoteAet, CalledAet, RemoteIp)");
        }
      }
      if (!Rules::IsKnownOriginKind(origin.kind))
      {
        throw HttpError::BadRequest("\"Origin\": unknown kind \"" + Rules::EscapeText(origin.kind, 64) +
                                    "\" (DicomProtocol, RestApi, Plugins, Lua, WebDav, Unknown)");
      }
      return origin;
    }

    // The level of an Orthanc ID and the IDs of its instances.
    std::string ListInstances(const std::string& id, std::vector<std::string>& instances)
    {
      static const char* const LEVELS[][2] = {
        { "instances", "Instance" }, { "series", "Series" }, { "studies", "Study" }, { "patients", "Patient" } };
      Json::Value info;
      for (const auto& level : LEVELS)
      {
        if (RestGet(info, "/" + std::string(level[0]) + "/" + id, true))
        {
          if (std::string(level[0]) == "instances")
          {
            instances.push_back(id);
          }
          else
          {
            Json::Value children;
            RestGet(children, "/" + std::string(level[0]) + "/" + id + "/instances");
            for (Json::ArrayIndex i = 0; i < children.size(); i++)
            {
              if (children[i].isObject() && children[i]["ID"].isString())
              {
                instances.push_back(children[i]["ID"].asString());
              }
            }
          }
          return level[1];
        }
      }
      throw HttpError::NotFound("Unknown resource: " + id);
    }

    void TestResource(RestAnswer& answer, const RestRequest& request)
    {
      const Json::Value body = request.GetJsonBody();
      for (const std::string& key : body.getMemberNames())
      {
        if (key != "Resource" && key != "Destination" && key != "Origin")
        {
          throw HttpError::BadRequest("Unknown key \"" + Rules::EscapeText(key, 64) +
                                      "\" (Resource, Destination, Origin)");
        }
      }
      if (!body["Resource"].isString() || !IsOrthancId(body["Resource"].asString()))
      {
        throw HttpError::BadRequest("\"Resource\" must be the Orthanc ID of a patient, study, series or instance");
      }
      if (!body.isMember("Destination"))
      {
        throw HttpError::BadRequest("\"Destination\" is missing");
      }
      const std::string id = body["Resource"].asString();
      const Rules::Destination destination = ConfiguredDestinations::Parse(body["Destination"]);
      ConfiguredDestinations::CheckConfigured(destination);
      const bool replaceOrigin = body.isMember("Origin");
      const Rules::Origin origin = replaceOrigin ? ParseOrigin(body["Origin"]) : Rules::Origin();

      std::vector<std::string> instances;
      const std::string level = ListInstances(id, instances);

      const RuleService& rules = RuleService::Get();
      DecisionGroups groups;
      for (const std::string& instance : instances)
      {
        Rules::RuleInput input = RuleService::DescribeInstance(instance, destination);
        if (replaceOrigin)
        {
          input.origin = origin;
        }
        groups.Add(rules.Decide(input), instance);
      }

      Json::Value result = groups.ToJson(destination);
      result["Resource"] = Json::objectValue;
      result["Resource"]["ID"] = id;
      result["Resource"]["Type"] = level;
      answer.AnswerJson(result);
    }

    void TestUpload(RestAnswer& answer, const RestRequest& request)
    {
      const std::string* kind = request.GetHeader("x-deidentification-destination-kind");
      const std::string* name = request.GetHeader("x-deidentification-destination-name");
      if (kind == nullptr)
      {
        throw HttpError::BadRequest("The header X-Deidentification-Destination-Kind is missing "
                                    "(Modality, Peer, DicomWeb, Store or Ingest)");
      }
      const Rules::Destination destination = ConfiguredDestinations::Make(*kind, name ? *name : std::string());
      ConfiguredDestinations::CheckConfigured(destination);

      Json::Value originValue(Json::objectValue);
      static const char* const HEADERS[][2] = {
        { "x-deidentification-origin-kind", "Kind" }, { "x-deidentification-origin-remote-aet", "RemoteAet" },
        { "x-deidentification-origin-called-aet", "CalledAet" },
        { "x-deidentification-origin-remote-ip", "RemoteIp" } };
      originValue["Kind"] = "RestApi";
      for (const auto& header : HEADERS)
      {
        const std::string* value = request.GetHeader(header[0]);
        if (value != nullptr)
        {
          originValue[header[1]] = *value;
        }
      }
      const Rules::Origin origin = ParseOrigin(originValue);

      const Rules::RuleInput input = RuleService::DescribeFile(request.body, request.bodySize, origin, destination);
      DecisionGroups groups;
      groups.Add(RuleService::Get().Decide(input), std::string());
      answer.AnswerJson(groups.ToJson(destination));
    }

    void TestRules(RestAnswer& answer, const RestRequest& request)
    {
      const std::string* type = request.GetHeader("content-type");
      const bool dicomType = (type != nullptr && type->compare(0, 17, "application/dicom") == 0);
      const bool part10 = (request.bodySize >= 132 &&
                           memcmp(static_cast<const char*>(request.body) + 128, "DICM", 4) == 0);
      if (dicomType || part10)
      {
        TestUpload(answer, request);
      }
      else
      {
        TestResource(answer, request);
      }
    }
  }


  static void GetRules(RestAnswer& answer, const RestRequest& /* request */)
  {
    answer.AnswerJson(RuleService::Get().GetConfiguration());
  }

  void RegisterRuleRoutes()
  {
    RegisterRoute("/deidentification/rules", OrthancPluginHttpMethod_Get, GetRules);
    RegisterRoute("/deidentification/rules/test", OrthancPluginHttpMethod_Post, TestRules);
  }
}
