// The server's lifecycle and timing guarantees that users see (issue #17):
// an idle server stops at once, counters reach the store soon after the work,
// a retry runs when it is due rather than at the next poll, and a job's death
// is logged as its own line.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/process.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_lifecycle_runs{0};

struct LifecycleCount {
  static constexpr JobOptions options{.queue = "lifecycle"};
  void perform(int) { g_lifecycle_runs.fetch_add(1); }
};
ERRAND_JOB(LifecycleCount);

struct RetryInOneSecond {
  static constexpr JobOptions options{.queue = "lifecycle", .retry = 3};
  static std::chrono::seconds retry_in(int) { return 1s; }
  void perform() {
    if (current_job().retry_count < 0) throw std::runtime_error("first run fails");
    g_lifecycle_runs.fetch_add(1);
  }
};
ERRAND_JOB(RetryInOneSecond);

ServerOptions slow_paced() {
  ServerOptions o;
  o.queues = {{"lifecycle", 0}};
  o.concurrency = 4;
  o.fetch_wait = 30s;
  o.poll_interval = 30s;
  o.heartbeat_interval = 30s;
  o.process_ttl = 120s;
  o.rescue_interval = 30s;
  o.log_jobs = false;
  return o;
}

TEST(Lifecycle, AnIdleServerStopsWithoutWaitingForItsFetchOrPoll) {
  auto store = open_store("memory://").value();
  Server server(QueueMap(store), slow_paced());
  ASSERT_TRUE(server.start().ok());
  std::this_thread::sleep_for(100ms);  // every thread is now in its wait
  const auto t0 = std::chrono::steady_clock::now();
  server.stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  // A design that waits out its fetch (30 s) or poll (30 s) misses this by far.
  EXPECT_LT(took, 10s);
}

TEST(Lifecycle, StatsReachTheStoreLongBeforeTheNextHeartbeat) {
  g_lifecycle_runs = 0;
  auto store = open_store("memory://").value();
  Client client{QueueMap(store)};
  for (int i = 0; i < 41; ++i) ASSERT_TRUE(client.perform_async<LifecycleCount>(i).ok());
  auto o = slow_paced();
  o.fetch_wait = 50ms;
  o.stats_interval = 100ms;
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_lifecycle_runs.load() == 41; }));
  // The heartbeat is 30 s away: only the stats flush can bring this in time.
  EXPECT_TRUE(eventually([&] { return store->stats(wall()).value().processed == 41; }, 10s))
      << "processed " << store->stats(wall()).value().processed;
  server.stop();
}

TEST(Lifecycle, ARetryRunsWhenDueNotAtTheNextPoll) {
  g_lifecycle_runs = 0;
  auto store = open_store("memory://").value();
  Client client{QueueMap(store)};
  ASSERT_TRUE(client.perform_async<RetryInOneSecond>().ok());
  auto o = slow_paced();
  o.fetch_wait = 50ms;
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  // retry_in 1 s plus Sidekiq's jitter (0–9 s for the first retry); the
  // poll interval is 30 s, so only a poller woken for the due time makes it.
  EXPECT_TRUE(eventually([&] { return g_lifecycle_runs.load() == 1; }, 20s));
  server.stop();
}

TEST(Lifecycle, InvalidIntervalsAreRefusedByName) {
  auto store = open_store("memory://").value();
  auto o = slow_paced();
  o.stats_interval = 0ms;
  Server server(QueueMap(store), o);
  auto st = server.start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("stats_interval"), std::string::npos) << st.message();
}

TEST(Lifecycle, ADeathIsLoggedAsItsOwnLine) {
  TempDir dir;
  const std::string url = "sqlite://" + (dir / "death.db").string();
  {
    auto client = Client::open(url);
    ASSERT_TRUE(client.ok()) << client.error().message();
    JobDescriptor ghost;  // no worker has this class: it fails, and retry 0 kills it
    ghost.name = "NoSuchClassAnywhere";
    PushOptions po;
    po.retry = Retry{0};
    ASSERT_TRUE(client->push(ghost, Json::array({1}), po).ok());
  }
  Worker w(dir, url);
  auto store = open_store(url).value();
  ASSERT_TRUE(eventually([&] { return store->set_size(SetKind::dead).value() == 1; }, 30s))
      << w.output();
  ASSERT_EQ(w.stop(), 0) << w.output();
  const std::string out = w.output();
  EXPECT_NE(out.find("moved to the dead set: errand::UnknownJobClass"), std::string::npos) << out;
}

}  // namespace
}  // namespace errand::testing
