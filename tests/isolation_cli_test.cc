// `errand worker --isolation process` as a user runs it: a real worker
// process, job classes loaded from a library, jobs that crash among ordinary
// ones. The worker survives each crash; the crashing jobs end in the dead set
// with the signal named; every ordinary job runs.
#include <gtest/gtest.h>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/process.h"

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCrashJobs = ERRAND_CRASH_JOBS_PATH;

TEST(IsolationCli, AWorkerWithProcessIsolationSurvivesCrashingJobs) {
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
        auto st = store->stats().value();
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

}  // namespace
}  // namespace errand::testing
