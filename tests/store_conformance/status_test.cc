// Conformance: job status, results and cancellation (record_status,
// job_status, wait_status, cancel_job, cancel_requests). A store without
// capabilities().status answers unsupported to all five; the cases below
// skip on it.
#include <thread>

#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int status = 1;
}  // namespace anchors
namespace {

using std::chrono::milliseconds;

#define STATUS_OR_SKIP()                                                                \
  do {                                                                                  \
    if (!store->capabilities().status) GTEST_SKIP() << "the store keeps no job status"; \
  } while (0)

StatusUpdate update(const std::string& jid, JobState state, std::string result = {},
                    std::string error = {}) {
  return status_update(jid, state, std::move(result), std::move(error),
                       state == JobState::running ? "host:1:owner" : "");
}

JobStatus status_of(Store& store, const std::string& jid) {
  auto st = store.job_status(jid, wall());
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message());
  return st.ok() ? *st : JobStatus{};
}

TEST_P(StoreConformance, CapabilityStatusMatchesJobStatus) {
  auto st = store->job_status("never-pushed", wall());
  if (store->capabilities().status) {
    ASSERT_TRUE(st.ok()) << st.error().message();
    EXPECT_EQ(st->state, JobState::unknown);
  } else {
    ASSERT_FALSE(st.ok()) << "status not declared, yet job_status answers";
    EXPECT_EQ(st.code(), Errc::unsupported);
    EXPECT_EQ(store->record_status(update("j", JobState::running)).code(), Errc::unsupported);
  }
}

TEST_P(StoreConformance, StatusIsDerivedFromWhereTheJobSits) {
  STATUS_OR_SKIP();
  push_jobs(*store, {item("waiting"), item("later", "default", wall() + 3600)});
  EXPECT_EQ(status_of(*store, "waiting").state, JobState::queued);
  EXPECT_EQ(status_of(*store, "later").state, JobState::scheduled);
  auto got = fetch(*store, {"default"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(status_of(*store, "waiting").state, JobState::running) << "claimed";
  EXPECT_EQ(status_of(*store, "waiting").process, "host:1:owner") << "the claim's owner";
  const std::string failed =
      job_payload("waiting", "default", R"("error_class":"RuntimeError","error_message":"boom")");
  ASSERT_TRUE(store
                  ->retry({.job = got[0],
                           .jid = "waiting",
                           .payload = failed,
                           .at = wall() + 3600,
                           .now = wall()})
                  .ok());
  auto retrying = status_of(*store, "waiting");
  EXPECT_EQ(retrying.state, JobState::retrying);
  EXPECT_EQ(retrying.error, "RuntimeError: boom");
}

TEST_P(StoreConformance, StatusRecordsRunningThenTheResult) {
  STATUS_OR_SKIP();
  ASSERT_TRUE(store->record_status(update("r1", JobState::running)).ok());
  auto running = status_of(*store, "r1");
  EXPECT_EQ(running.state, JobState::running);
  EXPECT_EQ(running.process, "host:1:owner");
  ASSERT_TRUE(store->record_status(update("r1", JobState::succeeded, R"({"n":42})")).ok());
  auto done = status_of(*store, "r1");
  EXPECT_EQ(done.state, JobState::succeeded);
  EXPECT_EQ(done.result, R"({"n":42})");
  ASSERT_TRUE(store->record_status(update("r2", JobState::dead, {}, "E: no")).ok());
  EXPECT_EQ(status_of(*store, "r2").error, "E: no");
}

TEST_P(StoreConformance, StatusRecordsABatchInOneCall) {
  STATUS_OR_SKIP();
  // The acker records a batch at once: every record lands, a jid given
  // twice keeps its last update, awkward text survives, and a pending
  // cancel request ends with the job.
  ASSERT_TRUE(store->record_status(update("b-cancel", JobState::running)).ok());
  ASSERT_TRUE(store->cancel_job("b-cancel", wall(), 3600).ok());
  ASSERT_TRUE(status_of(*store, "b-cancel").cancel_requested);
  std::vector<StatusUpdate> batch = {
      update("b1", JobState::succeeded, R"({"quote":"a \"b\" c\\d, {e}"})"),
      update("b2", JobState::running),
      update("b2", JobState::succeeded, "2"),
      update("b3", JobState::dead, {}, "Err: it's \"bad\""),
      update("b-cancel", JobState::succeeded, "null"),
  };
  ASSERT_TRUE(store->record_status(batch).ok());
  EXPECT_EQ(status_of(*store, "b1").result, R"({"quote":"a \"b\" c\\d, {e}"})");
  EXPECT_EQ(status_of(*store, "b2").state, JobState::succeeded);
  EXPECT_EQ(status_of(*store, "b2").result, "2");
  EXPECT_EQ(status_of(*store, "b3").state, JobState::dead);
  EXPECT_EQ(status_of(*store, "b3").error, "Err: it's \"bad\"");
  const auto ended = status_of(*store, "b-cancel");
  EXPECT_EQ(ended.state, JobState::succeeded);
  EXPECT_FALSE(ended.cancel_requested);
  auto waited = store->wait_status("b1", wall(), milliseconds(5'000));
  ASSERT_TRUE(waited.ok()) << waited.error().message();
  EXPECT_EQ(waited->state, JobState::succeeded);
}

TEST_P(StoreConformance, AckWithStatusStoresBothOrIsUnsupported) {
  push_jobs(*store, {item("aw1"), item("aw2")});
  auto got = fetch(*store, {"default"}, 10);
  ASSERT_EQ(got.size(), 2u);
  const std::vector<StatusUpdate> statuses = {update("aw1", JobState::succeeded, "1"),
                                              update("aw2", JobState::succeeded, "2")};
  Status st = store->ack_with_status(got, statuses);
  if (!store->capabilities().ack_with_status) {
    EXPECT_EQ(st.code(), Errc::unsupported) << st.message();
    return;
  }
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(status_of(*store, "aw1").result, "1");
  EXPECT_EQ(status_of(*store, "aw2").state, JobState::succeeded);
  // Acknowledged: nothing left to fetch or to rescue from a dead owner.
  EXPECT_TRUE(fetch(*store, {"default"}, 10).empty());
  auto rescued = store->rescue_orphans({.now = wall() + 1e6, .grace_seconds = 0});
  ASSERT_TRUE(rescued.ok()) << rescued.error().message();
  EXPECT_EQ(*rescued, 0u);
  EXPECT_TRUE(store->ack_with_status({}, {}).ok());
}

TEST_P(StoreConformance, StatusRecordsExpireAfterTheirTtl) {
  STATUS_OR_SKIP();
  StatusUpdate u = update("old", JobState::succeeded, "1");
  u.now = wall() - 7200;
  u.ttl_seconds = 3600;
  ASSERT_TRUE(store->record_status(u).ok());
  EXPECT_EQ(status_of(*store, "old").state, JobState::unknown);
}

TEST_P(StoreConformance, WaitStatusReturnsWhenTheJobEnds) {
  STATUS_OR_SKIP();
  ASSERT_TRUE(store->record_status(update("w1", JobState::running)).ok());
  std::thread finisher([&] {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(store->record_status(update("w1", JobState::succeeded, "\"ok\"")).ok());
  });
  auto st = store->wait_status("w1", wall(), milliseconds(30'000));
  finisher.join();
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(st->state, JobState::succeeded);
  EXPECT_EQ(st->result, "\"ok\"");
}

TEST_P(StoreConformance, WaitStatusTimesOutOnARunningJob) {
  STATUS_OR_SKIP();
  ASSERT_TRUE(store->record_status(update("w2", JobState::running)).ok());
  auto st = store->wait_status("w2", wall(), milliseconds(50));
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(st->state, JobState::running);
}

TEST_P(StoreConformance, CancelRemovesWaitingAndScheduledJobs) {
  STATUS_OR_SKIP();
  push_jobs(*store, {item("c1"), item("c2"), item("c3", "default", wall() + 3600)});
  auto st = store->cancel_job("c1", wall(), 3600);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(*st, JobState::cancelled);
  EXPECT_EQ(*store->cancel_job("c3", wall(), 3600), JobState::cancelled);
  EXPECT_EQ(status_of(*store, "c1").state, JobState::cancelled);
  EXPECT_EQ(status_of(*store, "c3").state, JobState::cancelled);
  EXPECT_EQ(*store->set_size(SetKind::scheduled), 0u);
  EXPECT_EQ(jids(fetch(*store, {"default"}, 10)), std::vector<std::string>{"c2"});
}

TEST_P(StoreConformance, CancelOfARunningJobIsARequest) {
  STATUS_OR_SKIP();
  push_jobs(*store, {item("run1"), item("run2")});
  ASSERT_EQ(fetch(*store, {"default"}, 2).size(), 2u);
  ASSERT_TRUE(store->record_status(update("run1", JobState::running)).ok());
  auto st = store->cancel_job("run1", wall(), 3600);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(*st, JobState::running);
  EXPECT_TRUE(status_of(*store, "run1").cancel_requested);
  const std::vector<std::string> running{"run1", "run2"};
  EXPECT_EQ(*store->cancel_requests(running), std::vector<std::string>{"run1"});
  // The worker records it cancelled: the request is done.
  ASSERT_TRUE(store->record_status(update("run1", JobState::cancelled)).ok());
  EXPECT_EQ(*store->cancel_requests(running), std::vector<std::string>{});
}

TEST_P(StoreConformance, CancelBeforeTheRunningRecordIsKept) {
  STATUS_OR_SKIP();
  // Claimed, not yet recorded running: the request waits for it.
  push_jobs(*store, {item("early")});
  ASSERT_EQ(fetch(*store, {"default"}).size(), 1u);
  ASSERT_TRUE(store->cancel_job("early", wall(), 3600).ok());
  ASSERT_TRUE(store->record_status(update("early", JobState::running)).ok());
  const std::vector<std::string> running{"early"};
  EXPECT_EQ(*store->cancel_requests(running), running);
}

TEST_P(StoreConformance, CancelLeavesEndedJobsAlone) {
  STATUS_OR_SKIP();
  ASSERT_TRUE(store->record_status(update("fin", JobState::succeeded, "1")).ok());
  EXPECT_EQ(*store->cancel_job("fin", wall(), 3600), JobState::succeeded);
  EXPECT_EQ(status_of(*store, "fin").state, JobState::succeeded);
  EXPECT_EQ(*store->cancel_job("nobody", wall(), 3600), JobState::unknown);
}

TEST_P(StoreConformance, WaitStatusWakesOnCancel) {
  STATUS_OR_SKIP();
  push_jobs(*store, {item("wc")});
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(store->cancel_job("wc", wall(), 3600).ok());
  });
  auto st = store->wait_status("wc", wall(), milliseconds(30'000));
  canceller.join();
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(st->state, JobState::cancelled);
}

TEST_P(StoreConformance, StatusIsSharedByEveryView) {
  STATUS_OR_SKIP();
  if (!GetParam().second_view) GTEST_SKIP() << "one view only";
  auto other = GetParam().second_view();
  ASSERT_TRUE(store->record_status(update("shared", JobState::succeeded, "[1,2]")).ok());
  EXPECT_EQ(status_of(*other, "shared").result, "[1,2]");
  // A wait in one view wakes for a record made in another (another process).
  ASSERT_TRUE(store->record_status(update("shared2", JobState::running)).ok());
  std::thread finisher([&] {
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(other->record_status(update("shared2", JobState::dead, {}, "E: x")).ok());
  });
  auto st = store->wait_status("shared2", wall(), milliseconds(30'000));
  finisher.join();
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(st->state, JobState::dead);
}

}  // namespace
}  // namespace errand::testing
