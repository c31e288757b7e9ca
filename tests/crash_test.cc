// What errand promises about processes dying: a worker killed with SIGKILL
// loses no job (another worker rescues its claims once its heartbeat
// expires), and a worker stopped with SIGTERM mid-job exits in time and puts
// every unfinished job back.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "errand/errand.h"
#include "server/acker.h"
#include "support/process.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

/// How many times each number appears in a record file ("n\n" per run).
std::map<std::int64_t, int> runs_in(const std::filesystem::path& record) {
  std::map<std::int64_t, int> out;
  std::istringstream in(read_file(record));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++out[std::stoll(line)];
  return out;
}

std::string missing_of(const std::map<std::int64_t, int>& runs, int total) {
  std::string out;
  int shown = 0;
  for (int n = 0; n < total; ++n)
    if (!runs.count(n) && shown++ < 20) out += std::to_string(n) + " ";
  return out;
}

TEST(CrashTest, SigkillLosesNoJob) {
  constexpr int kJobs = 3000;
  constexpr int kConcurrency = 10;
  TempDir dir;
  const auto url = sqlite_url(dir);
  const auto record = dir / "record.txt";
  enqueue_record_runs(url, 0, kJobs);
  ASSERT_FALSE(HasFatalFailure());

  const std::vector<std::string> flags = {
      "-q",  "default",       "-c", std::to_string(kConcurrency), "--heartbeat-interval",
      "0.5", "--process-ttl", "2",  "--rescue-interval",          "1"};
  const std::map<std::string, std::string> env = {{"ERRAND_RECORD_FILE", record.string()}};
  {
    Worker first(dir, url, flags, env);
    ASSERT_TRUE(eventually(60s, [&] { return count_lines(record) >= 300; }))
        << "the first worker did not get going:\n"
        << first.output();
    first.process->signal(SIGKILL);
    auto st = first.process->wait_for(10s);
    ASSERT_TRUE(st && WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL);
  }
  const double killed_at = epoch_now();
  const auto before_restart = runs_in(record).size();
  ASSERT_LT(before_restart, static_cast<std::size_t>(kJobs))
      << "the first worker finished everything before the kill; the test proves nothing";

  Worker second(dir, url, flags, env);
  auto store = open_store(url);
  ASSERT_TRUE(store.ok()) << store.error().message();
  std::map<std::int64_t, int> runs;
  // Every job ran, and the rescued claims of the dead worker (some of them
  // jobs that ran but were not acknowledged) have run again too.
  const bool all_ran = eventually(120s, [&] {
    runs = runs_in(record);
    if (runs.size() < static_cast<std::size_t>(kJobs)) return false;
    // The dead worker's heartbeat expires 2 s after the kill and the
    // rescuer looks every second: by 5 s its claims are back in the queue.
    if (epoch_now() < killed_at + 5) return false;
    auto s = (*store)->stats(wall());
    return s.ok() && s->enqueued == 0 && s->busy == 0;
  });
  EXPECT_EQ(second.stop(), 0) << second.output();
  ASSERT_TRUE(all_ran) << runs.size() << " of " << kJobs
                       << " jobs ran; missing (first 20): " << missing_of(runs, kJobs)
                       << "\nsecond worker:\n"
                       << second.output();

  int duplicates = 0;
  for (const auto& [n, count] : runs) {
    EXPECT_TRUE(n >= 0 && n < kJobs) << "unexpected record " << n;
    duplicates += count - 1;
  }
  // At least once, and the duplicates bounded by what was in flight at the
  // kill: the jobs running, plus the finished ones whose acknowledgement was
  // pending or being stored (at most kPendingPerThread × concurrency each).
  EXPECT_LE(duplicates, static_cast<int>((Acker::kMaxThreads + 1) * Acker::kPendingPerThread + 1) *
                            kConcurrency)
      << "more jobs ran twice than were in flight";

  auto s = (*store)->stats(wall());
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->enqueued, 0u);
  EXPECT_EQ(s->retries, 0u);
  EXPECT_EQ(s->dead, 0u);
}

TEST(CrashTest, SigtermMidJobExitsInTimeAndLosesNothing) {
  constexpr int kJobs = 30;
  TempDir dir;
  const auto url = sqlite_url(dir);
  const auto record = dir / "record.txt";
  {
    // Even jobs are quick, odd ones outlast the 1 s shutdown timeout.
    auto client = Client::open(url);
    ASSERT_TRUE(client.ok()) << client.error().message();
    JobDescriptor slow;
    slow.name = "SlowJob";
    std::vector<Json> args;
    for (int n = 0; n < kJobs; ++n) args.push_back(Json::array({n, n % 2 == 0 ? 100 : 4000}));
    auto jids = client->push_bulk(slow, args, {});
    ASSERT_TRUE(jids.ok()) << jids.error().message();
  }

  Worker w(dir, url, {"-q", "default", "-c", "5", "-t", "1"},
           {{"ERRAND_RECORD_FILE", record.string()}});
  auto store = open_store(url);
  ASSERT_TRUE(store.ok()) << store.error().message();
  // Wait until some jobs finished and some are running right now.
  ASSERT_TRUE(eventually(30s, [&] {
    auto busy = (*store)->workers(epoch_now());
    return count_lines(record) >= 2 && busy.ok() && !busy->empty();
  })) << w.output();

  const auto t0 = std::chrono::steady_clock::now();
  w.process->signal(SIGTERM);
  auto st = w.process->wait_for(6s);  // the shutdown timeout (1 s) + 5 s
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(st.has_value()) << "the worker did not exit within timeout + 5 s:\n" << w.output();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << w.output();
  RecordProperty("shutdown_seconds", std::to_string(took));

  // Every job either ran to completion or waits in the queue again.
  const auto runs = runs_in(record);
  std::set<std::int64_t> queued;
  auto jobs = (*store)->queue_jobs("default", 0, 1000);
  ASSERT_TRUE(jobs.ok()) << jobs.error().message();
  for (const auto& text : *jobs) {
    Json doc = Json::parse(text);
    queued.insert(doc["args"][0].get<std::int64_t>());
  }
  auto s = (*store)->stats(wall());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->retries, 0u) << "an interrupted job is requeued, not failed";
  EXPECT_EQ(s->dead, 0u);
  for (int n = 0; n < kJobs; ++n)
    EXPECT_TRUE(runs.count(n) || queued.count(n)) << "job " << n << " was lost\n" << w.output();
  EXPECT_GE(queued.size(), 1u) << "no job was interrupted; the test proves nothing";
  EXPECT_EQ(s->processes, 0u) << "the worker unregistered";
}

}  // namespace
}  // namespace errand::testing
