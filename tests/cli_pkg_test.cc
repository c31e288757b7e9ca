// The `errand` binary as a packaged tool: no job class of its own (the demo
// loads the examples' library), and log levels from the command line.
#include <gtest/gtest.h>

#include <string>

#include "support/process.h"

namespace errand::testing {
namespace {

TEST(CliPackaging, WorkerWithoutJobLibraryWarnsAndRunsNoDemoJobs) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  SpawnOptions o;
  o.cwd = dir.path();
  o.stdout_path = dir / "worker.log";
  o.stderr_path = dir / "worker.log";
  Process p({kCli, "worker", "--store", url, "-c", "1", "--heartbeat-interval", "0.5",
             "--process-ttl", "3"},
            o);
  ASSERT_TRUE(eventually(30s, [&] {
    return read_file(dir / "worker.log").find("worker started") != std::string::npos;
  })) << read_file(dir / "worker.log");
  const auto out = read_file(dir / "worker.log");
  EXPECT_NE(out.find("WARN: no job classes are loaded"), std::string::npos) << out;
  EXPECT_NE(out.find("queues=default "), std::string::npos)
      << "no example job's queue (mailers, reports, ...) is worked: " << out;
  EXPECT_EQ(out.find("SendWelcomeEmail"), std::string::npos) << out;
  p.signal(SIGTERM);
  auto st = p.wait_for(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
}

TEST(CliPackaging, LogLevelWarnSilencesPerJobLines) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  ASSERT_EQ(run(cmd({"enqueue", "RecordRun", "[1]", "--store", url}), dir.path()).exit_code, 0);
  Worker w(dir, url, {"--log-level", "warn"},
           {{"ERRAND_RECORD_FILE", (dir / "record.txt").string()}});
  ASSERT_TRUE(eventually(30s, [&] { return stats(dir, url)["processed"] == 1; })) << w.output();
  EXPECT_EQ(w.stop(), 0) << w.output();
  const auto out = w.output();
  EXPECT_EQ(out.find(" INFO: start"), std::string::npos) << out;
  EXPECT_EQ(out.find(" INFO: done"), std::string::npos) << out;
  EXPECT_EQ(out.find(" INFO: "), std::string::npos) << out;
  EXPECT_EQ(read_file(dir / "record.txt"), "1\n") << "the job ran";
}

TEST(CliPackaging, BadLogLevelIsAUsageError) {
  TempDir dir;
  auto r = run(cmd({"worker", "--log-level", "loud"}), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.describe();
}

TEST(CliPackaging, DemoSaysWhereItsJobLibraryIsMissing) {
  TempDir dir;
  auto r = run(cmd({"demo", "--examples", (dir / "nope.so").string()}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("nope.so"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace errand::testing
