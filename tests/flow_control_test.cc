// Scheduling and flow control on every store: expiry, timeouts, unique jobs,
// concurrency and rate limits, pausing, cron. Several Server instances on one
// store stand in for several worker processes (the crash tests use real ones).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/postgres_server.h"
#include "support/redis_server.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_runs{0};
std::atomic<int> g_running{0};
std::atomic<int> g_max_running{0};
std::mutex g_mu;
std::vector<double> g_starts;  // guarded by g_mu

void note_start() {
  int now = g_running.fetch_add(1) + 1;
  int prev = g_max_running.load();
  while (now > prev && !g_max_running.compare_exchange_weak(prev, now)) {
  }
  std::lock_guard lk(g_mu);
  g_starts.push_back(SystemClock::instance().epoch());
}

struct ExpiringJob {
  static constexpr JobOptions options{.expires_in = 2};
  void perform() { g_runs.fetch_add(1); }
};
ERRAND_JOB(ExpiringJob);

struct CooperativeSlowJob {
  static constexpr JobOptions options{.retry = 3, .timeout = 1};
  void perform() {
    while (!current_job().stop.stop_requested()) std::this_thread::sleep_for(10ms);
  }
};
ERRAND_JOB(CooperativeSlowJob);

struct StubbornSlowJob {
  static constexpr JobOptions options{.retry = 3, .timeout = 1};
  void perform() { std::this_thread::sleep_for(6s); }
};
ERRAND_JOB(StubbornSlowJob);

struct QuickJob {
  void perform(int) { g_runs.fetch_add(1); }
};
ERRAND_JOB(QuickJob);

struct UniqueJob {
  static constexpr JobOptions options{.unique = Unique::until_executed, .unique_for = 60};
  void perform(int) { g_runs.fetch_add(1); }
};
ERRAND_JOB(UniqueJob);

struct UniqueCustomKeyJob {
  static constexpr JobOptions options{.unique = Unique::until_executing};
  static std::string unique_key(const Json& args) { return args.at(0).get<std::string>(); }
  void perform(std::string, int) { g_runs.fetch_add(1); }
};
ERRAND_JOB(UniqueCustomKeyJob);

struct LimitedJob {
  static constexpr JobOptions options{.concurrency_limit = 2};
  void perform(int) {
    note_start();
    std::this_thread::sleep_for(50ms);
    g_running.fetch_sub(1);
    g_runs.fetch_add(1);
  }
};
ERRAND_JOB(LimitedJob);

struct RateJob {
  static constexpr JobOptions options{.rate_limit = 4, .rate_period = 1};
  void perform(int) {
    note_start();
    g_running.fetch_sub(1);
    g_runs.fetch_add(1);
  }
};
ERRAND_JOB(RateJob);

struct CronTickJob {
  static inline std::mutex mu;
  static inline std::vector<double> created;  // guarded by mu
  void perform(std::string) {
    std::lock_guard lk(mu);
    created.push_back(current_job().payload().at("created_at").get<double>());
  }
};
ERRAND_JOB(CronTickJob);

// ---- store parameterisation -------------------------------------------------

// One redis-server for this file's tests, stopped at exit (a static object,
// not a leaked pointer: a server left running would hold the test's output
// pipe open and make ctest wait for it).
testing::RedisServer* redis() {
  static testing::RedisServer server;
  static const bool started = server.start();
  return started ? &server : nullptr;
}

testing::PostgresServer* postgres() {
  static testing::PostgresServer server;
  static const bool started = server.start();
  return started ? &server : nullptr;
}

class FlowControl : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    g_runs = 0;
    g_running = 0;
    g_max_running = 0;
    {
      std::lock_guard lk(g_mu);
      g_starts.clear();
    }
    static int counter = 0;
    const std::string kind = GetParam();
    if (kind == "memory") {
      url_ = "memory://flow-" + std::to_string(++counter);
    } else if (kind == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() /
             ("errand-flow-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
      std::filesystem::create_directories(dir_);
      url_ = "sqlite://" + (dir_ / "flow.db").string();
    } else if (kind == "postgres") {
      if (!postgres()) GTEST_SKIP() << "PostgreSQL 15 could not be started";
      url_ = postgres()->url("flow_" + std::to_string(++counter));
    } else {
      if (!redis()) GTEST_SKIP() << "redis-server not available";
      redis()->raw()->run({"FLUSHALL"});
      url_ = redis()->url();
    }
    store_ = open_store(url_).value();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::shared_ptr<Store> second_view() { return open_store(url_).value(); }

  // Slower than the in-memory tests' pace: three stores, one a redis-server.
  ServerOptions options(const Clock* clock = nullptr) {
    return testing::fast_options(
        clock, {.poll = 100ms, .heartbeat = 100ms, .process_ttl = 2s, .rescue = 500ms});
  }

  template <class Pred>
  static bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
    return testing::eventually(pred, limit);
  }

  std::string url_;
  std::filesystem::path dir_;
  std::shared_ptr<Store> store_;
};

TEST_P(FlowControl, ExpiredJobsAreDroppedAndCounted) {
  ManualClock clock;
  ClientOptions co;
  co.clock = &clock;
  Client client{QueueMap(store_), co};
  ASSERT_TRUE(client.perform_async<ExpiringJob>().ok());
  Json doc = Json::parse(store_->queue_jobs("default", 0, 1).value().at(0));
  EXPECT_NEAR(doc["expires_at"].get<double>(), clock.epoch() + 2, 1e-3);
  clock.advance(5s);
  ASSERT_TRUE(client.perform_async<ExpiringJob>().ok());  // this one is still fresh
  Server server(QueueMap(store_), options(&clock));
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().expired == 1 && g_runs.load() == 1; }));
  server.stop();
  EXPECT_EQ(store_->stats(wall()).value().enqueued, 0u);
  EXPECT_EQ(store_->set_size(SetKind::dead).value(), 0u);
}

TEST_P(FlowControl, CooperativeTimeoutFailsAndRetries) {
  Client client{QueueMap(store_)};
  auto jid = client.perform_async<CooperativeSlowJob>().value();
  Server server(QueueMap(store_), options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return store_->set_size(SetKind::retry).value() == 1; }));
  ASSERT_TRUE(client.perform_async<QuickJob>(1).ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 1; })) << "the worker stays healthy";
  server.stop();
  auto e = store_->set_range(SetKind::retry, 0, 1).value().at(0);
  EXPECT_EQ(e.jid, jid);
  Json d = Json::parse(e.payload);
  EXPECT_EQ(d["error_class"], "errand::JobTimeout");
  EXPECT_EQ(d["retry_count"], 0);
}

TEST_P(FlowControl, StuckJobIsGivenUpAndItsThreadReplaced) {
  Client client{QueueMap(store_)};
  ASSERT_TRUE(client.perform_async<StubbornSlowJob>().ok());
  auto o = options();
  o.concurrency = 1;  // the only thread gets stuck: only a replacement can run the next job
  o.shutdown_timeout = 500ms;
  Server server(QueueMap(store_), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().busy == 1; }));
  ASSERT_TRUE(client.perform_async<QuickJob>(1).ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 1; }, 15s))
      << "a replacement thread ran the next job";
  ASSERT_TRUE(eventually([&] { return store_->set_size(SetKind::retry).value() == 1; }));
  Json d = Json::parse(store_->set_range(SetKind::retry, 0, 1).value().at(0).payload);
  EXPECT_EQ(d["error_class"], "errand::JobTimeout");
  EXPECT_EQ(server.counters().failed, 1);
  // The stuck thread finishes within 6 s; let it, so the test exits cleanly.
  std::this_thread::sleep_for(5s);
  server.stop();
  EXPECT_EQ(store_->set_size(SetKind::retry).value(), 1u) << "settled once, not twice";
  EXPECT_EQ(store_->stats(wall()).value().enqueued, 0u);
}

TEST_P(FlowControl, UniqueJobsAdmitOneCopyUnderContention) {
  std::vector<std::thread> threads;
  std::atomic<int> admitted{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      // Each thread has its own store object: a separate "process" view.
      auto view = t % 2 ? second_view() : store_;
      Client client{QueueMap(view)};
      for (int i = 0; i < 5; ++i) {
        auto jid = client.perform_async<UniqueJob>(7);
        ASSERT_TRUE(jid.ok()) << jid.error().message();
        if (!jid->empty()) admitted.fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1);
  EXPECT_EQ(store_->queue_jobs("default", 0, 100).value().size(), 1u);
  Client client{QueueMap(store_)};
  EXPECT_FALSE(client.perform_async<UniqueJob>(8)->empty()) << "other arguments: another key";
  Server server(QueueMap(store_), options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 2; }));
  server.stop();
  // until_executed: the lock went with the successful run.
  EXPECT_FALSE(client.perform_async<UniqueJob>(7)->empty());
}

TEST_P(FlowControl, UniqueCustomKeyReleasedWhenTheJobStarts) {
  Client client{QueueMap(store_)};
  EXPECT_FALSE(client.perform_async<UniqueCustomKeyJob>("acct-1", 1)->empty());
  EXPECT_TRUE(client.perform_async<UniqueCustomKeyJob>("acct-1", 2)->empty())
      << "same custom key, other args: still a duplicate";
  Server server(QueueMap(store_), options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 1; }));
  server.stop();
  EXPECT_FALSE(client.perform_async<UniqueCustomKeyJob>("acct-1", 3)->empty());
}

TEST_P(FlowControl, ConcurrencyLimitHoldsAcrossWorkers) {
  Client client{QueueMap(store_)};
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.perform_async<LimitedJob>(i).ok());
  Server a(QueueMap(store_), options());
  Server b(QueueMap(second_view()), options());
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 20; }, 60s)) << g_runs.load();
  a.stop();
  b.stop();
  EXPECT_LE(g_max_running.load(), 2);
  EXPECT_GE(g_max_running.load(), 1);
  EXPECT_GT(a.counters().deferred + b.counters().deferred, 0) << "some were put back, not run";
}

TEST_P(FlowControl, RateLimitCapsStartsPerWindow) {
  Client client{QueueMap(store_)};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client.perform_async<RateJob>(i).ok());
  Server server(QueueMap(store_), options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 10; }, 60s)) << g_runs.load();
  server.stop();
  std::map<long long, int> per_window;
  std::lock_guard lk(g_mu);
  for (double t : g_starts) ++per_window[static_cast<long long>(t)];
  for (auto [w, n] : per_window) EXPECT_LE(n, 4) << "window " << w;
  EXPECT_GE(per_window.size(), 3u);
}

TEST_P(FlowControl, PausedQueuesAcceptButAreNotFetched) {
  auto st = store_->set_paused("default", true);
  ASSERT_TRUE(st.ok()) << st.message();
  Client client{QueueMap(store_)};
  ASSERT_TRUE(client.perform_async<QuickJob>(1).ok());
  auto queues = store_->queues(wall()).value();
  ASSERT_EQ(queues.size(), 1u);
  EXPECT_TRUE(queues[0].paused);
  EXPECT_EQ(store_->paused_queues().value(), std::vector<std::string>{"default"});
  Server server(QueueMap(store_), options());
  ASSERT_TRUE(server.start().ok());
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(g_runs.load(), 0);
  ASSERT_TRUE(second_view()->set_paused("default", false).ok());  // from "another process"
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 1; }));
  server.stop();
  EXPECT_TRUE(store_->paused_queues().value().empty());
}

TEST_P(FlowControl, CronFiresEachTickOnceAcrossWorkers) {
  {
    std::lock_guard lk(CronTickJob::mu);
    CronTickJob::created.clear();
  }
  CronEntry every_second;
  every_second.name = "tick";
  every_second.expression = "* * * * * *";
  every_second.job_class = "CronTickJob";
  every_second.args = Json::array({"hello"});
  auto o = options();
  o.cron = {every_second};
  Server a(QueueMap(store_), o);
  Server b(QueueMap(second_view()), o);
  ASSERT_TRUE(a.start().ok());
  ASSERT_TRUE(b.start().ok());
  std::this_thread::sleep_for(3500ms);
  a.stop();
  b.stop();
  // Run what was enqueued in the last moments, then count per second.
  Server drain(QueueMap(store_), options());
  ASSERT_TRUE(drain.start().ok());
  eventually([&] { return store_->stats(wall()).value().enqueued == 0; }, 5s);
  drain.stop();
  std::map<long long, int> per_second;
  std::lock_guard lk(CronTickJob::mu);
  for (double c : CronTickJob::created) ++per_second[static_cast<long long>(c)];
  EXPECT_GE(CronTickJob::created.size(), 2u);
  EXPECT_LE(CronTickJob::created.size(), 5u);
  for (auto [s, n] : per_second) EXPECT_EQ(n, 1) << "second " << s << " fired " << n << " times";
}

TEST_P(FlowControl, BadCronEntriesStopTheStart) {
  CronEntry bad;
  bad.name = "bad";
  bad.expression = "every day";
  bad.job_class = "CronTickJob";
  auto o = options();
  o.cron = {bad};
  Server s(QueueMap(store_), o);
  auto st = s.start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad"), std::string::npos) << st.message();
}

INSTANTIATE_TEST_SUITE_P(Stores, FlowControl, ::testing::Values("memory", "sqlite", "redis"),
                         [](const auto& p) { return p.param; });
// The same suite on PostgreSQL (a server started by tests/support/postgres_server.h).
INSTANTIATE_TEST_SUITE_P(Postgres, FlowControl, ::testing::Values("postgres"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace errand
