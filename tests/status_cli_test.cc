// Job status, results and cancellation end to end: real `errand worker`
// processes on SQLite, Redis and PostgreSQL run the test jobs
// (tests/jobs/cluster_jobs.cc); this process pushes, waits, reads results,
// cancels, and runs `errand status` / `errand cancel`.
#include <gtest/gtest.h>

#include "errand/errand.h"
#include "support/postgres_server.h"
#include "support/process.h"
#include "support/redis_server.h"

namespace errand::testing {
namespace {

constexpr const char* kTestJobs = ERRAND_TEST_JOBS_PATH;

JobDescriptor named(const char* name) {
  JobDescriptor d;  // the classes live in the test jobs library
  d.name = name;
  return d;
}

class StatusCliTest : public ::testing::TestWithParam<std::string> {
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
      url_ = "sqlite://" + (dir_ / "status.db").string();
    }
    auto client = Client::open(url_);
    ASSERT_TRUE(client.ok()) << client.error().message();
    client_ = std::make_unique<Client>(std::move(client).value());
  }

  std::unique_ptr<Worker> worker(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags{"-r", kTestJobs, "-q", "results", "-c", "2"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return std::make_unique<Worker>(dir_, url_, flags);
  }

  /// Pushes by name: the options of the class (in the jobs library) are
  /// not known here, so the queue and retry are given.
  std::string push(const char* cls, Json args, Retry retry = Retry{0}) {
    PushOptions o;
    o.queue = "results";
    o.retry = retry;
    auto jid = client_->push(named(cls), std::move(args), o);
    EXPECT_TRUE(jid.ok()) << jid.error().message();
    return jid.ok() ? *jid : std::string();
  }

  JobState state_of(const std::string& jid) {
    auto st = client_->status(jid);
    return st.ok() ? st->state : JobState::unknown;
  }

  TempDir dir_;
  RedisServer redis_;
  PostgresServer pg_;
  std::string url_;
  std::unique_ptr<Client> client_;
};

TEST_P(StatusCliTest, ResultsAndFailuresAreReadBack) {
  const std::string ok = push("ResultWork", Json::array({7}));
  const std::string bad = push("FailingWork", Json::array({"no luck"}));
  EXPECT_EQ(state_of(ok), JobState::queued);
  auto w = worker();
  auto done = client_->wait(ok, std::chrono::seconds(60));
  ASSERT_TRUE(done.ok()) << done.error().message();
  ASSERT_EQ(done->state, JobState::succeeded) << done->error << "\n" << w->output();
  auto result = client_->result<Json>(ok);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(*result, (Json{{"n", 7}, {"square", 49}}));
  // The wrong type is a clear error, not a throw.
  auto wrong = client_->result<std::string>(ok);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.code(), Errc::invalid_argument);

  auto dead = client_->wait(bad, std::chrono::seconds(60));
  ASSERT_TRUE(dead.ok()) << dead.error().message();
  EXPECT_EQ(dead->state, JobState::dead);
  EXPECT_NE(dead->error.find("no luck"), std::string::npos) << dead->error;
  auto none = client_->result<Json>(bad);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.code(), Errc::not_found);
  EXPECT_NE(none.error().message().find("dead"), std::string::npos);

  auto cli = run(cmd({"status", ok, "--json", "--store", url_}), dir_.path());
  ASSERT_EQ(cli.exit_code, 0) << cli.describe();
  auto printed = Json::parse(cli.out);
  EXPECT_EQ(printed["state"], "succeeded");
  EXPECT_EQ(printed["result"]["square"], 49);
  auto human = run(cmd({"status", bad, "--store", url_}), dir_.path());
  EXPECT_NE(human.out.find("dead"), std::string::npos) << human.describe();
  EXPECT_NE(human.out.find("no luck"), std::string::npos) << human.describe();
  auto unknown = run(cmd({"status", "no-such-jid", "--store", url_}), dir_.path());
  EXPECT_EQ(unknown.exit_code, 1) << unknown.describe();
  EXPECT_EQ(w->stop(), 0) << w->output();
}

TEST_P(StatusCliTest, CancelStopsARunningJobOnAnotherProcess) {
  auto w = worker();
  const std::string jid = push("StoppableWork", Json::array({600}));
  ASSERT_TRUE(eventually(std::chrono::seconds(60), [&] {
    return state_of(jid) == JobState::running;
  })) << w->output();
  auto cli = run(cmd({"cancel", jid, "--store", url_}), dir_.path());
  ASSERT_EQ(cli.exit_code, 0) << cli.describe();
  EXPECT_NE(cli.out.find("running"), std::string::npos) << cli.describe();
  // The bound is a timeout, not a timing claim: the job would run 600 s.
  auto st = client_->wait(jid, std::chrono::seconds(10));
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(st->state, JobState::cancelled) << w->output();
  EXPECT_TRUE(w->process->running()) << "the worker goes on";
  EXPECT_EQ(w->stop(), 0) << w->output();
}

TEST_P(StatusCliTest, CancelRemovesAWaitingJobBeforeItRuns) {
  const std::string jid = push("ResultWork", Json::array({1}));
  auto cancelled = client_->cancel(jid);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message();
  EXPECT_EQ(*cancelled, JobState::cancelled);
  const std::string after = push("ResultWork", Json::array({2}));
  auto w = worker();
  auto done = client_->wait(after, std::chrono::seconds(60));
  ASSERT_TRUE(done.ok()) << done.error().message();
  EXPECT_EQ(done->state, JobState::succeeded);
  EXPECT_EQ(state_of(jid), JobState::cancelled) << "it never ran";
  EXPECT_EQ(w->stop(), 0) << w->output();
}

TEST_P(StatusCliTest, ResultsComeBackFromChildProcessesAndCancelReachesThem) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  auto w = worker({"--isolation", "process"});
  const std::string ok = push("ResultWork", Json::array({12}));
  auto done = client_->wait(ok, std::chrono::seconds(60));
  ASSERT_TRUE(done.ok()) << done.error().message();
  ASSERT_EQ(done->state, JobState::succeeded) << done->error << "\n" << w->output();
  EXPECT_EQ(client_->result<Json>(ok).value()["square"], 144);
  const std::string long_one = push("StoppableWork", Json::array({600}));
  ASSERT_TRUE(eventually(std::chrono::seconds(60), [&] {
    return state_of(long_one) == JobState::running;
  })) << w->output();
  ASSERT_TRUE(client_->cancel(long_one).ok());
  auto st = client_->wait(long_one, std::chrono::seconds(10));
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(st->state, JobState::cancelled) << w->output();
  EXPECT_EQ(w->stop(), 0) << w->output();
}

INSTANTIATE_TEST_SUITE_P(Stores, StatusCliTest, ::testing::Values("sqlite", "redis", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace errand::testing
