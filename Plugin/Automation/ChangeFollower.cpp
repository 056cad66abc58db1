#include "Automation/ChangeFollower.h"

#include "Automation/InstanceFacts.h"
#include "Orthanc/OrthancApi.h"

#include <algorithm>
#include <chrono>

namespace Deid
{
  namespace Automation
  {
    // Changes committed out of order by another node sharing the index
    // (sequence numbers are taken before commit) are caught by reading this
    // many changes before the cursor again; the unique work keys make the
    // second reading harmless.
    static const int64_t OVERLAP = 100;
    static const int PAGE = 200;

    int64_t NowSeconds()
    {
      return std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    }


    ChangeFollower::ChangeFollower(const AutomaticSettings& settings, IKeyStore& store) :
      settings_(settings),
      store_(store)
    {
    }


    void ChangeFollower::Enqueue(const AutomaticRule& rule, const std::string& resource, const std::string& level,
                                 const std::string& study, int64_t notBefore)
    {
      for (const std::string& action : rule.GetActions())
      {
        WorkItem w;
        w.key = rule.name + "|" + action + "|" + resource;
        w.resource = resource;
        w.level = level;
        w.study = study;
        w.rule = rule.name;
        w.action = action;
        w.notBefore = notBefore;
        if (!store_.AddWorkItem(w) && level == "Study")
        {
          // A study that was already waiting (or done: a late instance) waits
          // again until it is stable.
          store_.PostponeWorkItem(w.key, notBefore, true);
        }
      }
    }


    void ChangeFollower::HandleNewInstance(const std::string& instanceId)
    {
      InstanceFacts facts;
      if (!ReadInstanceFacts(facts, instanceId) || facts.ownOutput)
      {
        return;
      }

      if (const AutomaticRule* rule = settings_.FindRule(AutomaticRule::Trigger::Stored, facts.input))
      {
        Enqueue(*rule, instanceId, "Instance", facts.studyId, 0);
      }

      if (const AutomaticRule* rule = settings_.FindRule(AutomaticRule::Trigger::StableStudy, facts.input))
      {
        // One marker per instance, so that reading this change again does
        // not postpone (or re-open) the study a second time.
        WorkItem seen;
        seen.key = rule->name + "|Seen|" + instanceId;
        seen.resource = instanceId;
        seen.level = "Instance";
        seen.study = facts.studyId;
        seen.rule = rule->name;
        seen.action = "Seen";
        seen.state = "Seen";
        if (store_.AddWorkItem(seen))
        {
          // Due when Orthanc says the study is stable, or at the latest
          // StableAge after its last instance (also after a restart, when
          // Orthanc no longer remembers the study).
          Enqueue(*rule, facts.studyId, "Study", facts.studyId, NowSeconds() + settings_.stableAge);
        }
      }
    }


    void ChangeFollower::Poll()
    {
      std::optional<int64_t> cursor = store_.GetCounter(CURSOR);
      if (!cursor)
      {
        // First start: the rules apply to what arrives from now on.
        Json::Value last;
        OrthancApi::RestGet(last, "/changes?last");
        int64_t start = last["Last"].isIntegral() ? last["Last"].asInt64() : 0;
        store_.AdvanceCounter(CURSOR, start);
        cursor = store_.GetCounter(CURSOR);
        OrthancApi::LogWarning("De-identification: automatic rules follow Orthanc's changes from " +
                               std::to_string(*cursor));
      }

      int64_t since = std::max<int64_t>(0, *cursor - OVERLAP);
      int64_t last = *cursor;
      for (;;)
      {
        Json::Value page;
        OrthancApi::RestGet(page, "/changes?since=" + std::to_string(since) + "&limit=" + std::to_string(PAGE));
        const Json::Value& changes = page["Changes"];
        for (Json::ArrayIndex i = 0; i < changes.size(); i++)
        {
          const Json::Value& c = changes[i];
          int64_t seq = c["Seq"].asInt64();
          if (handled_.count(seq) > 0)
          {
            continue;
          }
          const std::string type = c["ChangeType"].asString();
          const std::string id = c["ID"].asString();
          if (type == "NewInstance")
          {
            HandleNewInstance(id);
          }
          else if (type == "StableStudy")
          {
            store_.MakeStudyItemsDue(id, NowSeconds());
          }
          handled_.insert(seq);
        }
        int64_t pageLast = page["Last"].isIntegral() ? page["Last"].asInt64() : since;
        last = std::max(last, pageLast);
        if (page["Done"].asBool() || changes.empty() || pageLast <= since)
        {
          break;
        }
        since = pageLast;
      }

      store_.AdvanceCounter(CURSOR, last);
      // Forget what is now out of the overlap window.
      while (!handled_.empty() && *handled_.begin() < last - OVERLAP)
      {
        handled_.erase(handled_.begin());
      }
    }
  }
}
