// `errand new job` and `errand new project`: the files, the refusals. That a
// generated project builds against an installed errand and its test passes
// is checked by the consumer test (tests/consumer/).
#include <gtest/gtest.h>

#include <string>

#include "support/process.h"

namespace errand::testing {
namespace {

/// `errand ARGS` run in `dir` (where `errand new` writes).
RunResult in_dir(const TempDir& dir, std::vector<std::string> args) {
  SpawnOptions o;
  o.cwd = dir.path();
  std::vector<std::string> argv = cmd({});
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, dir.path(), 60s, o);
}

TEST(CliNew, JobWritesTheClassItsSourceAndItsTest) {
  TempDir dir;
  auto r = in_dir(dir, {"new", "job", "SendWelcomeEmail"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto header = read_file(dir / "jobs/send_welcome_email_job.h");
  const auto source = read_file(dir / "jobs/send_welcome_email_job.cc");
  const auto test = read_file(dir / "tests/send_welcome_email_job_test.cc");
  EXPECT_NE(header.find("struct SendWelcomeEmail {"), std::string::npos) << header;
  EXPECT_NE(header.find("static constexpr errand::JobOptions options"), std::string::npos);
  EXPECT_NE(source.find("void SendWelcomeEmail::perform("), std::string::npos) << source;
  EXPECT_NE(source.find("ERRAND_JOB(SendWelcomeEmail);"), std::string::npos) << source;
  EXPECT_NE(test.find("#include <errand/testing.h>"), std::string::npos) << test;
  EXPECT_NE(test.find("EXPECT_ENQUEUED(SendWelcomeEmail, 42);"), std::string::npos) << test;
  EXPECT_NE(r.out.find("create ./jobs/send_welcome_email_job.cc"), std::string::npos) << r.out;
}

TEST(CliNew, FileNamesFollowTheClassName) {
  TempDir dir;
  ASSERT_EQ(in_dir(dir, {"new", "job", "HelloJob"}).exit_code, 0);
  ASSERT_EQ(in_dir(dir, {"new", "job", "HTTPPing2"}).exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "jobs/hello_job.cc"));
  EXPECT_TRUE(std::filesystem::exists(dir / "tests/hello_job_test.cc"));
  EXPECT_TRUE(std::filesystem::exists(dir / "jobs/http_ping2_job.cc"));
}

TEST(CliNew, JobRefusesToOverwrite) {
  TempDir dir;
  std::filesystem::create_directories(dir / "tests");
  {
    std::ofstream mine(dir / "tests/send_welcome_email_job_test.cc");
    mine << "// mine\n";
  }
  auto r = in_dir(dir, {"new", "job", "SendWelcomeEmail"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("send_welcome_email_job_test.cc exists already"), std::string::npos)
      << r.describe();
  EXPECT_EQ(read_file(dir / "tests/send_welcome_email_job_test.cc"), "// mine\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "jobs/send_welcome_email_job.cc"))
      << "nothing is written when one file exists";
  // And a second generation of the same job is refused likewise.
  TempDir again;
  ASSERT_EQ(in_dir(again, {"new", "job", "Ping"}).exit_code, 0);
  EXPECT_EQ(in_dir(again, {"new", "job", "Ping"}).exit_code, 1);
}

TEST(CliNew, JobRefusesBadClassNames) {
  TempDir dir;
  for (const std::string bad :
       {"send_welcome", "1Job", "Send-Welcome", "Billing::Charge", "", "class", "Send Welcome"}) {
    auto r = in_dir(dir, {"new", "job", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.describe();
    if (!bad.empty()) {
      EXPECT_NE(r.err.find("is not a job class name"), std::string::npos) << r.describe();
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "jobs"));
}

TEST(CliNew, ProjectWritesACMakeProjectWithAJobAndItsTest) {
  TempDir dir;
  auto r = in_dir(dir, {"new", "project", "shop-app"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto cmake = read_file(dir / "shop-app/CMakeLists.txt");
  EXPECT_NE(cmake.find("project(shop_app LANGUAGES CXX)"), std::string::npos) << cmake;
  EXPECT_NE(cmake.find("find_package(errand " ERRAND_VERSION " REQUIRED)"), std::string::npos)
      << cmake;
  EXPECT_NE(cmake.find("add_library(shop_app_jobs SHARED"), std::string::npos) << cmake;
  EXPECT_NE(cmake.find("errand::errand_testing"), std::string::npos) << cmake;
  EXPECT_NE(read_file(dir / "shop-app/main.cc").find("perform_async<HelloJob>(42)"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "shop-app/jobs/hello_job.cc"));
  EXPECT_TRUE(std::filesystem::exists(dir / "shop-app/tests/hello_job_test.cc"));
  EXPECT_TRUE(std::filesystem::exists(dir / "shop-app/README.md"));
}

TEST(CliNew, ProjectRefusesANonEmptyDirectoryAndBadNames) {
  TempDir dir;
  std::filesystem::create_directories(dir / "taken");
  { std::ofstream(dir / "taken/keep.txt") << "x"; }
  auto r = in_dir(dir, {"new", "project", "taken"});
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.describe();
  EXPECT_FALSE(std::filesystem::exists(dir / "taken/CMakeLists.txt"));
  auto bad = in_dir(dir, {"new", "project", "9lives"});
  EXPECT_EQ(bad.exit_code, 2) << bad.describe();
  EXPECT_FALSE(std::filesystem::exists(dir / "9lives"));
}

}  // namespace
}  // namespace errand::testing
