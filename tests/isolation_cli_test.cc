// `errand worker --isolation process` as a user runs it: a real worker
// process, job classes loaded from a library, jobs that crash among ordinary
// ones. The worker survives each crash; the crashing jobs end in the dead set
// with the signal named; every ordinary job runs.
#include <gtest/gtest.h>

#include <filesystem>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/process.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCrashJobs = ERRAND_CRASH_JOBS_PATH;

TEST(IsolationCli, AWorkerWithProcessIsolationSurvivesCrashingJobs) {
#if ERRAND_TEST_SANITIZED
  GTEST_SKIP()
      << "the sanitizer ends a deliberately crashing job its own way: tests/sanitize/README.md";
#endif
  TempDir dir;
  const std::string url = "sqlite://" + (dir / "crash.db").string();
  {
    auto client = Client::open(url);
    ASSERT_TRUE(client.ok()) << client.error().message();
    JobDescriptor nothing, segv, abrt;
    nothing.name = "CrashNothing";
    segv.name = "CrashSegv";
    abrt.name = "CrashAbort";
    PushOptions o;
    o.queue = "crashy";
    PushOptions dies = o;
    dies.retry = Retry{0};
    dies.extra = Json{{"backtrace", 20}};
    std::vector<Json> args;
    for (int i = 0; i < 500; ++i) args.push_back(Json::array({i}));
    ASSERT_TRUE(client->push_bulk(nothing, args, o).ok());
    ASSERT_TRUE(client->push(segv, Json::array(), dies).ok());
    ASSERT_TRUE(client->push(abrt, Json::array(), dies).ok());
    ASSERT_TRUE(client->push_bulk(nothing, args, o).ok());
  }
  Process worker(
      cmd({"worker", "-r", kCrashJobs, "--store", url, "-q", "crashy", "-c", "4", "--isolation",
           "process", "--heartbeat-interval", "0.5", "--process-ttl", "3"}),
      SpawnOptions{dir.path(), {}, dir / "worker.log", dir / "worker.log"});
  auto store = open_store(url).value();
  ASSERT_TRUE(eventually(
      [&] {
        auto st = store->stats(wall()).value();
        return st.dead == 2 && st.enqueued == 0 && st.processed == 1002;
      },
      60s))
      << read_file(dir / "worker.log");
  EXPECT_TRUE(worker.running()) << read_file(dir / "worker.log");
  worker.signal(SIGTERM);
  auto status = worker.wait_for(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << read_file(dir / "worker.log");

  std::map<std::string, Json> dead;
  const auto entries = store->set_range(SetKind::dead, 0, 10).value();
  for (const auto& e : entries) {
    Json doc = Json::parse(e.payload);
    dead[doc["class"].get<std::string>()] = doc;
  }
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead["CrashSegv"]["error_class"], "errand::WorkerCrashed");
  EXPECT_NE(dead["CrashSegv"]["error_message"].get<std::string>().find("SIGSEGV (signal 11)"),
            std::string::npos);
  EXPECT_NE(dead["CrashSegv"]["error_backtrace"].dump().find("errand_test_crash_segv_here"),
            std::string::npos)
      << dead["CrashSegv"].dump();
  EXPECT_NE(dead["CrashAbort"]["error_message"].get<std::string>().find("SIGABRT (signal 6)"),
            std::string::npos);
  EXPECT_NE(read_file(dir / "worker.log").find("errand_test_crash_segv_here"), std::string::npos);
}

// Thread mode, the documented price of threads: a segfaulting job takes its
// worker down. Restarted (as systemd would), each worker rescues the job and
// dies again, until the store has counted max_crashes (3) deaths: then the
// job goes to the dead set as errand::PoisonPill and the queue drains. With
// one thread, the suspect runs with nothing claimed ahead of it, so no
// ordinary job is counted as a crash three times.
TEST(IsolationCli, AJobThatKeepsKillingThreadWorkersBecomesAPoisonPill) {
  TempDir dir;
  const std::string url = "sqlite://" + (dir / "poison.db").string();
  constexpr int kMarks = 150;
  {
    auto client = Client::open(url);
    ASSERT_TRUE(client.ok()) << client.error().message();
    JobDescriptor mark, segv;
    mark.name = "CrashMark";
    segv.name = "CrashSegv";
    PushOptions o;
    o.queue = "crashy";
    std::vector<Json> first, second;
    for (int i = 0; i < kMarks; ++i) (i < kMarks / 2 ? first : second).push_back(Json::array({i}));
    ASSERT_TRUE(client->push_bulk(mark, first, o).ok());
    ASSERT_TRUE(client->push(segv, Json::array(), o).ok());  // retry on: a poison pill ignores it
    ASSERT_TRUE(client->push_bulk(mark, second, o).ok());
  }
  auto store = open_store(url).value();
  auto marks = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      n += e.path().filename().string().starts_with("ran-");
    return n;
  };
  int deaths = 0;
  std::string logs;
  for (int start = 0; start < 6; ++start) {
    Process worker(
        cmd({"worker", "-r", kCrashJobs, "--store", url, "-q", "crashy", "-c", "1",
             "--heartbeat-interval", "0.2", "--process-ttl", "1", "--rescue-interval", "0.2"}),
        SpawnOptions{dir.path(), {}, dir / "worker.log", dir / "worker.log"});
    const bool drained = eventually(
        [&] {
          if (!worker.running()) return true;
          auto st = store->stats(wall()).value();
          return st.dead == 1 && st.enqueued == 0 && marks() == kMarks;
        },
        60s);
    logs += read_file(dir / "worker.log");
    ASSERT_TRUE(drained) << logs;
    if (worker.running()) {
      worker.signal(SIGTERM);
      auto status = worker.wait_for(30s);
      ASSERT_TRUE(status.has_value());
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << logs;
      break;
    }
    ++deaths;
  }
  EXPECT_EQ(deaths, 3) << "max_crashes workers died, no more:\n" << logs;
  EXPECT_EQ(marks(), kMarks) << "every ordinary job ran";
  const auto dead = store->set_range(SetKind::dead, 0, 10).value();
  ASSERT_EQ(dead.size(), 1u) << logs;
  const Json doc = Json::parse(dead[0].payload);
  EXPECT_EQ(doc["class"], "CrashSegv");
  EXPECT_EQ(doc["error_class"], "errand::PoisonPill") << doc;
  EXPECT_EQ(doc["errand_crashes"], 3) << doc;
  EXPECT_NE(doc["error_message"].get<std::string>().find("3 workers died"), std::string::npos)
      << doc;
  EXPECT_EQ(store->stats(wall())->enqueued, 0u);
}

}  // namespace
}  // namespace errand::testing
