#include "Jobs/InstanceBatchJob.h"

#include "Configuration/Configuration.h"
#include "Jobs/SavedJobState.h"
#include "Orthanc/OrthancApi.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace Deid
{
  using namespace OrthancApi;

  void InstanceBatchJob::SetJobId(const std::string& jobId)
  {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobId_ = jobId;
      waitForJobId_ = false;
    }
    jobIdSet_.notify_all();
  }


  size_t InstanceBatchJob::GetBatchSize() const
  {
    // Deidentification.ThreadsPerJob; the providers and senders are thread-safe.
    return std::max<size_t>(1, Configuration::Get().GetThreadsPerJob());
  }


  bool InstanceBatchJob::Step()
  {
    // Orthanc calls Step() from one thread; a step processes a batch of
    // instances in parallel.
    std::vector<size_t> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);

      // The job may start before OrthancPluginSubmitJob() has returned its ID.
      jobIdSet_.wait_for(lock, std::chrono::seconds(10), [this] { return !waitForJobId_; });

      if (!CanRun())
      {
        return false;
      }

      const size_t size = GetBatchSize();
      while (next_ < instances_.size() && batch.size() < size)
      {
        if (instances_[next_].state == State::Pending)
        {
          batch.push_back(next_);
        }
        next_++;
      }
    }

    if (batch.empty())
    {
      return false;
    }
    std::vector<std::thread> workers;
    for (size_t i = 1; i < batch.size(); i++)
    {
      workers.emplace_back([this, &batch, i] { ProcessInstance(batch[i]); });
    }
    ProcessInstance(batch[0]);
    for (std::thread& worker : workers)
    {
      worker.join();
    }
    return true;
  }


  void InstanceBatchJob::Reset()
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Instance& i : instances_)
    {
      if (i.state == State::Failed)
      {
        i.state = State::Pending;
        i.error.clear();
      }
    }
    next_ = 0;
    finished_ = false;
    OnReset();
  }


  float InstanceBatchJob::GetProgress() const
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (instances_.empty())
    {
      return 1.0f;
    }
    const size_t processed = instances_.size() - CountLocked(State::Pending);
    return static_cast<float>(processed) / static_cast<float>(instances_.size());
  }


  std::string InstanceBatchJob::Submit(std::shared_ptr<InstanceBatchJob> job, const char* jobType,
                                       int priority, bool waitForCompletion)
  {
    {
      std::lock_guard<std::mutex> lock(job->mutex_);
      job->waitForJobId_ = true;
    }
    return SubmitOrthancJob(job, jobType, priority, waitForCompletion);
  }


  std::vector<std::string> InstanceBatchJob::ListInstances(const ResourceLevel& level, const std::string& id)
  {
    Json::Value resource;
    if (!RestGet(resource, level.GetUri(id), true /* tolerate */))
    {
      throw HttpError::NotFound("Unknown " + std::string(level.singular) + ": " + id);
    }
    if (std::string(level.singular) == "Instance")
    {
      return { id };
    }

    Json::Value instances;
    RestGet(instances, level.GetUri(id) + "/instances");
    if (!instances.isArray())
    {
      throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot list the instances of " + id);
    }
    std::vector<std::string> ids;
    for (const Json::Value& i : instances)
    {
      if (i.isString())
      {
        ids.push_back(i.asString());
      }
      else if (i.isObject() && i["ID"].isString())
      {
        ids.push_back(i["ID"].asString());
      }
      else
      {
        throw HttpError(OrthancPluginErrorCode_InternalError, "Cannot list the instances of " + id);
      }
    }
    return ids;
  }


  void InstanceBatchJob::AddInstances(const std::vector<std::string>& sourceIds)
  {
    for (const std::string& id : sourceIds)
    {
      Instance instance;
      instance.sourceId = id;
      instances_.push_back(instance);
    }
  }


  bool InstanceBatchJob::MarkFinished()
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_)
    {
      return false;
    }
    finished_ = true;
    return true;
  }


  size_t InstanceBatchJob::CountLocked(State state) const
  {
    return static_cast<size_t>(std::count_if(instances_.begin(), instances_.end(),
                                             [state](const Instance& i) { return i.state == state; }));
  }


  Json::Value InstanceBatchJob::GetFailedInstancesLocked() const
  {
    Json::Value failed(Json::arrayValue);
    for (const Instance& i : instances_)
    {
      if (i.state == State::Failed)
      {
        Json::Value f(Json::objectValue);
        f["Instance"] = i.sourceId;
        f["Error"] = i.error;
        failed.append(f);
      }
    }
    return failed;
  }


  Json::Value InstanceBatchJob::DescribeResources(const std::set<std::string>& ids, const ResourceLevel& level)
  {
    Json::Value resources(Json::arrayValue);
    for (const std::string& id : ids)
    {
      Json::Value r(Json::objectValue);
      r["ID"] = id;
      r["Path"] = level.GetUri(id);
      r["Type"] = level.singular;
      resources.append(r);
    }
    return resources;
  }


  void InstanceBatchJob::SaveInstancesLocked(Json::Value& state) const
  {
    // One string per list (SavedJobState.h): the sources, one state letter
    // per instance (P pending, D done, A done and already stored, F failed,
    // R refused), the copies ("" if none), and the errors by source.
    std::vector<std::string> sources, copies;
    std::string states;
    Json::Value errors(Json::objectValue);
    sources.reserve(instances_.size());
    copies.reserve(instances_.size());
    for (const Instance& i : instances_)
    {
      sources.push_back(i.sourceId);
      copies.push_back(i.newId);   // only a done instance has one, except for a send with "Store"
      switch (i.state)
      {
        case State::Pending:
          states.push_back('P');
          break;
        case State::Done:
          states.push_back(i.alreadyStored ? 'A' : 'D');
          break;
        default:
          states.push_back(i.state == State::Refused ? 'R' : 'F');
          errors[i.sourceId] = i.error;
          break;
      }
    }
    state["Instances"] = SavedJobState::JoinIds(sources);
    state["States"] = states;
    state["Copies"] = SavedJobState::JoinIds(copies);
    state["Errors"] = errors;
  }


  void InstanceBatchJob::RestoreInstances(const Json::Value& state, const std::string& letters)
  {
    using namespace SavedJobState;
    const std::vector<std::string> sources = GetIdList(state, "Instances", false);
    const std::string states = GetString(state, "States");
    const std::vector<std::string> copies = GetIdList(state, "Copies", true, sources.size());
    const Json::Value& errors = state.isMember("Errors") ? GetObject(state, "Errors") : Json::Value::nullSingleton();
    if (states.size() != sources.size())
    {
      throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"States\" of the saved state is invalid");
    }
    for (size_t k = 0; k < sources.size(); k++)
    {
      Instance instance;
      instance.sourceId = sources[k];
      const char letter = states[k];
      if (letters.find(letter) == std::string::npos)
      {
        throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"States\" of the saved state is invalid");
      }
      else if (letter == 'P')
      {
        instance.state = State::Pending;
      }
      else if (letter == 'D' || letter == 'A')
      {
        if (copies[k].empty())
        {
          throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Copies\" of the saved state is invalid");
        }
        instance.state = State::Done;
        instance.newId = copies[k];
        instance.alreadyStored = (letter == 'A');
      }
      else
      {
        instance.state = (letter == 'R' ? State::Refused : State::Failed);
        instance.error = GetString(errors, sources[k].c_str(), "Failed before the restart of Orthanc");
        instance.newId = copies[k];   // a send with "Store" may have kept a copy
      }
      instances_.push_back(instance);
    }
  }


  std::string InstanceBatchJob::RestoreLevel(const Json::Value& state, bool allowInstance)
  {
    const std::string level = SavedJobState::GetString(state, "Level");
    if (level != "Patient" && level != "Study" && level != "Series" && !(allowInstance && level == "Instance"))
    {
      throw HttpError(OrthancPluginErrorCode_BadFileFormat, "the field \"Level\" of the saved state is invalid");
    }
    return level;
  }
}
