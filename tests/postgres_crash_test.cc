// What errand promises about crashes on PostgreSQL, with real `errand worker`
// processes and a real PostgreSQL 15 started by the test:
//   * a worker killed with SIGKILL mid-run loses no job (its claims are
//     rescued once its heartbeat expires);
//   * PostgreSQL restarting during a run loses no job: the workers reconnect
//     and carry on;
//   * three workers on one database run each job exactly once.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "errand/errand.h"
#include "server/acker.h"
#include "server/fetcher.h"
#include "support/postgres_server.h"
#include "support/process.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

constexpr int kJobs = 3000;
constexpr int kConcurrency = 10;

/// How many times each number appears in a record file ("n\n" per run).
std::map<std::int64_t, int> runs_in(const std::filesystem::path& record) {
  std::map<std::int64_t, int> out;
  std::istringstream in(read_file(record));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++out[std::stoll(line)];
  return out;
}

std::string missing_of(const std::map<std::int64_t, int>& runs) {
  std::string out;
  int shown = 0;
  for (int n = 0; n < kJobs; ++n)
    if (!runs.count(n) && shown++ < 20) out += std::to_string(n) + " ";
  return out;
}

class PostgresCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!server_.start(&why)) GTEST_SKIP() << why;
    url_ = server_.url("crash");
    record_ = dir_ / "record.txt";
    enqueue_record_runs(url_, 0, kJobs);
  }
  /// A worker whose heartbeat lapses `ttl` seconds after it stops beating.
  std::unique_ptr<Worker> worker(const std::string& ttl = "2") {
    return std::make_unique<Worker>(
        dir_, url_,
        std::vector<std::string>{"-q", "default", "-c", std::to_string(kConcurrency),
                                 "--heartbeat-interval", "0.5", "--process-ttl", ttl,
                                 "--rescue-interval", "1"},
        std::map<std::string, std::string>{{"ERRAND_RECORD_FILE", record_.string()}});
  }
  /// Waits (bounded) until every job ran and nothing waits or runs.
  bool all_ran(std::map<std::int64_t, int>& runs, double not_before = 0) {
    auto store = open_store(url_);
    return eventually(180s, [&] {
      runs = runs_in(record_);
      if (runs.size() < static_cast<std::size_t>(kJobs) || epoch_now() < not_before) return false;
      if (!store.ok()) store = open_store(url_);
      if (!store.ok()) return false;
      auto s = (*store)->stats(wall());
      return s.ok() && s->enqueued == 0 && s->busy == 0;
    });
  }
  void expect_nothing_left() {
    auto store = open_store(url_);
    ASSERT_TRUE(store.ok()) << store.error().message();
    auto s = (*store)->stats(wall());
    ASSERT_TRUE(s.ok()) << s.error().message();
    EXPECT_EQ(s->enqueued, 0u);
    EXPECT_EQ(s->retries, 0u);
    EXPECT_EQ(s->dead, 0u);
  }

  TempDir dir_;
  PostgresServer server_;
  std::string url_;
  std::filesystem::path record_;
};

TEST_F(PostgresCrash, SigkillOfAWorkerLosesNoJob) {
  {
    auto first = worker();
    ASSERT_TRUE(eventually(60s, [&] { return count_lines(record_) >= 300; }))
        << "the first worker did not get going:\n"
        << first->output();
    first->process->signal(SIGKILL);
    auto st = first->process->wait_for(10s);
    ASSERT_TRUE(st && WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  }
  const double killed_at = epoch_now();
  ASSERT_LT(runs_in(record_).size(), static_cast<std::size_t>(kJobs))
      << "the first worker finished everything before the kill; the test proves nothing";
  auto second = worker();
  std::map<std::int64_t, int> runs;
  // The dead worker's heartbeat expires 2 s after the kill and the rescuer
  // looks every second: by 5 s its claims are back in the queue.
  const bool done = all_ran(runs, killed_at + 5);
  EXPECT_EQ(second->stop(), 0) << second->output();
  ASSERT_TRUE(done) << runs.size() << " of " << kJobs
                    << " ran; missing (first 20): " << missing_of(runs) << "\n"
                    << second->output();
  int duplicates = 0;
  for (const auto& [n, count] : runs) duplicates += count - 1;
  // Bounded by what was in flight at the kill (running, plus finished but
  // not yet acknowledged: see acker.h).
  EXPECT_LE(duplicates, 9 * kConcurrency);
  expect_nothing_left();
}

TEST_F(PostgresCrash, RestartOfPostgresDuringARunLosesNoJob) {
  auto w = worker();
  ASSERT_TRUE(eventually(60s, [&] { return count_lines(record_) >= 300; })) << w->output();
  std::string why;
  ASSERT_TRUE(server_.restart(&why)) << why;  // fast shutdown: every session is cut
  ASSERT_LT(runs_in(record_).size(), static_cast<std::size_t>(kJobs))
      << "the worker finished everything before the restart; the test proves nothing";
  std::map<std::int64_t, int> runs;
  const bool done = all_ran(runs);
  EXPECT_TRUE(w->process->running()) << "the worker died with the database:\n" << w->output();
  EXPECT_EQ(w->stop(), 0) << w->output();
  ASSERT_TRUE(done) << runs.size() << " of " << kJobs
                    << " ran; missing (first 20): " << missing_of(runs) << "\n"
                    << w->output();
  int duplicates = 0;
  for (const auto& [n, count] : runs) duplicates += count - 1;
  // Jobs whose acknowledgement was cut off run again (at least once). If the
  // outage outlasts the 2 s process ttl, the worker's own claims (read ahead,
  // running, finished but unacknowledged: pending in the acker and in the
  // batch its one PostgreSQL thread stores) are rescued too: no more than
  // those.
  const auto bound =
      (Fetcher::kReadAheadPerThread + 1 + 2 * Acker::kPendingPerThread) * kConcurrency;
  EXPECT_LE(duplicates, static_cast<int>(bound));
  expect_nothing_left();
}

TEST_F(PostgresCrash, ThreeWorkersRunEachJobOnce) {
  std::vector<std::unique_ptr<Worker>> workers;
  // A long ttl: no live worker's claims are rescued on a slow machine, so a
  // second run of any job would be a double claim.
  for (int i = 0; i < 3; ++i) workers.push_back(worker("30"));
  std::map<std::int64_t, int> runs;
  const bool done = all_ran(runs);
  for (auto& w : workers) EXPECT_EQ(w->stop(), 0) << w->output();
  ASSERT_TRUE(done) << runs.size() << " of " << kJobs
                    << " ran; missing (first 20): " << missing_of(runs);
  for (const auto& [n, count] : runs) EXPECT_EQ(count, 1) << "job " << n << " ran " << count;
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(kJobs));
  expect_nothing_left();
}

}  // namespace
}  // namespace errand::testing
