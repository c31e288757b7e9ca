// Conformance: progress records (record_progress) and job events
// (publish_events, subscribe_events). Progress needs capabilities().status;
// a store without an event channel answers unsupported to both event calls.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int progress_events = 1;
}  // namespace anchors
namespace {

ProgressUpdate report(const std::string& jid, double fraction, std::string message) {
  return ProgressUpdate{jid, fraction, std::move(message), wall(), 3600};
}

JobStatus status_now(Store& store, const std::string& jid) {
  auto st = store.job_status(jid, wall());
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message());
  return st.ok() ? *st : JobStatus{};
}

TEST_P(StoreConformance, ProgressOfARunningJobIsReadWithItsStatus) {
  if (!store->capabilities().status) {
    auto p = report("p", 0.5, "half");
    EXPECT_EQ(store->record_progress(std::span<const ProgressUpdate>(&p, 1)).code(),
              Errc::unsupported);
    GTEST_SKIP() << "the store keeps no job status";
  }
  push_jobs(*store, {item("p1")});
  ASSERT_EQ(fetch(*store, {"default"}).size(), 1u);
  EXPECT_FALSE(status_now(*store, "p1").progress) << "nothing reported yet";
  const ProgressUpdate reports[] = {report("p1", 0.25, "a quarter"),
                                    report("p1", 0.42, "42 of 100")};
  ASSERT_TRUE(store->record_progress(reports).ok());
  auto running = status_now(*store, "p1");
  EXPECT_EQ(running.state, JobState::running) << "progress leaves the state alone";
  ASSERT_TRUE(running.progress);
  EXPECT_DOUBLE_EQ(*running.progress, 0.42);
  EXPECT_EQ(running.progress_message, "42 of 100");
}

TEST_P(StoreConformance, ProgressIsKeptWithTheOutcome) {
  if (!store->capabilities().status) GTEST_SKIP() << "the store keeps no job status";
  auto p = report("p2", 1.0, "all done");
  ASSERT_TRUE(store->record_progress(std::span<const ProgressUpdate>(&p, 1)).ok());
  StatusUpdate u;
  u.jid = "p2";
  u.state = JobState::succeeded;
  u.result = "7";
  u.now = wall();
  ASSERT_TRUE(store->record_status(u).ok());
  auto done = status_now(*store, "p2");
  EXPECT_EQ(done.state, JobState::succeeded);
  EXPECT_EQ(done.result, "7");
  ASSERT_TRUE(done.progress);
  EXPECT_DOUBLE_EQ(*done.progress, 1.0);
  EXPECT_EQ(done.progress_message, "all done");
}

TEST_P(StoreConformance, PublishedEventsReachASubscriber) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<JobEvent> seen;
  auto sub = store->subscribe_events([&](const JobEvent& e) {
    std::lock_guard lk(mu);
    seen.push_back(e);
    cv.notify_all();
  });
  if (!sub) {
    EXPECT_EQ(sub.code(), Errc::unsupported) << sub.error().message();
    EXPECT_EQ(store->publish_events({}).code(), Errc::unsupported);
    GTEST_SKIP() << "the store has no event channel";
  }
  JobEvent started;
  started.kind = JobEventKind::started;
  started.jid = "e1";
  started.job_class = "Resize";
  started.queue = "default";
  started.at = wall();
  JobEvent progress = started;
  progress.kind = JobEventKind::progress;
  progress.progress = 0.5;
  progress.message = "half";
  const JobEvent events[] = {started, progress};
  ASSERT_TRUE(store->publish_events(events).ok());
  std::unique_lock lk(mu);
  ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return seen.size() >= 2; }))
      << "saw " << seen.size() << " events";
  EXPECT_EQ(seen[0].kind, JobEventKind::started);
  EXPECT_EQ(seen[0].jid, "e1");
  EXPECT_EQ(seen[0].job_class, "Resize");
  EXPECT_EQ(seen[1].kind, JobEventKind::progress);
  ASSERT_TRUE(seen[1].progress);
  EXPECT_DOUBLE_EQ(*seen[1].progress, 0.5);
  EXPECT_EQ(seen[1].message, "half");
  lk.unlock();
  sub->reset();  // no callback after this
  const std::size_t before = seen.size();
  ASSERT_TRUE(store->publish_events(events).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard again(mu);
  EXPECT_EQ(seen.size(), before) << "events after the subscription ended";
}

}  // namespace
}  // namespace errand::testing
