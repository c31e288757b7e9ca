// Conformance: heartbeat, processes, workers, signals, stats, history, queues.
#include <nlohmann/json.hpp>

#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int processes = 1;  // see registry.cc
}  // namespace anchors
namespace {

using Jids = std::vector<std::string>;

TEST_P(StoreConformance, HeartbeatRegistersAndProcessesReadsBack) {
  const double now = wall();
  auto b = beat_for("host:1:aaa", now);
  b.busy = 2;
  b.quiet = true;
  b.rss_kb = 1234;
  ASSERT_TRUE(store->heartbeat(b).ok());
  ASSERT_TRUE(store->heartbeat(beat_for("host:2:bbb", now)).ok());
  auto procs = store->processes(now);
  ASSERT_TRUE(procs.ok()) << procs.error().message();
  ASSERT_EQ(procs->size(), 2u);
  const auto& p = (*procs)[0].identity == "host:1:aaa" ? (*procs)[0] : (*procs)[1];
  EXPECT_EQ(p.identity, "host:1:aaa");
  EXPECT_EQ(p.busy, 2u);
  EXPECT_TRUE(p.quiet);
  EXPECT_EQ(p.rss_kb, 1234);
  EXPECT_DOUBLE_EQ(p.beat, now);
  EXPECT_EQ(p.info["identity"], "host:1:aaa");
  EXPECT_EQ(p.info["queues"], nlohmann::json::parse(R"(["default"])"));
  // A later beat replaces the fields.
  b.busy = 0;
  b.quiet = false;
  b.beat = now + 5;
  ASSERT_TRUE(store->heartbeat(b).ok());
  auto after = store->processes(now + 5);
  ASSERT_TRUE(after.ok());
  for (const auto& rec : *after)
    if (rec.identity == "host:1:aaa") {
      EXPECT_EQ(rec.busy, 0u);
      EXPECT_FALSE(rec.quiet);
    }
}

TEST_P(StoreConformance, ProcessesPrunesExpiredOnes) {
  const double now = wall();
  ASSERT_TRUE(store->heartbeat(beat_for("host:1:live", now, 60)).ok());
  ASSERT_TRUE(store->heartbeat(beat_for("host:2:gone", now - 100, 60)).ok());
  auto procs = *store->processes(now);
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].identity, "host:1:live");
  EXPECT_EQ(store->stats(wall())->processes, 1u);
}

TEST_P(StoreConformance, UnregisterRemovesProcess) {
  const double now = wall();
  ASSERT_TRUE(store->heartbeat(beat_for("host:1:a", now)).ok());
  ASSERT_TRUE(store->unregister("host:1:a").ok());
  EXPECT_TRUE(store->processes(now)->empty());
  EXPECT_TRUE(store->unregister("host:1:a").ok());  // idempotent
}

TEST_P(StoreConformance, HeartbeatRecordsWorkAndWorkersReadsIt) {
  const double now = wall();
  auto b = beat_for("host:1:w", now);
  b.busy = 1;
  b.work.push_back(WorkRecord{"", "tid-1", "default", job_payload("w1"), now - 2});
  ASSERT_TRUE(store->heartbeat(b).ok());
  auto gone = beat_for("host:2:gone", now - 500);
  gone.work.push_back(WorkRecord{"", "tid-9", "default", job_payload("w9"), now - 600});
  ASSERT_TRUE(store->heartbeat(gone).ok());
  auto work = store->workers(now);
  ASSERT_TRUE(work.ok());
  ASSERT_EQ(work->size(), 1u);
  EXPECT_EQ((*work)[0].process, "host:1:w");
  EXPECT_EQ((*work)[0].thread, "tid-1");
  EXPECT_EQ((*work)[0].queue, "default");
  EXPECT_EQ((*work)[0].payload, job_payload("w1"));
  EXPECT_DOUBLE_EQ((*work)[0].run_at, now - 2);
  // The next beat replaces the work records.
  b.work.clear();
  b.busy = 0;
  ASSERT_TRUE(store->heartbeat(b).ok());
  EXPECT_TRUE(store->workers(now)->empty());
  EXPECT_EQ(store->stats(wall())->busy, 0u);
}

TEST_P(StoreConformance, SignalsArePoppedByTheNextHeartbeatOldestFirst) {
  const double now = wall();
  ASSERT_TRUE(store->heartbeat(beat_for("host:1:s", now)).ok());
  ASSERT_TRUE(store->signal("host:1:s", "TSTP").ok());
  ASSERT_TRUE(store->signal("host:1:s", "TERM").ok());
  ASSERT_TRUE(store->signal("host:2:other", "TERM").ok());
  auto sigs = store->heartbeat(beat_for("host:1:s", now + 1));
  ASSERT_TRUE(sigs.ok());
  EXPECT_EQ(*sigs, (Jids{"TSTP", "TERM"}));
  EXPECT_TRUE(store->heartbeat(beat_for("host:1:s", now + 2))->empty());
}

TEST_P(StoreConformance, HeartbeatCountersFeedStatsAndHistory) {
  const double now = wall();
  auto b = beat_for("host:1:c", now);
  b.processed = 5;
  b.failed = 2;
  ASSERT_TRUE(store->heartbeat(b).ok());
  b.processed = 3;
  b.failed = 0;
  ASSERT_TRUE(store->heartbeat(b).ok());
  // A beat on the previous UTC day counts there.
  auto y = beat_for("host:2:c", now - 86400);
  y.processed = 7;
  ASSERT_TRUE(store->heartbeat(y).ok());
  auto s = *store->stats(wall());
  EXPECT_EQ(s.processed, 15);
  EXPECT_EQ(s.failed, 2);
  EXPECT_EQ(*store->history("processed", 3, now), (std::vector<std::int64_t>{8, 7, 0}));
  EXPECT_EQ(*store->history("failed", 2, now), (std::vector<std::int64_t>{2, 0}));
  EXPECT_EQ(store->history("bogus", 2, now).code(), Errc::invalid_argument);
  ASSERT_TRUE(store->reset_stats().ok());
  s = *store->stats(wall());
  EXPECT_EQ(s.processed, 0);
  EXPECT_EQ(s.failed, 0);
}

TEST_P(StoreConformance, StatsCountsEverything) {
  const double now = wall();
  push_jobs(*store, {item("a"), item("b"), item("c", "other"), item("s", "default", now + 100)});
  auto got = fetch(*store, {"default"});
  ASSERT_TRUE(
      store
          ->retry(
              {.job = got[0], .jid = "a", .payload = got[0].payload, .at = now + 10, .now = wall()})
          .ok());
  auto b = beat_for("host:1:x", now);
  b.busy = 3;
  ASSERT_TRUE(store->heartbeat(b).ok());
  auto s = store->stats(wall());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->enqueued, 2u);
  EXPECT_EQ(s->scheduled, 1u);
  EXPECT_EQ(s->retries, 1u);
  EXPECT_EQ(s->dead, 0u);
  EXPECT_EQ(s->processes, 1u);
  EXPECT_EQ(s->busy, 3u);
}

TEST_P(StoreConformance, QueuesListsKnownQueuesSortedWithSizes) {
  push_jobs(*store, {item("a", "zeta"), item("b", "alpha"), item("c", "alpha")});
  auto qs = store->queues(wall());
  ASSERT_TRUE(qs.ok());
  ASSERT_EQ(qs->size(), 2u);
  EXPECT_EQ((*qs)[0].name, "alpha");
  EXPECT_EQ((*qs)[0].size, 2u);
  EXPECT_FALSE((*qs)[0].paused);
  EXPECT_EQ((*qs)[1].name, "zeta");
  EXPECT_EQ((*qs)[1].size, 1u);
  // A drained queue stays known, with size 0 and latency 0.
  fetch(*store, {"zeta"});
  qs = store->queues(wall());
  ASSERT_EQ(qs->size(), 2u);
  EXPECT_EQ((*qs)[1].size, 0u);
  EXPECT_EQ((*qs)[1].latency, 0);
}

TEST_P(StoreConformance, QueueLatencyFromOldestWaitingJob) {
  const double now = wall();
  const std::string text = R"({"class":"X","args":[],"jid":"l","queue":"default","enqueued_at":)" +
                           std::to_string(now - 100) + "}";
  ASSERT_TRUE(
      store->push({.jobs = std::vector{PushItem{"default", "l", text}}, .now = wall()}).ok());
  push_jobs(*store, {item("newer")});
  auto qs = *store->queues(wall());
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_GE(qs[0].latency, 99.0);
  EXPECT_LT(qs[0].latency, 200.0);
}

TEST_P(StoreConformance, QueueJobsPagesNextToRunFirst) {
  push_jobs(*store, {item("a"), item("b"), item("c"), item("d")});
  EXPECT_EQ(jids(*store->queue_jobs("default", 0, 10)), (Jids{"a", "b", "c", "d"}));
  EXPECT_EQ(jids(*store->queue_jobs("default", 1, 2)), (Jids{"b", "c"}));
  EXPECT_TRUE(store->queue_jobs("default", 10, 2)->empty());
  EXPECT_TRUE(store->queue_jobs("nope", 0, 2)->empty());
  EXPECT_EQ((*store->queue_jobs("default", 0, 1))[0], job_payload("a"));
}

TEST_P(StoreConformance, QueueDeleteByJid) {
  push_jobs(*store, {item("a"), item("b"), item("c")});
  ASSERT_TRUE(store->queue_delete("default", "b").ok());
  EXPECT_EQ(store->queue_delete("default", "b").code(), Errc::not_found);
  EXPECT_EQ(store->queue_delete("other", "a").code(), Errc::not_found);
  EXPECT_EQ(jids(fetch(*store, {"default"}, 10)), (Jids{"a", "c"}));
  // A claimed job is not waiting: not deletable through the queue.
  push_jobs(*store, {item("x")});
  auto got = fetch(*store, {"default"});
  EXPECT_EQ(store->queue_delete("default", "x").code(), Errc::not_found);
}

TEST_P(StoreConformance, ClearQueueRemovesJobsAndForgetsQueue) {
  push_jobs(*store, {item("a"), item("b"), item("c", "keep")});
  ASSERT_TRUE(store->clear_queue("default").ok());
  auto qs = *store->queues(wall());
  ASSERT_EQ(qs.size(), 1u);
  EXPECT_EQ(qs[0].name, "keep");
  EXPECT_TRUE(fetch(*store, {"default"}, 10).empty());
  EXPECT_EQ(store->stats(wall())->enqueued, 1u);
  EXPECT_TRUE(store->clear_queue("never-existed").ok());
}

}  // namespace
}  // namespace errand::testing
