// Conformance: stores date what they do with the `now` they are handed, never
// with the wall clock (a ManualClock must drive a store as it drives the
// server). Each case works far from the real time, where a store that read
// the wall clock would give another answer.
#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int clock = 1;  // see registry.cc
}  // namespace anchors
namespace {

constexpr double kDay = 86'400;

TEST_P(StoreConformance, FetchDatesItsClaimWithTheGivenNow) {
  // Claimed "a day ago" by an owner that never sent a heartbeat: the claim
  // is orphaned once the grace period after that time has passed.
  const double then = wall() - kDay;
  push_jobs(*store, {item("c1")});
  const std::vector<std::string> queues{"default"};
  auto got = store->fetch({.queues = queues,
                           .max = 1,
                           .wait = std::chrono::milliseconds(0),
                           .owner = "host:1:old",
                           .now = then});
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  auto early = store->rescue_orphans({.now = then + 30, .grace_seconds = 60});
  ASSERT_TRUE(early.ok()) << early.error().message();
  EXPECT_EQ(*early, 0u) << "30 s after the claim, within the 60 s grace";
  auto late = store->rescue_orphans({.now = then + 120, .grace_seconds = 60});
  ASSERT_TRUE(late.ok()) << late.error().message();
  EXPECT_EQ(*late, 1u) << "120 s after the claim's `now`, a day before the wall clock";
  EXPECT_EQ(jids(fetch(*store, {"default"})), std::vector<std::string>{"c1"});
}

TEST_P(StoreConformance, QueueLatencyIsMeasuredAtTheGivenNow) {
  push_jobs(*store, {item("l1")});  // enqueued_at 1700000000.5 in the payload
  auto queues = store->queues(1'700'000'010.5);
  ASSERT_TRUE(queues.ok()) << queues.error().message();
  ASSERT_EQ(queues->size(), 1u);
  EXPECT_NEAR((*queues)[0].latency, 10.0, 1e-3);
}

TEST_P(StoreConformance, StatsCountLiveProcessesAtTheGivenNow) {
  const double beat = wall();
  ASSERT_TRUE(store->heartbeat(beat_for("host:1:live", beat, 60)).ok());
  auto during = store->stats(beat + 30);
  ASSERT_TRUE(during.ok()) << during.error().message();
  EXPECT_EQ(during->processes, 1u);
  auto after = store->stats(beat + 600);
  ASSERT_TRUE(after.ok()) << after.error().message();
  EXPECT_EQ(after->processes, 0u) << "its beat plus ttl is past at the given now";
}

TEST_P(StoreConformance, SetMoveToTheDeadSetScoresWithTheGivenNow) {
  const double then = wall() - kDay;
  push_jobs(*store, {item("s1", "default", wall() + 3600)});
  auto entries = store->set_range(SetKind::scheduled, 0, 10);
  ASSERT_TRUE(entries.ok() && entries->size() == 1u);
  const SetEntry e = entries->front();
  ASSERT_TRUE(store
                  ->set_move(SetKind::scheduled, e.score, e.jid, MoveTo::dead, "", e.payload, then,
                             DeadLimits{})
                  .ok());
  auto dead = store->set_range(SetKind::dead, 0, 10);
  ASSERT_TRUE(dead.ok() && dead->size() == 1u);
  EXPECT_NEAR(dead->front().score, then, 1e-3);
}

}  // namespace
}  // namespace errand::testing
