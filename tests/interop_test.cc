// Interop with real Ruby Sidekiq and the Redis store's no-loss guarantees,
// end to end: each test starts its own redis-server on a free loopback port,
// then either runs a Ruby script from interop/ (which starts `errand worker`
// processes and checks results through Sidekiq's API) or, for the chaos
// tests, drives errand worker processes itself.
//
// Built only when interop/tests.cmake defines ERRAND_INTEROP_JOBS_PATH.
#ifdef ERRAND_INTEROP_JOBS_PATH

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <charconv>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "errand/errand.h"
#include "server/acker.h"
#include "support/process.h"
#include "support/redis_server.h"

namespace errand::testing {
namespace {

constexpr const char* kInteropJobs = ERRAND_INTEROP_JOBS_PATH;
constexpr const char* kRuby = ERRAND_RUBY_PATH;
const std::filesystem::path kInteropDir = std::filesystem::path(ERRAND_SOURCE_DIR) / "interop";

bool ruby_installed() { return ::access(kRuby, X_OK) == 0; }

/// Starts a redis-server for one test, or fails/skips it with the reason.
#define START_REDIS(server)                                                \
  do {                                                                     \
    if (!RedisServer::installed()) GTEST_SKIP() << "redis-server missing"; \
    std::string why;                                                       \
    ASSERT_TRUE((server).start(&why)) << why;                              \
  } while (0)

/// Runs `ruby interop/<script>` against `redis`; fails the test with the
/// script's output unless it exits 0. Every process the script started is
/// killed afterwards (they share its process group).
void run_ruby(const std::string& script, const RedisServer& redis, const TempDir& dir,
              std::map<std::string, std::string> env = {}) {
  ASSERT_TRUE(ruby_installed()) << "ruby not found at " << kRuby
                                << " (scripts/install-deps.sh installs it)";
  env["REDIS_URL"] = redis.url();
  env["ERRAND_CLI"] = kCli;
  env["ERRAND_INTEROP_JOBS"] = kInteropJobs;
  env["INTEROP_WORKDIR"] = dir.path().string();
  SpawnOptions o;
  o.cwd = dir.path();
  o.env = std::move(env);
  o.stdout_path = dir / (script + ".log");
  o.stderr_path = o.stdout_path;
  Process ruby({kRuby, (kInteropDir / script).string()}, o);
  auto status = ruby.wait_for(std::chrono::seconds(240));
  ::kill(-ruby.pid(), SIGKILL);  // stragglers in the script's process group
  const std::string output = read_file(o.stdout_path);
  ASSERT_TRUE(status.has_value()) << script << " did not finish within 240 s:\n" << output;
  ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << script << " failed (wait status " << *status << "):\n"
      << output;
  std::cout << output.substr(output.rfind('\n', output.size() - 2) + 1);
}

// ---- Ruby Sidekiq ↔ errand -----------------------------------------------------

// Each script runs against its own redis-server and errand workers it starts
// itself (interop/helper.rb); the script's checks are the assertions.
struct RubyScript {
  const char* test;  ///< the test's name
  const char* file;  ///< interop/<file>
};
inline void PrintTo(const RubyScript& s, std::ostream* os) { *os << s.file; }

class Interop : public ::testing::TestWithParam<RubyScript> {};

TEST_P(Interop, RubyScriptPasses) {
  RedisServer redis;
  START_REDIS(redis);
  TempDir dir;
  run_ruby(GetParam().file, redis, dir);
}

INSTANTIATE_TEST_SUITE_P(
    Scripts, Interop,
    ::testing::Values(RubyScript{"RubyClientToErrandWorker", "ruby_to_errand.rb"},
                      RubyScript{"PayloadVariantsOfSidekiq7And8", "payload_variants.rb"},
                      RubyScript{"ActiveJobThroughRailsSidekiqAdapter", "active_job.rb"},
                      RubyScript{"SidekiqApiViewsAndActionsOnErrandWorker", "api_views.rb"},
                      RubyScript{"SidekiqWebUiRendersErrandData", "web_ui.rb"},
                      RubyScript{"MalformedPayloadsGoToDeadSet", "malformed.rb"}),
    [](const ::testing::TestParamInfo<RubyScript>& p) { return std::string(p.param.test); });

TEST(InteropClient, ErrandClientToRubySidekiq) {
  RedisServer redis;
  START_REDIS(redis);
  TempDir dir;
  // errand::Client pushes from C++ (the script adds `errand enqueue` pushes).
  auto client = Client::open(redis.url());
  ASSERT_TRUE(client.ok()) << client.error().message();
  JobDescriptor echo;  // a Ruby class: nothing to run here, only its name
  echo.name = "Interop::EchoJob";
  std::vector<Json> args;
  for (int i = 0; i < 25; ++i) args.push_back(Json::array({Json{{"bulk", i}}}));
  PushOptions to_ruby;
  to_ruby.queue = "ruby_side";
  auto jids = client->push_bulk(echo, args, to_ruby);
  ASSERT_TRUE(jids.ok()) << jids.error().message();
  PushOptions later = to_ruby;
  later.at = std::chrono::system_clock::now() + std::chrono::seconds(2);
  auto scheduled = client->push(echo, Json::array({"scheduled by errand::Client"}), later);
  ASSERT_TRUE(scheduled.ok()) << scheduled.error().message();
  std::string joined;
  for (const auto& j : *jids) joined += (joined.empty() ? "" : ",") + j;
  run_ruby("errand_to_ruby.rb", redis, dir,
           {{"ERRAND_PUSHED_JIDS", joined}, {"ERRAND_SCHEDULED_JID", *scheduled}});
}

// errand's batch fields in Sidekiq's job hash ("bid", "cb_bid", "cb_event"):
// a batch and a workflow pushed here, read by Sidekiq's API and Web UI and
// run by an errand worker in interop/batch_views.rb; afterwards the batch
// succeeded and the workflow's second step got the first one's result.
TEST(InteropClient, BatchJobsInTheQueueAreReadBySidekiq) {
  RedisServer redis;
  START_REDIS(redis);
  TempDir dir;
  auto client = Client::open(redis.url());
  ASSERT_TRUE(client.ok()) << client.error().message();
  PushOptions to_interop;
  to_interop.queue = "interop";
  JobDescriptor echo;  // defined in the interop jobs library, not here
  echo.name = "Interop::EchoJob";
  Batch batch(*client, "interop batch", "interop");
  batch.callback(BatchEvent::success, "Interop::EchoJob", Json::array({"batch done"}), to_interop);
  ASSERT_TRUE(batch.jobs([&](Client& c) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.push(echo, Json::array({i}), to_interop).ok());
  }));
  Workflow wf(*client, "interop workflow", "interop");
  auto first = wf.step("Interop::EchoJob", Json::array({"first"}), to_interop);
  auto second = wf.after(wf.step("Interop::EchoJob", Json::array(), to_interop), first);
  ASSERT_TRUE(wf.start().ok());
  run_ruby("batch_views.rb", redis, dir, {{"BATCH_BID", batch.bid()}, {"WORKFLOW_BID", wf.bid()}});
  auto st = client->batch_status(batch.bid());
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_TRUE(st->success);
  auto wst = client->batch_status(wf.bid());
  ASSERT_TRUE(wst.ok()) << wst.error().message();
  EXPECT_TRUE(wst->success);
  EXPECT_EQ(client->status(second.jid)->state, JobState::succeeded);
}

// ---- chaos: no job lost ---------------------------------------------------------

/// An `errand worker` process running Interop::RecordJob from queue "chaos".
std::unique_ptr<Process> chaos_worker(const TempDir& dir, const std::string& url,
                                      const std::string& name, int concurrency = 8) {
  std::vector<std::string> argv{kCli,
                                "worker",
                                "-r",
                                kInteropJobs,
                                "--store",
                                url,
                                "-q",
                                "chaos",
                                "-c",
                                std::to_string(concurrency),
                                "--heartbeat-interval",
                                "0.5",
                                "--process-ttl",
                                "3",
                                "--poll-interval",
                                "0.2",
                                "--rescue-interval",
                                "0.5",
                                "-t",
                                "5"};
  SpawnOptions o;
  o.cwd = dir.path();
  o.env = {{"ERRAND_INTEROP_OUT", (dir / "record.txt").string()}};
  o.stdout_path = dir / (name + ".log");
  o.stderr_path = o.stdout_path;
  return std::make_unique<Process>(argv, o);
}

/// How many times each job number was recorded.
std::map<std::int64_t, int> recorded(const TempDir& dir) {
  std::map<std::int64_t, int> out;
  const std::string text = read_file(dir / "record.txt");
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // a line is written whole or not at all
    std::int64_t n = 0;
    auto res = std::from_chars(text.data() + pos, text.data() + nl, n);
    if (res.ec == std::errc() && res.ptr == text.data() + nl) ++out[n];
    pos = nl + 1;
  }
  return out;
}

std::size_t total_runs(const std::map<std::int64_t, int>& runs) {
  std::size_t total = 0;
  for (const auto& [n, c] : runs) total += static_cast<std::size_t>(c);
  return total;
}

/// Pushes Interop::RecordJob(n) for n in [from, to), `at` 0 = now.
void push_records(const std::string& url, int from, int to, double at = 0) {
  auto client = Client::open(url);
  ASSERT_TRUE(client.ok()) << client.error().message();
  JobDescriptor record;  // the class lives in the interop jobs library
  record.name = "Interop::RecordJob";
  record.queue = "chaos";
  PushOptions o;
  if (at > 0)
    o.at = SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(at)));
  for (int start = from; start < to; start += 1000) {
    std::vector<Json> args;
    for (int n = start; n < std::min(to, start + 1000); ++n) args.push_back(Json::array({n}));
    auto jids = client->push_bulk(record, args, o);
    ASSERT_TRUE(jids.ok()) << jids.error().message();
  }
}

/// Jobs still anywhere in Redis: waiting, scheduled, retrying or claimed.
long long jobs_left(RawRedis& r) {
  long long n = r.run({"LLEN", "queue:chaos"}).integer + r.run({"ZCARD", "schedule"}).integer +
                r.run({"ZCARD", "retry"}).integer;
  for (const auto& k : r.keys("errand:inprogress:*:queue:*")) n += r.run({"LLEN", k}).integer;
  return n;
}

std::string describe_missing(const std::map<std::int64_t, int>& runs, int from, int to) {
  std::string out;
  int missing = 0;
  for (int n = from; n < to; ++n)
    if (!runs.contains(n) && ++missing <= 10) out += std::to_string(n) + " ";
  return std::to_string(missing) + " missing, e.g. " + out;
}

/// Everything in [0, total) ran; waits up to `timeout`.
void expect_all_ran(const TempDir& dir, int total, std::chrono::seconds timeout) {
  const bool done = eventually(timeout, [&] {
    auto runs = recorded(dir);
    return runs.size() == static_cast<std::size_t>(total);
  });
  auto runs = recorded(dir);
  EXPECT_TRUE(done) << "not every job ran within " << timeout.count()
                    << " s: " << describe_missing(runs, 0, total);
}

TEST(InteropChaos, SigkillWorkerDuring10kJobsLosesNothing) {
  RedisServer redis;
  START_REDIS(redis);
  TempDir dir;
  constexpr int kJobs = 12'000;
  constexpr int kConcurrency = 8;
  push_records(redis.url(), 0, kJobs);
  if (HasFatalFailure()) return;

  // Two workers killed with SIGKILL mid-stream, each replaced by a new one.
  auto w = chaos_worker(dir, redis.url(), "worker-0", kConcurrency);
  int kills = 0;
  for (std::size_t at : {2'000u, 6'000u}) {
    ASSERT_TRUE(eventually(120s, [&] { return total_runs(recorded(dir)) >= at; }))
        << "fewer than " << at << " jobs ran within 120 s; worker log:\n"
        << read_file(dir / ("worker-" + std::to_string(kills) + ".log"));
    w->signal(SIGKILL);
    ASSERT_TRUE(w->wait_for(10s).has_value());
    ++kills;
    w = chaos_worker(dir, redis.url(), "worker-" + std::to_string(kills), kConcurrency);
  }
  expect_all_ran(dir, kJobs, 180s);
  auto raw = redis.raw();
  EXPECT_TRUE(eventually(30s, [&] { return jobs_left(*raw) == 0; }))
      << jobs_left(*raw) << " jobs still in redis";
  auto runs = recorded(dir);
  const std::size_t duplicates = total_runs(runs) - runs.size();
  std::cout << "ran " << runs.size() << " distinct jobs, " << duplicates << " re-runs after "
            << kills << " SIGKILLs\n";
  // At least once; a re-run is only a job that was in flight when its worker
  // died: running, or finished with its acknowledgement pending or being
  // stored (at most kPendingPerThread × concurrency each; src/server/acker.h).
  EXPECT_LE(duplicates, static_cast<std::size_t>(kills) *
                            ((Acker::kMaxThreads + 1) * Acker::kPendingPerThread + 1) *
                            static_cast<std::size_t>(kConcurrency));
  w->signal(SIGTERM);
  auto st = w->wait_for(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
}

TEST(InteropChaos, RedisRestartWithAofLosesNothing) {
  RedisServerOptions aof;
  aof.appendonly = true;
  RedisServer redis(aof);
  START_REDIS(redis);
  TempDir dir;
  constexpr int kBefore = 6'000;
  constexpr int kAfter = 2'000;
  push_records(redis.url(), 0, kBefore);
  if (HasFatalFailure()) return;
  auto a = chaos_worker(dir, redis.url(), "worker-a", 4);
  auto b = chaos_worker(dir, redis.url(), "worker-b", 4);
  ASSERT_TRUE(eventually(120s, [&] { return total_runs(recorded(dir)) >= 1'500; }))
      << "workers did not get going; log:\n"
      << read_file(dir / "worker-a.log");

  redis.stop();                     // SIGTERM, AOF with appendfsync always
  std::this_thread::sleep_for(1s);  // the workers see the outage (not an assertion)
  std::string why;
  ASSERT_TRUE(redis.start(&why)) << why;

  // A client started after the restart adds more work.
  push_records(redis.url(), kBefore, kBefore + kAfter);
  if (HasFatalFailure()) return;
  expect_all_ran(dir, kBefore + kAfter, 180s);
  auto raw = redis.raw();
  EXPECT_TRUE(eventually(30s, [&] { return jobs_left(*raw) == 0; }))
      << jobs_left(*raw) << " jobs still in redis";
  auto runs = recorded(dir);
  std::cout << "ran " << runs.size() << " distinct jobs, " << total_runs(runs) - runs.size()
            << " re-runs across a redis restart\n";
  EXPECT_TRUE(a->running()) << "worker a died:\n" << read_file(dir / "worker-a.log");
  EXPECT_TRUE(b->running()) << "worker b died:\n" << read_file(dir / "worker-b.log");
  for (auto* w : {a.get(), b.get()}) {
    w->signal(SIGTERM);
    auto st = w->wait_for(30s);
    ASSERT_TRUE(st.has_value());
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
  }
}

TEST(InteropChaos, ThreeWorkersWithScheduledJobsRunEachJobExactlyOnce) {
  RedisServer redis;
  START_REDIS(redis);
  TempDir dir;
  constexpr int kNow = 3'000;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 300;
  constexpr int kTotal = kNow + kBatches * kPerBatch;
  std::vector<std::unique_ptr<Process>> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(chaos_worker(dir, redis.url(), "worker-" + std::to_string(i), 4));
  // Scheduled batches coming due over the next ~5 s while all three pollers run.
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int b = 0; b < kBatches; ++b) {
    const int from = kNow + b * kPerBatch;
    push_records(redis.url(), from, from + kPerBatch, now + 0.5 * (b + 1));
    if (HasFatalFailure()) return;
  }
  push_records(redis.url(), 0, kNow);
  if (HasFatalFailure()) return;

  expect_all_ran(dir, kTotal, 180s);
  auto raw = redis.raw();
  // Once nothing is waiting, scheduled or claimed, every run has been recorded.
  ASSERT_TRUE(eventually(60s, [&] { return jobs_left(*raw) == 0; }))
      << jobs_left(*raw) << " jobs still in redis";
  auto runs = recorded(dir);
  std::vector<std::int64_t> twice;
  for (const auto& [n, c] : runs)
    if (c != 1) twice.push_back(n);
  EXPECT_TRUE(twice.empty()) << twice.size() << " jobs ran more than once, e.g. " << twice.front();
  EXPECT_EQ(total_runs(runs), static_cast<std::size_t>(kTotal));
  for (std::size_t i = 0; i < workers.size(); ++i) {
    workers[i]->signal(SIGTERM);
    auto st = workers[i]->wait_for(30s);
    ASSERT_TRUE(st.has_value());
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0)
        << read_file(dir / ("worker-" + std::to_string(i) + ".log"));
  }
}

}  // namespace
}  // namespace errand::testing

#endif  // ERRAND_INTEROP_JOBS_PATH
