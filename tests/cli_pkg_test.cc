// The `errand` binary as a packaged tool: no job class of its own, log
// levels from the command line and the config, the generator's files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/process.h"

namespace errand::testing {
namespace {

TEST(CliPackaging, WorkerWithoutJobLibraryWarnsAndRunsNoDemoJobs) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  SpawnOptions o;
  o.cwd = dir.path();
  o.stdout_path = dir / "worker.out";
  o.stderr_path = dir / "worker.err";
  Process p({kCli, "worker", "--store", url, "-c", "1", "--heartbeat-interval", "0.5",
             "--process-ttl", "3"},
            o);
  ASSERT_TRUE(eventually(
      30s,
      [&] { return read_file(dir / "worker.out").find("worker started") != std::string::npos; }))
      << read_file(dir / "worker.out") << read_file(dir / "worker.err");
  const auto out = read_file(dir / "worker.out");
  EXPECT_NE(out.find("WARN: no job classes are loaded"), std::string::npos) << out;
  EXPECT_NE(out.find("queues=default "), std::string::npos)
      << "no example job's queue (mailers, reports, ...) is worked: " << out;
  EXPECT_EQ(out.find("SendWelcomeEmail"), std::string::npos) << out;
  EXPECT_EQ(read_file(dir / "worker.err"), "") << "the worker logs to stdout";
  p.signal(SIGTERM);
  auto st = p.wait_for(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
}

TEST(CliPackaging, LogLevelWarnSilencesPerJobLines) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  { std::ofstream(dir / "errand.yml") << "log_level: debug\nlog_format: json\n"; }
  ASSERT_EQ(run(cmd({"enqueue", "RecordRun", "[1]", "--store", url}), dir.path()).exit_code, 0);
  // --log-level overrides the config's debug.
  Worker w(dir, url, {"-C", (dir / "errand.yml").string(), "--log-level", "warn"},
           {{"ERRAND_RECORD_FILE", (dir / "record.txt").string()}});
  ASSERT_TRUE(eventually(30s, [&] { return stats(dir, url)["processed"] == 1; })) << w.output();
  EXPECT_EQ(w.stop(), 0) << w.output();
  const auto out = w.output();
  EXPECT_EQ(out.find("\"msg\":\"start\""), std::string::npos) << out;
  EXPECT_EQ(out.find("\"msg\":\"done\""), std::string::npos) << out;
  EXPECT_EQ(out.find("\"lvl\":\"INFO\""), std::string::npos) << out;
}

TEST(CliPackaging, BadLogLevelIsAUsageError) {
  TempDir dir;
  auto r = run(cmd({"worker", "--log-level", "loud"}), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  { std::ofstream(dir / "bad.yml") << "log_level: loud\n"; }
  r = run(cmd({"worker", "-C", (dir / "bad.yml").string()}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("log_level"), std::string::npos) << r.describe();
}

TEST(CliGenerator, NewJobWritesJobAndTestAndNeverOverwrites) {
  TempDir dir;
  auto r = run(cmd({"new", "job", "SendWelcomeEmail"}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto header = read_file(dir / "jobs/send_welcome_email_job.h");
  EXPECT_NE(header.find("struct SendWelcomeEmail {"), std::string::npos) << header;
  EXPECT_NE(header.find("static constexpr errand::JobOptions options"), std::string::npos);
  EXPECT_NE(read_file(dir / "jobs/send_welcome_email_job.cc").find("ERRAND_JOB(SendWelcomeEmail);"),
            std::string::npos);
  const auto test = read_file(dir / "tests/send_welcome_email_job_test.cc");
  EXPECT_NE(test.find("#include <errand/testing.h>"), std::string::npos) << test;
  EXPECT_NE(test.find("EXPECT_ENQUEUED(SendWelcomeEmail, 42);"), std::string::npos) << test;

  // Again: refused, and the edited file is kept.
  { std::ofstream(dir / "jobs/send_welcome_email_job.cc") << "// mine\n"; }
  r = run(cmd({"new", "job", "SendWelcomeEmail"}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.describe();
  EXPECT_EQ(read_file(dir / "jobs/send_welcome_email_job.cc"), "// mine\n");

  r = run(cmd({"new", "job", "send-email"}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_FALSE(std::filesystem::exists(dir / "jobs/send-email_job.cc"));
}

TEST(CliGenerator, NewProjectWritesACMakeProjectAndRefusesANonEmptyDir) {
  TempDir dir;
  auto r = run(cmd({"new", "project", "billing"}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto cmake = read_file(dir / "billing/CMakeLists.txt");
  EXPECT_NE(cmake.find("find_package(errand"), std::string::npos) << cmake;
  EXPECT_NE(cmake.find("add_library(billing_jobs SHARED"), std::string::npos) << cmake;
  for (const char* f : {"src/main.cc", "jobs/example_job.h", "jobs/example_job.cc",
                        "tests/example_job_test.cc", "README.md", ".gitignore"})
    EXPECT_TRUE(std::filesystem::exists(dir / "billing" / f)) << f;
  r = run(cmd({"new", "project", "billing"}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
}

}  // namespace
}  // namespace errand::testing
