// The `errand` binary as a packaged tool: no job class of its own (the demo
// loads the examples' library), the dashboard a module loaded only when used
// (liberrand_web.so), and log levels from the command line.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace errand::testing {
namespace {

/// The shared objects a running process has mapped (/proc/<pid>/maps).
std::string maps_of(pid_t pid) { return read_file("/proc/" + std::to_string(pid) + "/maps"); }

/// Starts `errand worker` on a fresh SQLite file with `extra` flags and waits
/// until it has started; its output goes to dir/worker.log.
std::unique_ptr<Process> started_worker(const TempDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> argv = {kCli, "worker", "--store", sqlite_url(dir), "-c", "1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  SpawnOptions o;
  o.cwd = dir.path();
  o.stdout_path = dir / "worker.log";
  o.stderr_path = dir / "worker.log";
  auto p = std::make_unique<Process>(argv, o);
  EXPECT_TRUE(eventually(30s, [&] {
    return read_file(dir / "worker.log").find("worker started") != std::string::npos;
  })) << read_file(dir / "worker.log");
  return p;
}

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

TEST(CliPackaging, PlainWorkerDoesNotMapTheDashboard) {
  TempDir dir;
  auto p = started_worker(dir, {});
  const auto maps = maps_of(p->pid());
  EXPECT_EQ(maps.find("liberrand_web"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("libcpp-httplib"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("libssl"), std::string::npos) << maps;
  p->signal(SIGTERM);
  EXPECT_TRUE(p->wait_for(30s).has_value());
}

TEST(CliPackaging, WorkerWithWebLoadsTheDashboardModule) {
  TempDir dir;
  auto p = started_worker(dir, {"--web", "--web-port", "0"});
  const auto out = read_file(dir / "worker.log");
  EXPECT_NE(out.find("url=http://127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("INFO: dashboard"), std::string::npos) << out;
  EXPECT_NE(maps_of(p->pid()).find("/liberrand_web.so"), std::string::npos);
  p->signal(SIGTERM);
  EXPECT_TRUE(p->wait_for(30s).has_value());
}

TEST(CliPackaging, WebSaysWhereItsModuleIsMissing) {
  TempDir dir;
  SpawnOptions o;
  o.env["ERRAND_WEB_MODULE"] = (dir / "nope.so").string();
  const std::string want = "the dashboard module liberrand_web.so was not found at " +
                           (dir / "nope.so").string() +
                           "; reinstall errand or build with ERRAND_BUILD_WEB=ON";
  auto web = run(cmd({"web", "--store", sqlite_url(dir), "-p", "0"}), dir.path(), 60s, o);
  EXPECT_EQ(web.exit_code, 1) << web.describe();
  EXPECT_NE(web.err.find(want), std::string::npos) << web.describe();
  auto worker = run(cmd({"worker", "--store", sqlite_url(dir), "--web", "--web-port", "0"}),
                    dir.path(), 60s, o);
  EXPECT_EQ(worker.exit_code, 1) << worker.describe();
  EXPECT_NE(worker.err.find(want), std::string::npos) << worker.describe();
}

TEST(CliPackaging, WebRefusesALibraryThatIsNotItsModule) {
  TempDir dir;
  SpawnOptions o;
  o.env["ERRAND_WEB_MODULE"] = ERRAND_EXAMPLES_PATH;
  auto r = run(cmd({"web", "--store", sqlite_url(dir), "-p", "0"}), dir.path(), 60s, o);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("is not errand's dashboard module"), std::string::npos) << r.describe();
}

// A module of the same version and abi, built from other headers (a stale
// build), is refused before anything in it runs.
TEST(CliPackaging, WebRefusesTheModuleOfAnotherBuild) {
  TempDir dir;
  SpawnOptions o;
  o.env["ERRAND_WEB_MODULE"] = ERRAND_FOREIGN_WEB_MODULE;
  auto r = run(cmd({"web", "--store", sqlite_url(dir), "-p", "0"}), dir.path(), 60s, o);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("is the dashboard module of another build of errand"), std::string::npos)
      << r.describe();
  EXPECT_NE(r.err.find("headers 0123456789abcdef"), std::string::npos) << r.describe();
}

// libpq is loaded by the first postgres:// store (ERRAND_LAZY_LIBPQ); when
// it cannot be, the error says so and why, not that a connection could not
// be allocated.
TEST(CliPackaging, AMissingLibpqIsNamedAsTheCause) {
  TempDir dir;
  SpawnOptions o;
  o.env["ERRAND_LIBPQ"] = (dir / "libpq.so.5").string();
  auto r = run(cmd({"stats", "--store", "postgres://127.0.0.1:1/nowhere"}), dir.path(), 60s, o);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("cannot load libpq, which postgres:// stores need (Debian: apt-get install "
                       "libpq5): " +
                       (dir / "libpq.so.5").string()),
            std::string::npos)
      << r.describe();
}

}  // namespace
}  // namespace errand::testing
