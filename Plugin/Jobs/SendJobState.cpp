// Saving and restoring a send job across a restart of Orthanc (the format
// is described in SendJob.h).
#include "Jobs/SendJob.h"

#include "Jobs/SavedJobState.h"
#include "Orthanc/OrthancApi.h"

#include <map>

namespace Deid
{
  using namespace OrthancApi;

  namespace
  {
    const int STATE_VERSION = 1;

    std::vector<std::string> GetStrings(const Json::Value& decision, const char* key)
    {
      std::vector<std::string> result;
      for (const Json::Value& v : SavedJobState::GetArray(decision, key))
      {
        if (!v.isString())
        {
          throw HttpError(OrthancPluginErrorCode_BadFileFormat,
                          "the field \"" + std::string(key) + "\" of the saved state is invalid");
        }
        result.push_back(v.asString());
      }
      return result;
    }

    // The inverse of Rules::RuleDecision::ToJson().
    Rules::RuleDecision DecisionFromJson(const Json::Value& value)
    {
      using namespace SavedJobState;
      if (!value.isObject())
      {
        throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Decisions\" of the saved state is invalid");
      }
      Rules::RuleDecision decision;
      decision.allowed = GetBool(value, "Allowed");
      decision.rule = GetString(value, "Rule");
      decision.reason = GetString(value, "Reason");
      decision.profile = GetString(value, "Profile");
      decision.options = GetStrings(value, "Options");
      decision.recipients = GetStrings(value, "Recipients");
      decision.project = GetString(value, "Project");
      return decision;
    }
  }


  Json::Value SendOperation::Serialize() const
  {
    std::lock_guard<std::mutex> lock(mutex_);

    Json::Value state(Json::objectValue);
    state["Version"] = STATE_VERSION;
    state["Level"] = level_;
    state["Source"] = sourceId_;
    state["Destination"] = Json::objectValue;
    state["Destination"]["Kind"] = destination_.kind;
    state["Destination"]["Name"] = destination_.name;
    state["Store"] = store_;
    state["Caller"] = caller_;
    SaveInstancesLocked(state);   // Instances, States (P, D, F, R), Copies, Errors
    state["Finished"] = finished_;

    // The distinct decisions, and the index of each instance's ("" if none).
    std::map<std::string, size_t> indexes;
    std::vector<std::string> ofInstance;
    Json::Value decisions(Json::arrayValue);
    for (size_t k = 0; k < instances_.size(); k++)
    {
      if (instances_[k].state == State::Pending)
      {
        ofInstance.push_back("");
        continue;
      }
      const Json::Value json = decisions_[k].ToJson();
      const std::string key = WriteJson(json, false);
      auto found = indexes.find(key);
      if (found == indexes.end())
      {
        found = indexes.emplace(key, decisions.size()).first;
        decisions.append(json);
      }
      ofInstance.push_back(std::to_string(found->second));
    }
    state["Decisions"] = decisions;
    state["DecisionOfInstance"] = SavedJobState::JoinIds(ofInstance);
    return state;
  }


  std::shared_ptr<IJobOperation> SendOperation::Unserialize(const Json::Value& state)
  {
    using namespace SavedJobState;
    CheckVersion(state, STATE_VERSION, JOB_TYPE);

    std::shared_ptr<SendOperation> operation(new SendOperation);
    SendOperation& o = *operation;

    o.level_ = RestoreLevel(state, true /* a send may be of one instance */);
    o.sourceId_ = GetOrthancId(state, "Source");
    const Json::Value& destination = GetObject(state, "Destination");
    o.destination_.kind = GetString(destination, "Kind");
    o.destination_.name = GetString(destination, "Name");
    if (!Rules::Destination::IsKnownKind(o.destination_.kind))
    {
      throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Destination\" of the saved state is invalid");
    }
    o.store_ = GetBool(state, "Store");
    o.caller_ = GetString(state, "Caller", "{}");
    o.RestoreInstances(state, "PDFR");
    o.finished_ = GetBool(state, "Finished");

    const Json::Value& decisions = GetArray(state, "Decisions");
    const std::vector<std::string> ofInstance = GetIdList(state, "DecisionOfInstance", true, o.instances_.size());
    o.decisions_.resize(o.instances_.size());
    for (size_t k = 0; k < ofInstance.size(); k++)
    {
      if (ofInstance[k].empty())
      {
        continue;
      }
      const std::string& index = ofInstance[k];
      if (index.size() > 9 || index.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(index) >= decisions.size())
      {
        throw HttpError(OrthancPluginErrorCode_BadFileFormat,
                        "the field \"DecisionOfInstance\" of the saved state is invalid");
      }
      o.decisions_[k] = DecisionFromJson(decisions[static_cast<Json::ArrayIndex>(std::stoul(index))]);
    }
    return operation;
  }


  void SendOperation::RegisterUnserializer()
  {
    RegisterJobUnserializer(JOB_TYPE, [](const Json::Value& state) { return Unserialize(state); });
  }
}
