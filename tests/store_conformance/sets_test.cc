// Conformance: retry, kill, the sorted sets, promote_due, rescue_orphans.
#include <nlohmann/json.hpp>

#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int sets = 1;  // see registry.cc
}  // namespace anchors
namespace {

using Jids = std::vector<std::string>;

// Fetches the one job `jid` (pushed just before) from "default".
Fetched claim_one(Store& store, const std::string& jid) {
  EXPECT_TRUE(store.push({.jobs = std::vector{item(jid)}, .now = wall()}).ok());
  auto got = fetch(store, {"default"});
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? Fetched{} : got[0];
}

TEST_P(StoreConformance, RetryMovesClaimToRetrySetWithScore) {
  auto job = claim_one(*store, "r1");
  const std::string failed = job_payload("r1", "default", R"("retry_count":0,"error_class":"E")");
  const double at = wall() + 30;
  ASSERT_TRUE(
      store->retry({.job = job, .jid = "r1", .payload = failed, .at = at, .now = wall()}).ok());
  EXPECT_EQ(*store->set_size(SetKind::retry), 1u);
  auto entry = store->set_find(SetKind::retry, at, "r1");
  ASSERT_TRUE(entry.ok()) << entry.error().message();
  EXPECT_EQ(entry->payload, failed);
  EXPECT_DOUBLE_EQ(entry->score, at);
  // The claim is released: nothing to rescue, nothing waiting.
  EXPECT_EQ(*store->rescue_orphans({.now = wall() + 1e6, .grace_seconds = 0}), 0u);
  EXPECT_EQ(store->stats(wall())->enqueued, 0u);
  EXPECT_EQ(store->stats(wall())->retries, 1u);
}

TEST_P(StoreConformance, KillMovesClaimToDeadSet) {
  auto job = claim_one(*store, "d1");
  const double now = wall();
  ASSERT_TRUE(store
                  ->kill({.job = job,
                          .jid = "d1",
                          .payload = job_payload("d1", "default", R"("dead":true)"),
                          .now = now,
                          .limits = {}})
                  .ok());
  auto dead = *store->set_range(SetKind::dead, 0, 10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].jid, "d1");
  EXPECT_DOUBLE_EQ(dead[0].score, now);
  EXPECT_EQ(*store->rescue_orphans({.now = wall() + 1e6, .grace_seconds = 0}), 0u);
  EXPECT_EQ(store->stats(wall())->dead, 1u);
}

TEST_P(StoreConformance, RetryAndKillOfAJobNeverFetchedStillRecordIt) {
  // E.g. a payload that failed before a claim existed: the failure is not lost.
  const double now = wall();
  Fetched none{"default", job_payload("n1"), 0, ""};
  ASSERT_TRUE(store
                  ->retry({.job = none,
                           .jid = "n1",
                           .payload = job_payload("n1"),
                           .at = now + 10,
                           .now = wall()})
                  .ok());
  ASSERT_TRUE(
      store
          ->kill({.job = none, .jid = "n2", .payload = job_payload("n2"), .now = now, .limits = {}})
          .ok());
  EXPECT_EQ(jids(*store->set_range(SetKind::retry, 0, 10)), Jids{"n1"});
  EXPECT_EQ(jids(*store->set_range(SetKind::dead, 0, 10)), Jids{"n2"});
}

TEST_P(StoreConformance, KillTrimsDeadSetToMaxJobsMinusOne) {
  // Sidekiq's ZREMRANGEBYRANK dead 0 -max keeps max - 1 entries (redis-layout.md §6).
  const double t0 = wall();
  DeadLimits limits{3, 1e9};
  for (int i = 0; i < 5; ++i) {
    auto job = claim_one(*store, "k" + std::to_string(i));
    ASSERT_TRUE(store
                    ->kill({.job = job,
                            .jid = "k" + std::to_string(i),
                            .payload = job.payload,
                            .now = t0 + i,
                            .limits = limits})
                    .ok());
  }
  EXPECT_EQ(*store->set_size(SetKind::dead), 2u);
  // Newest first.
  EXPECT_EQ(jids(*store->set_range(SetKind::dead, 0, 10)), (Jids{"k4", "k3"}));
}

TEST_P(StoreConformance, KillDropsDeadEntriesOlderThanMaxAge) {
  const double t0 = wall();
  DeadLimits limits{100, 100};
  auto a = claim_one(*store, "old");
  ASSERT_TRUE(
      store
          ->kill({.job = a, .jid = "old", .payload = a.payload, .now = t0 - 1000, .limits = limits})
          .ok());
  auto b = claim_one(*store, "mid");
  ASSERT_TRUE(
      store->kill({.job = b, .jid = "mid", .payload = b.payload, .now = t0 - 50, .limits = limits})
          .ok());
  EXPECT_EQ(*store->set_size(SetKind::dead), 1u);  // "old" aged out when "mid" arrived
  auto c = claim_one(*store, "new");
  ASSERT_TRUE(
      store->kill({.job = c, .jid = "new", .payload = c.payload, .now = t0, .limits = limits})
          .ok());
  EXPECT_EQ(jids(*store->set_range(SetKind::dead, 0, 10)), (Jids{"new", "mid"}));
}

TEST_P(StoreConformance, SetRangeOrdersAndPages) {
  const double t = wall() + 1000;
  push_jobs(*store, {item("s3", "default", t + 3), item("s1", "default", t + 1),
                     item("s2", "default", t + 2)});
  EXPECT_EQ(jids(*store->set_range(SetKind::scheduled, 0, 10)), (Jids{"s1", "s2", "s3"}));
  EXPECT_EQ(jids(*store->set_range(SetKind::scheduled, 1, 1)), Jids{"s2"});
  EXPECT_TRUE(store->set_range(SetKind::scheduled, 5, 10)->empty());
  EXPECT_TRUE(store->set_range(SetKind::retry, 0, 10)->empty());
}

TEST_P(StoreConformance, SetFindDeleteAndNotFound) {
  const double t = wall() + 1000;
  push_jobs(*store, {item("a", "default", t), item("b", "default", t)});
  auto found = store->set_find(SetKind::scheduled, t, "b");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->jid, "b");
  EXPECT_EQ(found->payload, job_payload("b"));
  EXPECT_EQ(store->set_find(SetKind::scheduled, t, "zzz").code(), Errc::not_found);
  EXPECT_EQ(store->set_find(SetKind::scheduled, t + 50, "a").code(), Errc::not_found);
  EXPECT_EQ(store->set_find(SetKind::retry, t, "a").code(), Errc::not_found);
  ASSERT_TRUE(store->set_delete(SetKind::scheduled, t, "a").ok());
  EXPECT_EQ(store->set_delete(SetKind::scheduled, t, "a").code(), Errc::not_found);
  EXPECT_EQ(jids(*store->set_range(SetKind::scheduled, 0, 10)), Jids{"b"});
}

TEST_P(StoreConformance, SetMoveToQueueEnqueuesNewPayload) {
  const double t = wall() + 1000;
  push_jobs(*store, {item("m", "default", t)});
  const std::string moved = job_payload("m", "urgent", R"("enqueued_at2":1)");
  ASSERT_TRUE(
      store->set_move(SetKind::scheduled, t, "m", MoveTo::queue, "urgent", moved, wall(), {}).ok());
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 0u);
  auto got = fetch(*store, {"urgent"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, moved);
  EXPECT_EQ(store->set_move(SetKind::scheduled, t, "m", MoveTo::queue, "urgent", moved, wall(), {})
                .code(),
            Errc::not_found);
}

TEST_P(StoreConformance, SetMoveToDeadTrims) {
  const double t = wall();
  auto job = claim_one(*store, "x");
  ASSERT_TRUE(
      store->retry({.job = job, .jid = "x", .payload = job.payload, .at = t + 100, .now = wall()})
          .ok());
  ASSERT_TRUE(
      store->set_move(SetKind::retry, t + 100, "x", MoveTo::dead, "", "{\"jid\":\"x\"}", t, {})
          .ok());
  EXPECT_EQ(*store->set_size(SetKind::retry), 0u);
  auto dead = *store->set_range(SetKind::dead, 0, 10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].payload, "{\"jid\":\"x\"}");
  EXPECT_DOUBLE_EQ(dead[0].score, t);
  // With a limit of 1, adding another dead entry keeps none (max_jobs - 1).
  auto y = claim_one(*store, "y");
  ASSERT_TRUE(
      store->retry({.job = y, .jid = "y", .payload = y.payload, .at = t + 5, .now = wall()}).ok());
  ASSERT_TRUE(
      store->set_move(SetKind::retry, t + 5, "y", MoveTo::dead, "", y.payload, t + 1, {1, 1e9})
          .ok());
  EXPECT_EQ(*store->set_size(SetKind::dead), 0u);
}

TEST_P(StoreConformance, SetClearEmptiesOnlyThatSet) {
  const double t = wall();
  push_jobs(*store, {item("s", "default", t + 1000)});
  auto job = claim_one(*store, "r");
  ASSERT_TRUE(
      store->retry({.job = job, .jid = "r", .payload = job.payload, .at = t + 10, .now = wall()})
          .ok());
  ASSERT_TRUE(store->set_clear(SetKind::scheduled).ok());
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 0u);
  EXPECT_EQ(*store->set_size(SetKind::retry), 1u);
}

TEST_P(StoreConformance, PromoteDueMovesOnlyDueEntriesOnce) {
  const double now = wall();
  push_jobs(*store, {item("due1", "default", now - 10), item("future", "default", now + 3600),
                     item("due2", "default", now - 5)});
  auto job = claim_one(*store, "retried");
  ASSERT_TRUE(
      store
          ->retry(
              {.job = job, .jid = "retried", .payload = job.payload, .at = now - 1, .now = wall()})
          .ok());
  auto moved = store->promote_due({.now = now, .limit = 100});
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  EXPECT_EQ(*moved, 3u);
  EXPECT_EQ(*store->promote_due({.now = now, .limit = 100}), 0u);
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 1u);
  EXPECT_EQ(*store->set_size(SetKind::retry), 0u);
  auto got = fetch(*store, {"default"}, 10);
  auto ids = jids(got);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (Jids{"due1", "due2", "retried"}));
}

TEST_P(StoreConformance, PromoteDueRespectsLimit) {
  const double now = wall();
  push_jobs(*store, {item("a", "default", now - 3), item("b", "default", now - 2),
                     item("c", "default", now - 1)});
  EXPECT_EQ(*store->promote_due({.now = now, .limit = 2}), 2u);
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 1u);
  EXPECT_EQ(*store->promote_due({.now = now, .limit = 2}), 1u);
  EXPECT_EQ(store->stats(wall())->enqueued, 3u);
}

TEST_P(StoreConformance, PromoteDueUsesPayloadQueueSetsEnqueuedAtKeepsFields) {
  const double now = wall();
  const std::string text =
      R"({"class":"X","args":[{"k":[1,2]}],"jid":"p","queue":"mailers","enqueued_at":1.5,)"
      R"("unknown_field":{"nested":true},"created_at":1700000000.25})";
  ASSERT_TRUE(
      store->push({.jobs = std::vector{PushItem{"ignored", "p", text, now - 1}}, .now = wall()})
          .ok());
  ASSERT_EQ(*store->promote_due({.now = now, .limit = 10}), 1u);
  auto got = fetch(*store, {"mailers"});
  ASSERT_EQ(got.size(), 1u);
  auto doc = nlohmann::json::parse(got[0].payload);
  EXPECT_DOUBLE_EQ(doc["enqueued_at"].get<double>(), now);
  EXPECT_TRUE(doc["enqueued_at"].is_number_float());
  EXPECT_EQ(doc["unknown_field"], nlohmann::json::parse(R"({"nested":true})"));
  EXPECT_EQ(doc["args"], nlohmann::json::parse(R"([{"k":[1,2]}])"));
  EXPECT_EQ(doc["class"], "X");
  EXPECT_EQ(doc["jid"], "p");
  EXPECT_DOUBLE_EQ(doc["created_at"].get<double>(), 1700000000.25);
  // The queue becomes known.
  auto qs = *store->queues(wall());
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_EQ(qs[0].name, "mailers");
}

TEST_P(StoreConformance, PromoteDueFromTwoViewsMovesEachOnce) {
  if (!GetParam().second_view) GTEST_SKIP() << "no second view";
  auto other = GetParam().second_view();
  const double now = wall();
  std::vector<PushItem> items;
  for (int i = 0; i < 60; ++i) items.push_back(item("p" + std::to_string(i), "default", now - 1));
  push_jobs(*store, items);
  std::size_t a = 0, b = 0;
  std::thread t1([&] {
    for (int i = 0; i < 30; ++i) a += store->promote_due({.now = now, .limit = 3}).value_or(0);
  });
  std::thread t2([&] {
    for (int i = 0; i < 30; ++i) b += other->promote_due({.now = now, .limit = 3}).value_or(0);
  });
  t1.join();
  t2.join();
  EXPECT_EQ(a + b, 60u);
  EXPECT_EQ(store->stats(wall())->enqueued, 60u);
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 0u);
}

TEST_P(StoreConformance, RescueOrphansOnlyRescuesDeadOrUnknownOwners) {
  const double now = wall();
  push_jobs(*store, {item("live"), item("dead"), item("unknown")});
  ASSERT_TRUE(store->heartbeat(beat_for("host:1:live", now, 60)).ok());
  ASSERT_TRUE(store->heartbeat(beat_for("host:2:dead", now - 120, 60)).ok());
  ASSERT_EQ(fetch(*store, {"default"}, 1, "host:1:live").size(), 1u);
  ASSERT_EQ(fetch(*store, {"default"}, 1, "host:2:dead").size(), 1u);
  ASSERT_EQ(fetch(*store, {"default"}, 1, "host:3:unknown").size(), 1u);
  // Within the grace period an unregistered owner keeps its claim.
  EXPECT_EQ(*store->rescue_orphans({.now = now, .grace_seconds = 300}), 1u);
  auto rescued = fetch(*store, {"default"}, 10, "host:9:x");
  EXPECT_EQ(jids(rescued), Jids{"dead"});
  ASSERT_TRUE(store->ack(rescued).ok());
  // After it, the unknown owner's job comes back too; the live one never does.
  EXPECT_EQ(*store->rescue_orphans({.now = now + 30, .grace_seconds = 10}), 1u);
  auto back = fetch(*store, {"default"}, 10, "host:9:x");
  EXPECT_EQ(jids(back), Jids{"unknown"});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].payload, R"({"errand_crashes":1,)" + job_payload("unknown").substr(1))
      << "a rescue counts the crash as the payload's first member";
  ASSERT_TRUE(store->ack(back).ok());
  EXPECT_EQ(*store->rescue_orphans({.now = now + 30, .grace_seconds = 10}), 0u);
}

TEST_P(StoreConformance, RescuedJobsAreNotAckableTwice) {
  const double now = wall();
  push_jobs(*store, {item("j")});
  auto first = fetch(*store, {"default"}, 1, "host:1:gone");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(*store->rescue_orphans({.now = now + 100, .grace_seconds = 10}), 1u);
  auto second = fetch(*store, {"default"}, 1, "host:2:new");
  ASSERT_EQ(jids(second), Jids{"j"});
  // The second owner still holds it; it is not rescued while its owner lives.
  ASSERT_TRUE(store->heartbeat(beat_for("host:2:new", now + 100)).ok());
  EXPECT_EQ(*store->rescue_orphans({.now = now + 100, .grace_seconds = 10}), 0u);
  ASSERT_TRUE(store->ack(second).ok());
  EXPECT_EQ(store->stats(wall())->enqueued, 0u);
}

TEST_P(StoreConformance, LateAckOfARescuedClaimLeavesTheNewClaimAlone) {
  const double now = wall();
  push_jobs(*store, {item("j")});
  auto first = fetch(*store, {"default"}, 1, "host:1:stalled");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].owner, "host:1:stalled");
  // The first owner looks dead; its claim goes back and another takes it.
  ASSERT_EQ(*store->rescue_orphans({.now = now + 100, .grace_seconds = 10}), 1u);
  auto second = fetch(*store, {"default"}, 1, "host:2:new");
  ASSERT_EQ(jids(second), Jids{"j"});
  ASSERT_TRUE(store->heartbeat(beat_for("host:2:new", now + 100)).ok());
  // The stalled owner wakes up and acks: the job is still claimed by the
  // second, which a crash of the second would put back.
  ASSERT_TRUE(store->ack(first).ok());
  ASSERT_TRUE(store->heartbeat(beat_for("host:2:new", now + 100, 1)).ok());
  EXPECT_EQ(*store->rescue_orphans({.now = now + 200, .grace_seconds = 10}), 1u)
      << "the new claim was deleted";
  EXPECT_EQ(store->stats(wall())->enqueued, 1u);
}

TEST_P(StoreConformance, EachRescueCountsACrashInThePayload) {
  const double now = wall();
  push_jobs(*store, {item("j")});
  ASSERT_TRUE(
      store->push({.jobs = {{PushItem{"default", "odd", "[1,2]", 0, 0}}}, .now = wall()}).ok());
  const std::string original = job_payload("j");
  for (int crash = 1; crash <= 3; ++crash) {
    const std::string owner = "host:" + std::to_string(crash) + ":dies";
    auto claimed = fetch(*store, {"default"}, 2, owner);
    ASSERT_EQ(claimed.size(), 2u) << "crash " << crash;
    ASSERT_EQ(*store->rescue_orphans({.now = now + 100.0 * crash, .grace_seconds = 10}), 2u)
        << "crash " << crash;
  }
  auto back = fetch(*store, {"default"}, 2, "host:9:lives");
  ASSERT_EQ(back.size(), 2u);
  const auto& j = back[0].payload == "[1,2]" ? back[1] : back[0];
  const auto& odd = back[0].payload == "[1,2]" ? back[0] : back[1];
  EXPECT_EQ(odd.payload, "[1,2]") << "what is not an object is put back unchanged";
  // Only the first member changed; the rest is the same text.
  EXPECT_EQ(j.payload, R"({"errand_crashes":3,)" + original.substr(1));
  const auto doc = nlohmann::json::parse(j.payload);
  EXPECT_EQ(doc["errand_crashes"], 3);
  EXPECT_EQ(doc["jid"], "j");
  EXPECT_EQ(doc["args"], nlohmann::json::parse(R"(["j"])"));
  ASSERT_TRUE(store->ack(back).ok());
}

}  // namespace
}  // namespace errand::testing
