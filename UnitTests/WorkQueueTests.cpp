// The persisted work queue and counters of the automatic rules
// (Plugin/KeyStore/SqlWorkQueue.cpp), against SQLite and a real PostgreSQL.
#include "KeyStoreTestSupport.h"

#include <mutex>
#include <set>
#include <thread>

using namespace Deid;
using namespace Deid::Testing;

class WorkQueueTest : public KeyStoreBackendTest
{
protected:
  WorkItem Item(const std::string& resource, const std::string& action = "Store",
                const std::string& level = "Instance")
  {
    WorkItem w;
    w.resource = Name(resource);
    w.study = Name("study");
    w.level = level;
    w.rule = Name("rule");
    w.action = action;
    w.key = w.rule + "|" + action + "|" + w.resource;
    return w;
  }

  // Claims until an item of this test comes (a PostgreSQL database is
  // shared by several runs; their leftovers are put back as failed).
  std::optional<WorkItem> ClaimOwn(IKeyStore& store, int64_t now, int64_t lease = 1000)
  {
    for (;;)
    {
      std::optional<WorkItem> w = store.ClaimWorkItem("node", now, now + lease);
      if (!w || w->rule.find(suffix_) != std::string::npos)
      {
        return w;
      }
      store.FinishWorkItem(w->id, "Failed", "left over by another test run");
    }
  }
};


TEST_P(WorkQueueTest, OneItemPerKeyAndClaimedOnce)
{
  auto store = Open();
  EXPECT_TRUE(store->AddWorkItem(Item("a")));
  EXPECT_FALSE(store->AddWorkItem(Item("a")));      // same key: nothing new
  EXPECT_TRUE(store->AddWorkItem(Item("a", "Peer:CLOUD")));

  std::optional<WorkItem> first = ClaimOwn(*store, 100);
  ASSERT_TRUE(first);
  EXPECT_EQ("Running", first->state);
  EXPECT_EQ(1, first->attempts);
  EXPECT_EQ(Name("a"), first->resource);
  std::optional<WorkItem> second = ClaimOwn(*store, 100);
  ASSERT_TRUE(second);
  EXPECT_NE(first->id, second->id);
  EXPECT_FALSE(ClaimOwn(*store, 100));             // both running, leases valid

  store->FinishWorkItem(first->id, "Done", "");
  store->FinishWorkItem(second->id, "Pending", "destination down", 200);
  EXPECT_FALSE(ClaimOwn(*store, 150));             // not before 200
  std::optional<WorkItem> again = ClaimOwn(*store, 200);
  ASSERT_TRUE(again);
  EXPECT_EQ(second->id, again->id);
  EXPECT_EQ(2, again->attempts);
  EXPECT_EQ("destination down", again->error);
  store->FinishWorkItem(again->id, "Failed", "destination down");

  bool listed = false;
  for (const WorkItem& w : store->ListWorkItems("Failed", 100000))
  {
    listed = listed || w.id == again->id;
  }
  EXPECT_TRUE(listed);
  EXPECT_GE(store->RetryFailedWorkItems(), 1u);
  std::optional<WorkItem> retried = ClaimOwn(*store, 300);
  ASSERT_TRUE(retried);
  EXPECT_EQ(again->id, retried->id);
  EXPECT_EQ(1, retried->attempts);
  store->FinishWorkItem(retried->id, "Done", "");
}


TEST_P(WorkQueueTest, ExpiredLeaseIsClaimedAgain)
{
  auto store = Open();
  ASSERT_TRUE(store->AddWorkItem(Item("crashed")));
  std::optional<WorkItem> w = ClaimOwn(*store, 1000, 60);
  ASSERT_TRUE(w);
  EXPECT_FALSE(ClaimOwn(*store, 1059, 60));
  auto restarted = Open();                         // another node, or after a crash
  std::optional<WorkItem> again = ClaimOwn(*restarted, 1061, 60);
  ASSERT_TRUE(again);
  EXPECT_EQ(w->id, again->id);
  restarted->FinishWorkItem(again->id, "Done", "");
}


TEST_P(WorkQueueTest, StudyItemsArePostponedReopenedAndMadeDue)
{
  auto store = Open();
  WorkItem study = Item("s", "Store", "Study");
  study.notBefore = 500;
  ASSERT_TRUE(store->AddWorkItem(study));
  EXPECT_TRUE(store->PostponeWorkItem(study.key, 600, false));
  EXPECT_FALSE(ClaimOwn(*store, 550));
  store->MakeStudyItemsDue(study.study, 560);
  std::optional<WorkItem> w = ClaimOwn(*store, 560);
  ASSERT_TRUE(w);
  EXPECT_EQ(study.key, w->key);
  store->FinishWorkItem(w->id, "Done", "");
  EXPECT_FALSE(store->PostponeWorkItem(study.key, 900, false));   // done: not postponed
  EXPECT_TRUE(store->PostponeWorkItem(study.key, 900, true));     // re-opened by a late instance
  std::optional<WorkItem> late = ClaimOwn(*store, 900);
  ASSERT_TRUE(late);
  EXPECT_EQ(1, late->attempts);
  store->FinishWorkItem(late->id, "Done", "");
  EXPECT_FALSE(store->PostponeWorkItem(Name("unknown"), 1, true));
}


TEST_P(WorkQueueTest, ConcurrentClaimersOnTwoConnectionsNeverShareAnItem)
{
  auto a = Open();
  auto b = Open();
  const int count = 40;
  for (int i = 0; i < count; i++)
  {
    ASSERT_TRUE(a->AddWorkItem(Item("i" + std::to_string(i))));
  }

  std::mutex mutex;
  std::multiset<int64_t> claimed;
  auto run = [&](IKeyStore* store)
  {
    while (std::optional<WorkItem> w = ClaimOwn(*store, 10))
    {
      store->FinishWorkItem(w->id, "Done", "");
      std::lock_guard<std::mutex> lock(mutex);
      claimed.insert(w->id);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; t++)
  {
    threads.emplace_back(run, a.get());
    threads.emplace_back(run, b.get());
  }
  for (std::thread& t : threads)
  {
    t.join();
  }
  EXPECT_EQ(static_cast<size_t>(count), claimed.size());
  EXPECT_EQ(static_cast<size_t>(count), std::set<int64_t>(claimed.begin(), claimed.end()).size());
}


TEST_P(WorkQueueTest, CounterOnlyMovesForward)
{
  auto store = Open();
  const std::string name = Name("cursor");
  EXPECT_FALSE(store->GetCounter(name));
  store->AdvanceCounter(name, 10);
  store->AdvanceCounter(name, 5);
  EXPECT_EQ(10, store->GetCounter(name).value_or(-1));
  store->AdvanceCounter(name, 12);
  EXPECT_EQ(12, Open()->GetCounter(name).value_or(-1));
}


INSTANTIATE_TEST_SUITE_P(Backends, WorkQueueTest, ::testing::Values("SQLite", "PostgreSQL"), BackendName);
