#include "Automation/AutomaticService.h"

#include "Automation/ActionRunner.h"
#include "Automation/ChangeFollower.h"
#include "KeyStore/KeyStoreCrypto.h"
#include "Operations/KeyStoreService.h"
#include "Orthanc/OrthancApi.h"
#include "Orthanc/OrthancCallbacks.h"

#include <chrono>

namespace Deid
{
  namespace Automation
  {
    static std::unique_ptr<AutomaticService> global_;

    void AutomaticService::Initialize(const Json::Value& section, const Json::Value& orthancConfiguration)
    {
      std::unique_ptr<AutomaticService> service(new AutomaticService);
      service->settings_ = AutomaticSettings::Parse(section, orthancConfiguration);
      service->node_ = (orthancConfiguration["Name"].isString() ? orthancConfiguration["Name"].asString() : "") +
        "/" + KeyStoreCrypto::ToHex(KeyStoreCrypto::RandomBytes(4));
      global_ = std::move(service);

      if (global_->settings_.enabled)
      {
        OrthancApi::RegisterChangeHandler([](OrthancPluginChangeType change, OrthancPluginResourceType,
                                             const std::string&)
        {
          AutomaticService* s = global_.get();
          if (s == nullptr)
          {
            return;
          }
          if (change == OrthancPluginChangeType_OrthancStarted)
          {
            std::lock_guard<std::mutex> lock(s->mutex_);
            s->started_ = true;
          }
          if (change == OrthancPluginChangeType_OrthancStarted ||
              change == OrthancPluginChangeType_NewInstance ||
              change == OrthancPluginChangeType_StableStudy)
          {
            s->Wake();
          }
        });
        global_->Start();
        OrthancApi::LogWarning("De-identification: " + std::to_string(global_->settings_.rules.size()) +
                               " automatic rules, node " + global_->node_);
      }
    }

    void AutomaticService::Finalize()
    {
      if (global_)
      {
        global_->Stop();
        global_.reset();
      }
    }

    AutomaticService* AutomaticService::Get()
    {
      return global_.get();
    }


    void AutomaticService::Wake()
    {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_ = true;
      }
      wake_.notify_all();
    }


    void AutomaticService::Start()
    {
      thread_ = std::thread([this]() { Loop(); });
    }


    void AutomaticService::Stop()
    {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
      }
      wake_.notify_all();
      if (thread_.joinable())
      {
        thread_.join();
      }
    }


    void AutomaticService::Loop()
    {
      IKeyStore& store = KeyStoreService::Get().GetStore();
      ChangeFollower follower(settings_, store);
      ActionRunner runner(settings_, store);
      std::string lastError;

      for (;;)
      {
        {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait_for(lock, std::chrono::seconds(settings_.pollInterval),
                         [this]() { return stopping_ || (started_ && pending_); });
          if (stopping_)
          {
            return;
          }
          if (!started_)
          {
            continue;
          }
          pending_ = false;
        }

        try
        {
          follower.Poll();

          // Run what is due; the stop request is checked between two items
          // (a running item finishes: its claim would otherwise wait for
          // ClaimTimeout).
          for (;;)
          {
            {
              std::lock_guard<std::mutex> lock(mutex_);
              if (stopping_)
              {
                return;
              }
            }
            const int64_t now = NowSeconds();
            std::optional<WorkItem> item = store.ClaimWorkItem(node_, now, now + settings_.claimTimeout);
            if (!item)
            {
              break;
            }
            runner.Run(*item);
          }
          lastError.clear();
        }
        catch (...)
        {
          std::string message;
          OrthancApi::DescribeCurrentException(message);
          if (message != lastError)   // once per distinct error, not every second
          {
            OrthancApi::LogError("De-identification: automatic rules: " + message);
            lastError = message;
          }
        }
      }
    }


    static Json::Value ToJson(const WorkItem& w)
    {
      Json::Value v(Json::objectValue);
      v["ID"] = static_cast<Json::Int64>(w.id);
      v["Rule"] = w.rule;
      v["Action"] = w.action;
      v["Level"] = w.level;
      v["Resource"] = w.resource;
      v["Study"] = w.study;
      v["State"] = w.state;
      v["Attempts"] = w.attempts;
      v["Error"] = w.error;
      v["Node"] = w.owner;
      v["Created"] = w.created;
      v["Updated"] = w.updated;
      return v;
    }


    Json::Value AutomaticService::Describe(size_t limit) const
    {
      IKeyStore& store = KeyStoreService::Get().GetStore();
      Json::Value answer(Json::objectValue);
      answer["Enabled"] = settings_.enabled;
      answer["Node"] = node_;
      std::optional<int64_t> cursor = store.GetCounter(ChangeFollower::CURSOR);
      answer["Cursor"] = cursor ? Json::Value(static_cast<Json::Int64>(*cursor)) : Json::Value();
      Json::Value rules(Json::arrayValue);
      for (const AutomaticRule& r : settings_.rules)
      {
        rules.append(r.name);
      }
      answer["Rules"] = rules;

      Json::Value counts(Json::objectValue);
      for (const char* state : { "Pending", "Running", "Done", "Failed" })
      {
        counts[state] = static_cast<Json::UInt64>(store.CountWorkItems(state));
      }
      answer["Counts"] = counts;
      for (const char* state : { "Pending", "Running", "Failed" })
      {
        Json::Value items(Json::arrayValue);
        for (const WorkItem& w : store.ListWorkItems(state, limit))
        {
          items.append(ToJson(w));
        }
        answer[state] = items;
      }
      return answer;
    }


    uint64_t AutomaticService::RetryFailed()
    {
      uint64_t count = KeyStoreService::Get().GetStore().RetryFailedWorkItems();
      Wake();
      return count;
    }
  }
}
