// Progress and job events end to end: a real `errand worker` (isolation
// process: perform() runs in a child, which sends its progress to the
// worker) on SQLite, Redis and PostgreSQL runs ProgressWork
// (tests/jobs/cluster_jobs.cc); this process reads the progress through
// Client::status and `errand status`, and subscribes to the events the
// worker publishes (--publish-events; SQLite has no event channel).
#include <gtest/gtest.h>

#include <mutex>

#include "errand/errand.h"
#include "support/postgres_server.h"
#include "support/process.h"
#include "support/redis_server.h"

namespace errand::testing {
namespace {

constexpr const char* kTestJobs = ERRAND_TEST_JOBS_PATH;

/// The events a subscription saw.
struct Seen {
  std::mutex mu;
  std::vector<JobEvent> events;
  std::vector<JobEventKind> kinds_of(const std::string& jid) {
    std::lock_guard lk(mu);
    std::vector<JobEventKind> out;
    for (const auto& e : events)
      if (e.jid == jid) out.push_back(e.kind);
    return out;
  }
};

class ProgressCliTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    if (GetParam() == "redis") {
      if (!redis_.start(&why)) GTEST_SKIP() << why;
      url_ = redis_.url();
    } else if (GetParam() == "postgres") {
      if (!pg_.start(&why)) GTEST_SKIP() << why;
      url_ = pg_.url();
    } else {
      url_ = "sqlite://" + (dir_ / "progress.db").string();
    }
    auto client = Client::open(url_);
    ASSERT_TRUE(client.ok()) << client.error().message();
    client_ = std::make_unique<Client>(std::move(client).value());
  }

  std::unique_ptr<Worker> worker() {
    return std::make_unique<Worker>(
        dir_, url_,
        std::vector<std::string>{"-r", kTestJobs, "-q", "results", "-c", "2", "--isolation",
                                 "process", "--publish-events"});
  }

  std::string push(int steps, bool hold) {
    JobDescriptor d;
    d.name = "ProgressWork";  // in the test jobs library
    PushOptions o;
    o.queue = "results";
    o.retry = Retry{0};
    auto jid = client_->push(d, Json::array({steps, hold}), o);
    EXPECT_TRUE(jid.ok()) << jid.error().message();
    return jid.ok() ? *jid : std::string();
  }

  /// Subscribes where the store has a channel; nullopt on SQLite.
  std::optional<Subscription> subscribe(Seen& seen) {
    auto sub = client_->subscribe([&seen](const JobEvent& e) {
      std::lock_guard lk(seen.mu);
      seen.events.push_back(e);
    });
    if (GetParam() == "sqlite") {
      EXPECT_FALSE(sub.ok());
      EXPECT_EQ(sub.code(), Errc::unsupported);
      return std::nullopt;
    }
    EXPECT_TRUE(sub.ok()) << sub.error().message();
    if (!sub.ok()) return std::nullopt;
    return std::move(sub).value();
  }

  TempDir dir_;
  RedisServer redis_;
  PostgresServer pg_;
  std::string url_;
  std::unique_ptr<Client> client_;
};

TEST_P(ProgressCliTest, ProgressFromAChildIsReadWhileItRunsAndAfter) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  Seen seen;
  auto sub = subscribe(seen);
  auto w = worker();
  const std::string jid = push(2, true);
  std::optional<JobStatus> st;
  ASSERT_TRUE(eventually(std::chrono::seconds(60), [&] {
    auto got = client_->status(jid);
    if (got.ok()) st = *got;
    return st && st->progress && *st->progress == 1.0;
  })) << w->output();
  EXPECT_EQ(st->state, JobState::running);
  EXPECT_EQ(st->progress_message, "step 2 of 2") << "the last report, held back, then flushed";

  auto human = run(cmd({"status", jid, "--store", url_}), dir_.path());
  ASSERT_EQ(human.exit_code, 0) << human.describe();
  EXPECT_NE(human.out.find("progress: 100% step 2 of 2"), std::string::npos) << human.describe();
  auto json = run(cmd({"status", jid, "--json", "--store", url_}), dir_.path());
  ASSERT_EQ(json.exit_code, 0) << json.describe();
  auto printed = Json::parse(json.out);
  EXPECT_EQ(printed["progress"], 1.0);
  EXPECT_EQ(printed["progress_message"], "step 2 of 2");

  ASSERT_TRUE(client_->cancel(jid).ok());
  auto end = client_->wait(jid, std::chrono::seconds(30));
  ASSERT_TRUE(end.ok()) << end.error().message();
  EXPECT_EQ(end->state, JobState::cancelled) << w->output();
  ASSERT_TRUE(end->progress) << "kept with the outcome";
  EXPECT_EQ(*end->progress, 1.0);
  if (sub) {
    const std::vector<JobEventKind> want{JobEventKind::started, JobEventKind::progress,
                                         JobEventKind::progress, JobEventKind::cancelled};
    EXPECT_TRUE(eventually(std::chrono::seconds(30), [&] { return seen.kinds_of(jid) == want; }))
        << "saw " << seen.kinds_of(jid).size() << " events\n"
        << w->output();
  }
  EXPECT_EQ(w->stop(), 0) << w->output();
}

TEST_P(ProgressCliTest, ManyReportsBecomeAFewWritesEndingWithTheLast) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  Seen seen;
  auto sub = subscribe(seen);
  auto w = worker();
  const std::string jid = push(20'000, false);
  auto done = client_->wait(jid, std::chrono::seconds(60));
  ASSERT_TRUE(done.ok()) << done.error().message();
  ASSERT_EQ(done->state, JobState::succeeded) << done->error << "\n" << w->output();
  ASSERT_TRUE(done->progress);
  EXPECT_EQ(*done->progress, 1.0);
  EXPECT_EQ(done->progress_message, "step 20000 of 20000");
  if (sub) {
    ASSERT_TRUE(eventually(std::chrono::seconds(30), [&] {
      auto k = seen.kinds_of(jid);
      return !k.empty() && k.back() == JobEventKind::succeeded;
    })) << w->output();
    auto kinds = seen.kinds_of(jid);
    EXPECT_EQ(kinds.front(), JobEventKind::started);
    // Each progress event is one store write: 20,000 reports made far fewer.
    const auto progress = std::count(kinds.begin(), kinds.end(), JobEventKind::progress);
    EXPECT_GE(progress, 1);
    EXPECT_LT(progress, 20'000);
  }
  EXPECT_EQ(w->stop(), 0) << w->output();
}

INSTANTIATE_TEST_SUITE_P(Stores, ProgressCliTest, ::testing::Values("sqlite", "redis", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace errand::testing
