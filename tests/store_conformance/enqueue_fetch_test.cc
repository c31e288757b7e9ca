// Conformance: push, fetch, ack, requeue, priority, waiting.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int enqueue_fetch = 1;  // see registry.cc
}  // namespace anchors
namespace {

using std::chrono::milliseconds;
using Jids = std::vector<std::string>;

TEST_P(StoreConformance, SchemeIsNamed) { EXPECT_EQ(store->scheme(), GetParam().scheme); }

TEST_P(StoreConformance, FetchIsFifoWithinAQueue) {
  push_jobs(*store, {item("a"), item("b")});
  push_jobs(*store, {item("c")});
  EXPECT_EQ(jids(fetch(*store, {"default"})), Jids{"a"});
  EXPECT_EQ(jids(fetch(*store, {"default"})), Jids{"b"});
  EXPECT_EQ(jids(fetch(*store, {"default"})), Jids{"c"});
  EXPECT_TRUE(fetch(*store, {"default"}).empty());
}

TEST_P(StoreConformance, FetchReturnsPayloadAndQueueExactly) {
  const std::string text =
      R"({"class":"X","args":[1,"two",{"x":3}],"jid":"j1","queue":"critical","zz":null,"aa":1.50})";
  ASSERT_TRUE(
      store->push({.jobs = std::vector{PushItem{"critical", "j1", text}}, .now = wall()}).ok());
  auto got = fetch(*store, {"critical"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, text);
  EXPECT_EQ(got[0].queue, "critical");
}

TEST_P(StoreConformance, FetchTakesQueuesInStrictOrder) {
  push_jobs(*store, {item("low1", "low"), item("high1", "high"), item("low2", "low")});
  push_jobs(*store, {item("high2", "high")});
  auto got = fetch(*store, {"high", "low"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].queue, "high");
  EXPECT_EQ(jids(got), Jids{"high1"});
  EXPECT_EQ(jids(fetch(*store, {"high", "low"})), Jids{"high2"});
  EXPECT_EQ(jids(fetch(*store, {"high", "low"})), Jids{"low1"});
  // The order of the list, not of the names, decides.
  push_jobs(*store, {item("high3", "high")});
  EXPECT_EQ(jids(fetch(*store, {"low", "high"})), Jids{"low2"});
  EXPECT_EQ(jids(fetch(*store, {"low", "high"})), Jids{"high3"});
}

TEST_P(StoreConformance, FetchIgnoresQueuesNotAsked) {
  push_jobs(*store, {item("x", "other")});
  EXPECT_TRUE(fetch(*store, {"default"}).empty());
  EXPECT_EQ(jids(fetch(*store, {"default", "other"})), Jids{"x"});
}

TEST_P(StoreConformance, BatchFetchTakesUpToMaxInOrder) {
  std::vector<PushItem> items;
  for (int i = 0; i < 10; ++i) items.push_back(item("j" + std::to_string(i)));
  push_jobs(*store, items);
  EXPECT_EQ(jids(fetch(*store, {"default"}, 4)), (Jids{"j0", "j1", "j2", "j3"}));
  EXPECT_EQ(jids(fetch(*store, {"default"}, 4)), (Jids{"j4", "j5", "j6", "j7"}));
  EXPECT_EQ(jids(fetch(*store, {"default"}, 4)), (Jids{"j8", "j9"}));
  EXPECT_TRUE(fetch(*store, {"default"}, 4).empty());
}

// A fetch of more jobs than the Redis script moves in one LPUSH (1,000):
// oldest first, every claim held, and every claim given back by a rescue.
TEST_P(StoreConformance, ALargeBatchFetchIsOldestFirstAndRescuable) {
  constexpr int kJobs = 2500;
  std::vector<PushItem> items;
  Jids want;
  for (int i = 0; i < kJobs; ++i) {
    items.push_back(item("L" + std::to_string(i)));
    want.push_back("L" + std::to_string(i));
  }
  push_jobs(*store, items);
  EXPECT_EQ(jids(fetch(*store, {"default"}, kJobs + 10, "host:1:gone")), want);
  EXPECT_TRUE(fetch(*store, {"default"}, 10).empty());
  auto rescued = store->rescue_orphans({.now = wall() + 1e6, .grace_seconds = 0});
  ASSERT_TRUE(rescued.ok()) << rescued.error().message();
  EXPECT_EQ(*rescued, static_cast<std::size_t>(kJobs));
  auto again = jids(fetch(*store, {"default"}, kJobs + 10));
  std::sort(again.begin(), again.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(again, want);
}

TEST_P(StoreConformance, BatchFetchDrainsEarlierQueuesFirst) {
  push_jobs(*store, {item("b1", "b"), item("a1", "a"), item("b2", "b")});
  auto got = fetch(*store, {"a", "b"}, 10);
  EXPECT_EQ(jids(got), (Jids{"a1", "b1", "b2"}));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].queue, "a");
  EXPECT_EQ(got[2].queue, "b");
}

TEST_P(StoreConformance, FetchedJobsAreNotHandedOutTwice) {
  std::vector<PushItem> items;
  for (int i = 0; i < 50; ++i) items.push_back(item("j" + std::to_string(i)));
  push_jobs(*store, items);
  std::set<std::string> seen;
  for (;;) {
    auto got = fetch(*store, {"default"}, 7, "host:" + std::to_string(seen.size()) + ":x");
    if (got.empty()) break;
    for (const auto& j : jids(got)) EXPECT_TRUE(seen.insert(j).second) << j << " twice";
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST_P(StoreConformance, FetchWaitTimesOutWhenEmpty) {
  const auto start = std::chrono::steady_clock::now();
  auto got = fetch(*store, {"default"}, 5, "host:1:owner", milliseconds(150));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(got.empty());
  EXPECT_GE(took, milliseconds(100));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_P(StoreConformance, FetchWaitReturnsJobPushedWhileWaiting) {
  std::thread pusher([&] {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(store->push({.jobs = std::vector{item("late")}, .now = wall()}).ok());
  });
  const auto start = std::chrono::steady_clock::now();
  auto got = fetch(*store, {"default"}, 1, "host:1:owner", std::chrono::seconds(10));
  const auto took = std::chrono::steady_clock::now() - start;
  pusher.join();
  EXPECT_EQ(jids(got), Jids{"late"});
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_P(StoreConformance, ConcurrentFetchersNeverShareAJob) {
  constexpr int kJobs = 400;
  std::vector<PushItem> items;
  for (int i = 0; i < kJobs; ++i) items.push_back(item("j" + std::to_string(i)));
  push_jobs(*store, items);
  std::mutex mu;
  std::vector<std::string> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (;;) {
        auto r = store->fetch({.queues = std::vector<std::string>{"default"},
                               .max = 3,
                               .wait = milliseconds(0),
                               .owner = "host:" + std::to_string(t) + ":x",
                               .now = wall()});
        ASSERT_TRUE(r.ok()) << r.error().message();
        if (r->empty()) return;
        ASSERT_TRUE(store->ack(*r).ok());
        auto got = jids(*r);
        std::lock_guard lock(mu);
        all.insert(all.end(), got.begin(), got.end());
      }
    });
  for (auto& th : threads) th.join();
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a job was fetched twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kJobs));
}

TEST_P(StoreConformance, AckRemovesForGood) {
  push_jobs(*store, {item("a"), item("b")});
  auto got = fetch(*store, {"default"}, 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(store->ack(got).ok());
  // Acked jobs are neither waiting nor rescuable.
  EXPECT_EQ(store->stats(wall())->enqueued, 0u);
  EXPECT_EQ(*store->rescue_orphans({.now = wall() + 1e6, .grace_seconds = 0}), 0u);
  EXPECT_TRUE(fetch(*store, {"default"}, 5).empty());
  // Acking twice is harmless.
  EXPECT_TRUE(store->ack(got).ok());
}

TEST_P(StoreConformance, RequeuedJobsRunNextWithPayloadUnchanged) {
  push_jobs(*store, {item("a"), item("b"), item("c"), item("d")});
  auto got = fetch(*store, {"default"}, 2);
  ASSERT_EQ(jids(got), (Jids{"a", "b"}));
  const std::string original = got[0].payload;
  ASSERT_TRUE(store->requeue({.jobs = got, .now = wall()}).ok());
  auto again = fetch(*store, {"default"}, 3);
  EXPECT_EQ(jids(again), (Jids{"a", "b", "c"}));
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].payload, original);
  EXPECT_EQ(again[0].queue, "default");
}

TEST_P(StoreConformance, RequeueAfterLaterPushesStillRunsFirst) {
  push_jobs(*store, {item("a")});
  auto got = fetch(*store, {"default"});
  push_jobs(*store, {item("b"), item("c")});
  ASSERT_TRUE(store->requeue({.jobs = got, .now = wall()}).ok());
  EXPECT_EQ(jids(fetch(*store, {"default"}, 3)), (Jids{"a", "b", "c"}));
}

TEST_P(StoreConformance, HigherPriorityRunsFirstOnOrderingStores) {
  if (!store->capabilities().ordering) GTEST_SKIP() << "the store does not order by priority";
  push_jobs(*store, {item("p0a", "default", 0, 0), item("p5", "default", 0, 5),
                     item("p0b", "default", 0, 0), item("p1", "default", 0, 1)});
  EXPECT_EQ(jids(fetch(*store, {"default"}, 10)), (Jids{"p5", "p1", "p0a", "p0b"}));
}

TEST_P(StoreConformance, PushWithAtGoesToTheScheduledSet) {
  const double at = wall() + 3600;
  push_jobs(*store, {item("later", "default", at), item("now")});
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 1u);
  auto entries = *store->set_range(SetKind::scheduled, 0, 10);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].jid, "later");
  EXPECT_DOUBLE_EQ(entries[0].score, at);
  EXPECT_EQ(entries[0].payload, job_payload("later"));
  EXPECT_EQ(jids(fetch(*store, {"default"}, 10)), Jids{"now"});
  EXPECT_EQ(store->stats(wall())->scheduled, 1u);
}

TEST_P(StoreConformance, EmptyPushIsOk) {
  EXPECT_TRUE(store->push({.jobs = {}, .now = wall()}).ok());
  EXPECT_TRUE(store->queues(wall())->empty());
}

TEST_P(StoreConformance, SecondViewSeesTheSameJobs) {
  if (!GetParam().second_view) GTEST_SKIP() << "no second view";
  auto other = GetParam().second_view();
  ASSERT_NE(other, nullptr);
  push_jobs(*store, {item("a"), item("b")});
  EXPECT_EQ(jids(fetch(*other, {"default"})), Jids{"a"});
  EXPECT_EQ(jids(fetch(*store, {"default"})), Jids{"b"});
}

}  // namespace
}  // namespace errand::testing
