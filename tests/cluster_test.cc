// The cluster-wide promises of flow control, kept by several real `errand`
// processes sharing one store (SQLite file or redis-server), one of them
// SIGKILLed mid-work:
//   * a concurrency limit is never exceeded, and a killed worker's slots
//     come back when its heartbeat expires;
//   * of many client processes pushing the same unique job, one wins; the
//     lock outlives the killed worker and ends when the job succeeds;
//   * each cron tick is enqueued exactly once, and ticks keep coming when a
//     worker dies.
// The job classes are in tests/jobs/cluster_jobs.cc; they write "S|E n ns pid"
// lines (CLOCK_MONOTONIC: one clock for every process on the machine).
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "errand/errand.h"
#include "support/process.h"
#include "support/redis_server.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

constexpr const char* kTestJobs = ERRAND_TEST_JOBS_PATH;

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// One run of a job as its S and E lines tell it; end = -1 while unfinished.
struct JobRun {
  std::int64_t n = 0;
  long pid = 0;
  std::int64_t start = 0;
  std::int64_t end = -1;
};

std::vector<JobRun> runs_in(const std::filesystem::path& record) {
  std::vector<JobRun> runs;
  std::map<std::pair<std::int64_t, long>, std::size_t> open;  // (n, pid) → index
  std::istringstream in(read_file(record));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    char what = 0;
    JobRun r;
    std::int64_t ns = 0;
    if (!(fields >> what >> r.n >> ns >> r.pid)) continue;
    if (what == 'S') {
      r.start = ns;
      open[{r.n, r.pid}] = runs.size();
      runs.push_back(r);
    } else if (auto it = open.find({r.n, r.pid}); it != open.end()) {
      runs[it->second].end = ns;
      open.erase(it);
    }
  }
  return runs;
}

/// The most runs in progress at one instant; an unfinished run of `killed`
/// counts until `killed_at` (it died with its process), any other until now.
int max_overlap(const std::vector<JobRun>& runs, long killed = 0, std::int64_t killed_at = 0) {
  std::vector<std::pair<std::int64_t, int>> events;
  for (const auto& r : runs) {
    std::int64_t end = r.end >= 0 ? r.end : (r.pid == killed ? killed_at : monotonic_ns());
    events.emplace_back(r.start, +1);
    events.emplace_back(end, -1);
  }
  std::sort(events.begin(), events.end());  // at a tie, an end (-1) before a start
  int now = 0, most = 0;
  for (const auto& [t, d] : events) most = std::max(most, now += d);
  return most;
}

std::size_t finished(const std::vector<JobRun>& runs, std::int64_t n) {
  return static_cast<std::size_t>(std::count_if(
      runs.begin(), runs.end(), [&](const JobRun& r) { return r.n == n && r.end >= 0; }));
}

class ClusterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "redis") {
      std::string why;
      if (!redis_.start(&why)) GTEST_SKIP() << why;
      url_ = redis_.url();
    } else {
      url_ = sqlite_url(dir_);
    }
    record_ = dir_ / "record.txt";
  }

  /// A worker with the cluster jobs, quick heartbeats (dead after 3 s), and
  /// its record file.
  std::unique_ptr<Worker> worker(std::vector<std::string> extra) {
    std::vector<std::string> flags = {
        "-r", kTestJobs, "--heartbeat-interval", "0.5", "--process-ttl", "3", "--rescue-interval",
        "1"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return std::make_unique<Worker>(
        dir_, url_, flags,
        std::map<std::string, std::string>{{"ERRAND_RECORD_FILE", record_.string()}});
  }

  /// SIGKILLs `w` and returns the monotonic time it was seen dead.
  std::int64_t kill9(Worker& w) {
    w.process->signal(SIGKILL);
    auto st = w.process->wait_for(10s);
    EXPECT_TRUE(st && WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
    return monotonic_ns();
  }

  void enqueue(const std::string& job_class, const std::string& queue,
               const std::vector<Json>& arg_lists) {
    auto client = Client::open(url_);
    ASSERT_TRUE(client.ok()) << client.error().message();
    PushOptions o;
    o.queue = queue;
    for (const auto& args : arg_lists) ASSERT_TRUE(client->enqueue(job_class, args, o).ok());
  }

  TempDir dir_;
  RedisServer redis_;
  std::string url_;
  std::filesystem::path record_;
};

TEST_P(ClusterTest, ConcurrencyLimitHoldsAcrossProcessesAndAKilledWorkersSlotsComeBack) {
  // LimitedWork allows 2 at once; 3 workers × 4 threads compete for them.
  std::vector<Json> jobs;
  for (int n = 0; n < 10; ++n) jobs.push_back(Json::array({n, 1000}));
  enqueue("LimitedWork", "limited", jobs);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(worker({"-q", "limited", "-c", "4"}));

  // Kill the worker that started a job last (it holds a slot right now).
  JobRun victim;
  ASSERT_TRUE(eventually(60s, [&] {
    auto runs = runs_in(record_);
    for (const auto& r : runs)
      if (r.end < 0 && r.start > victim.start) victim = r;
    return victim.pid != 0;
  })) << workers[0]->output();
  Worker* killed = nullptr;
  for (auto& w : workers)
    if (w->process->pid() == victim.pid) killed = w.get();
  ASSERT_NE(killed, nullptr) << "no worker has pid " << victim.pid;
  const std::int64_t killed_at = kill9(*killed);
  {
    auto runs = runs_in(record_);
    ASSERT_TRUE(std::any_of(runs.begin(), runs.end(), [&](const JobRun& r) {
      return r.pid == victim.pid && r.end < 0;
    })) << "the killed worker was not running a job; the test proves nothing";
  }

  // Every job finishes, the killed one rescued and run again.
  std::vector<JobRun> runs;
  ASSERT_TRUE(eventually(120s,
                         [&] {
                           runs = runs_in(record_);
                           for (int n = 0; n < 10; ++n)
                             if (finished(runs, n) == 0) return false;
                           return true;
                         }))
      << "not every job finished; worker log:\n"
      << workers[0]->output();
  EXPECT_LE(max_overlap(runs, victim.pid, killed_at), 2) << "the limit was exceeded";
  EXPECT_EQ(max_overlap(runs, victim.pid, killed_at), 2) << "the limit was never reached";

  // The dead worker's slot came back: two run at once again.
  jobs.clear();
  for (int n = 100; n < 104; ++n) jobs.push_back(Json::array({n, 1000}));
  enqueue("LimitedWork", "limited", jobs);
  std::vector<JobRun> later;
  ASSERT_TRUE(eventually(60s, [&] {
    later.clear();
    for (const auto& r : runs_in(record_))
      if (r.n >= 100) later.push_back(r);
    return later.size() >= 4 &&
           std::all_of(later.begin(), later.end(), [](const JobRun& r) { return r.end >= 0; });
  }));
  EXPECT_EQ(max_overlap(later), 2) << "a slot of the killed worker is still held";
  for (auto& w : workers)
    if (w.get() != killed) {
      EXPECT_EQ(w->stop(), 0) << w->output();
    }
}

TEST_P(ClusterTest, UniqueJobIsPushedOnceByRacingClientsAndItsLockOutlivesAKilledWorker) {
  // Eight client processes push UniqueWork(7) at the same moment.
  const std::vector<std::string> push =
      cmd({"enqueue", "-r", kTestJobs, "UniqueWork", "[7, 1500]", "--store", url_});
  std::vector<std::unique_ptr<Process>> clients;
  for (int i = 0; i < 8; ++i) {
    SpawnOptions o;
    o.cwd = dir_.path();
    o.stdout_path = dir_ / ("client-" + std::to_string(i) + ".out");
    o.stderr_path = dir_ / ("client-" + std::to_string(i) + ".err");
    clients.push_back(std::make_unique<Process>(push, o));
  }
  int jids = 0;
  for (int i = 0; i < 8; ++i) {
    auto st = clients[i]->wait_for(30s);
    ASSERT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0)
        << read_file(dir_ / ("client-" + std::to_string(i) + ".err"));
    if (!read_file(dir_ / ("client-" + std::to_string(i) + ".out")).empty()) ++jids;
  }
  EXPECT_EQ(jids, 1) << "racing clients enqueued " << jids << " copies";

  // The job starts on a worker that is then killed: the lock stays held.
  auto first = worker({"-q", "unique", "-c", "2"});
  ASSERT_TRUE(eventually(60s, [&] { return !runs_in(record_).empty(); })) << first->output();
  const long first_pid = first->process->pid();
  const std::int64_t killed_at = kill9(*first);
  ASSERT_EQ(finished(runs_in(record_), 7), 0u) << "it finished before the kill";
  auto again = run(push, dir_.path(), 30s);
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_EQ(again.out, "") << "a second copy was enqueued while the first was claimed";

  // Another worker rescues and finishes it; the lock goes with the success.
  auto second = worker({"-q", "unique", "-c", "2"});
  ASSERT_TRUE(eventually(60s, [&] { return finished(runs_in(record_), 7) == 1; }))
      << second->output();
  again = run(push, dir_.path(), 30s);
  ASSERT_EQ(again.exit_code, 0) << again.describe();
  EXPECT_NE(again.out, "") << "the lock was not released after the job succeeded";
  ASSERT_TRUE(eventually(60s, [&] { return finished(runs_in(record_), 7) == 2; }));
  EXPECT_EQ(max_overlap(runs_in(record_), first_pid, killed_at), 1) << "two copies ran at once";
  EXPECT_EQ(second->stop(), 0) << second->output();
}

TEST_P(ClusterTest, CronTickIsEnqueuedOnceByThreeWorkersOneKilled) {
  // Every second, onto a queue no worker fetches, so that the queue keeps
  // exactly what the cron enqueuers pushed.
  const auto config = dir_ / "cron.yml";
  {
    std::ofstream out(config);
    out << "cron:\n  every_second:\n    cron: \"* * * * * *\"\n    class: RecordRun\n"
           "    args: [1]\n    queue: ticks\n";
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(worker({"-C", config.string(), "-q", "default", "-c", "1"}));
  auto store = open_store(url_);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto ticks_queued = [&]() -> std::size_t {
    for (const auto& q : (*store)->queues(wall()).value_or({}))
      if (q.name == "ticks") return q.size;
    return 0;
  };
  ASSERT_TRUE(eventually(30s, [&] { return ticks_queued() >= 3; })) << workers[0]->output();
  kill9(*workers[1]);
  const double killed_at = epoch_now();
  ASSERT_TRUE(eventually(30s, [&] { return ticks_queued() >= 8; })) << workers[0]->output();
  EXPECT_EQ(workers[0]->stop(), 0) << workers[0]->output();
  EXPECT_EQ(workers[2]->stop(), 0) << workers[2]->output();

  auto jobs = (*store)->queue_jobs("ticks", 0, 1000);
  ASSERT_TRUE(jobs.ok()) << jobs.error().message();
  std::vector<double> ticks;
  for (const auto& payload : *jobs) {
    Json doc = Json::parse(payload);
    EXPECT_EQ(doc.value("cron", ""), "every_second");
    ticks.push_back(doc.at("cron_at").get<double>());
  }
  std::sort(ticks.begin(), ticks.end());
  ASSERT_GE(ticks.size(), 8u);
  for (std::size_t i = 1; i < ticks.size(); ++i) {
    EXPECT_NE(ticks[i], ticks[i - 1]) << "tick " << ticks[i] << " enqueued twice";
    EXPECT_EQ(ticks[i] - ticks[i - 1], 1.0)
        << "ticks missing between " << ticks[i - 1] << " and " << ticks[i];
  }
  EXPECT_GT(ticks.back(), killed_at + 1) << "no tick after the kill";
}

INSTANTIATE_TEST_SUITE_P(Stores, ClusterTest, ::testing::Values("sqlite", "redis"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace errand::testing
