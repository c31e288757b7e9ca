// Conformance: reschedule (a snoozed or throttled job goes back to the
// scheduled set with a new payload, its claim released).
#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int reschedule = 1;
}  // namespace anchors
namespace {

using Jids = std::vector<std::string>;

TEST_P(StoreConformance, RescheduleMovesTheClaimToTheScheduledSet) {
  push_jobs(*store, {item("a"), item("b")});
  auto got = fetch(*store, {"default"});
  ASSERT_EQ(jids(got), Jids{"a"});
  const double at = wall() + 3600;
  const std::string snoozed = job_payload("a", "default", R"("snoozed":1)");
  ASSERT_TRUE(
      store->reschedule({.job = got[0], .jid = "a", .payload = snoozed, .at = at, .now = wall()})
          .ok());

  auto entries = store->set_range(SetKind::scheduled, 0, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].jid, "a");
  EXPECT_DOUBLE_EQ((*entries)[0].score, at);
  EXPECT_EQ((*entries)[0].payload, snoozed) << "stored as given";
  // Not waiting in its queue, and only "b" is left to fetch.
  EXPECT_EQ(jids(*store->queue_jobs("default", 0, 10)), Jids{"b"});
  EXPECT_EQ(jids(fetch(*store, {"default"}, 10)), Jids{"b"});
}

TEST_P(StoreConformance, RescheduleReleasesTheClaim) {
  push_jobs(*store, {item("a")});
  auto got = fetch(*store, {"default"}, 1, "host:1:gone");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(store
                  ->reschedule({.job = got[0],
                                .jid = "a",
                                .payload = job_payload("a"),
                                .at = wall() + 3600,
                                .now = wall()})
                  .ok());
  // The owner never registered: a claim still held would be rescued now.
  EXPECT_EQ(*store->rescue_orphans({.now = wall() + 100, .grace_seconds = 10}), 0u);
  EXPECT_TRUE(store->queue_jobs("default", 0, 10)->empty());
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 1u);
  // A late ack of the old claim leaves the scheduled entry alone.
  ASSERT_TRUE(store->ack(got).ok());
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 1u);
}

TEST_P(StoreConformance, RescheduledJobRunsAgainWhenDue) {
  push_jobs(*store, {item("a")});
  auto got = fetch(*store, {"default"});
  ASSERT_EQ(got.size(), 1u);
  const double at = wall() + 60;
  const std::string snoozed = job_payload("a", "default", R"("snoozed":1)");
  ASSERT_TRUE(
      store->reschedule({.job = got[0], .jid = "a", .payload = snoozed, .at = at, .now = wall()})
          .ok());
  EXPECT_EQ(*store->promote_due({.now = at - 1, .limit = 10}), 0u) << "not due yet";
  EXPECT_EQ(*store->promote_due({.now = at + 1, .limit = 10}), 1u);
  auto again = fetch(*store, {"default"});
  ASSERT_EQ(jids(again), Jids{"a"});
  EXPECT_NE(again[0].payload.find(R"("snoozed":1)"), std::string::npos)
      << "the new payload runs: " << again[0].payload;
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 0u);
}

TEST_P(StoreConformance, RescheduleOfAJobNeverFetchedStillSchedulesIt) {
  Fetched by_hand;
  by_hand.queue = "default";
  by_hand.payload = job_payload("x");
  const double at = wall() + 3600;
  ASSERT_TRUE(
      store
          ->reschedule(
              {.job = by_hand, .jid = "x", .payload = job_payload("x"), .at = at, .now = wall()})
          .ok());
  auto entries = store->set_range(SetKind::scheduled, 0, 10);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(jids(*entries), Jids{"x"});
}

}  // namespace
}  // namespace errand::testing
