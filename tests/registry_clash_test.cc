// Two registrations of one job class name are an error naming both sources:
// in the Registry itself, and in a real `errand worker` loading real shared
// libraries (tests/jobs/clash*.cc, built by tests/jobs/clash.cmake), which
// refuses to start rather than run one of the two classes' code.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "errand/errand.h"
#include "support/process.h"

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

struct FirstJob {
  void perform(int) {}
};
struct SecondJob {
  void perform(int) {}
};

JobDescriptor described(std::string source, bool override_existing = false) {
  JobDescriptor d = describe_job<FirstJob>("Shared");
  d.source = std::move(source);
  d.override_existing = override_existing;
  return d;
}

TEST(RegistryClash, SecondRegistrationOfANameIsAnErrorNamingBoth) {
  Registry r;
  r.add(described("liba.so (a.cc:3)"));
  ASSERT_TRUE(r.check().ok());
  r.add(described("libb.so (b.cc:7)"));
  auto st = r.check();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), Errc::invalid_argument);
  const auto msg = st.message();
  EXPECT_NE(msg.find("'Shared'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("liba.so (a.cc:3)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("libb.so (b.cc:7)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ERRAND_JOB_OVERRIDE"), std::string::npos) << msg;
}

TEST(RegistryClash, AnOverrideWinsInEitherOrder) {
  for (bool override_first : {false, true}) {
    Registry r;
    JobDescriptor plain = described("plain");
    JobDescriptor over = describe_job<SecondJob>("Shared");
    over.source = "override";
    over.override_existing = true;
    if (override_first) {
      r.add(std::move(over));
      r.add(std::move(plain));
    } else {
      r.add(std::move(plain));
      r.add(std::move(over));
    }
    EXPECT_TRUE(r.check().ok()) << r.check().message();
    ASSERT_NE(r.find("Shared"), nullptr);
    EXPECT_EQ(r.find("Shared")->source, "override") << "override first: " << override_first;
    EXPECT_EQ(r.name_of(typeid(SecondJob)), "Shared");
  }
}

TEST(RegistryClash, TwoOverridesClash) {
  Registry r;
  r.add(described("one", true));
  r.add(described("two", true));
  EXPECT_FALSE(r.check().ok());
}

TEST(RegistryClash, ErrandJobNamesTheExecutableAndTheFile) {
  const JobSite site{&kCli, "tests/x.cc", "tests/x.h", 12, false};
  const auto where = detail::describe_site(site);
  const auto self = std::filesystem::read_symlink("/proc/self/exe").filename().string();
  EXPECT_NE(where.find(self), std::string::npos) << where;
  EXPECT_NE(where.find("tests/x.cc, ERRAND_JOB at tests/x.h:12"), std::string::npos) << where;
}

// ---- a real worker with real libraries ----------------------------------------------

constexpr const char* kClashA = ERRAND_CLASH_A_PATH;
constexpr const char* kClashB = ERRAND_CLASH_B_PATH;
constexpr const char* kClashOverride = ERRAND_CLASH_OVERRIDE_PATH;
constexpr const char* kClashTwice = ERRAND_CLASH_TWICE_PATH;
constexpr const char* kWelcome = ERRAND_CLASH_WELCOME_PATH;

// Runs `errand worker ARGS`, which must refuse to start; returns its stderr.
std::string refused(const TempDir& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = cmd({"worker"});
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--store", sqlite_url(dir), "-c", "1"});
  auto r = run(argv, dir.path(), 30s);
  EXPECT_FALSE(r.timed_out) << "the worker started: " << r.describe();
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  return r.err;
}

TEST(CliJobClash, TwoLibrariesRegisteringOneNameRefuseToStart) {
  TempDir dir;
  for (auto [first, second] : {std::pair{kClashA, kClashB}, std::pair{kClashB, kClashA}}) {
    const auto err = refused(dir, {"-r", first, "-r", second});
    EXPECT_NE(err.find("'ClashJob' is registered twice"), std::string::npos) << err;
    EXPECT_NE(err.find(first), std::string::npos) << err;
    EXPECT_NE(err.find(second), std::string::npos) << err;
    EXPECT_NE(err.find("clash_a.cc"), std::string::npos) << err;
    EXPECT_NE(err.find("clash_b.cc"), std::string::npos) << err;
  }
  EXPECT_EQ(stats(dir, sqlite_url(dir))["processes"], 0) << "no worker registered itself";
}

TEST(CliJobClash, OneLibraryRegisteringTwiceRefusesToStartNamingBothFiles) {
  TempDir dir;
  const auto err = refused(dir, {"-r", kClashTwice});
  EXPECT_NE(err.find("'TwiceJob' is registered twice"), std::string::npos) << err;
  EXPECT_NE(err.find(kClashTwice), std::string::npos) << err;
  EXPECT_NE(err.find("clash_twice_1.cc, ERRAND_JOB at"), std::string::npos) << err;
  EXPECT_NE(err.find("clash_twice_2.cc, ERRAND_JOB at"), std::string::npos) << err;
}

TEST(CliJobClash, ReadmeSendWelcomeEmailClashesWithTheExampleInsteadOfLosingToIt) {
  TempDir dir;
  const auto err = refused(dir, {"-r", kExamples, "-r", kWelcome});
  EXPECT_NE(err.find("'SendWelcomeEmail' is registered twice"), std::string::npos) << err;
  EXPECT_NE(err.find(kWelcome), std::string::npos) << err;
  EXPECT_NE(err.find("send_welcome_email.cc"), std::string::npos) << err;
}

TEST(CliJobClash, AnOverrideRunsInEitherLoadOrder) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  const auto record = dir / "record.txt";
  for (auto [first, second] :
       {std::pair{kClashA, kClashOverride}, std::pair{kClashOverride, kClashA}}) {
    auto r = run(cmd({"enqueue", "ClashJob", "[7]", "--store", url}), dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const auto before = count_lines(record);
    Worker w(dir, url, {"-q", "default", "-r", first, "-r", second},
             {{"ERRAND_RECORD_FILE", record.string()}});
    ASSERT_TRUE(eventually(30s, [&] { return count_lines(record) > before; })) << w.output();
    EXPECT_EQ(w.stop(), 0) << w.output();
  }
  EXPECT_EQ(read_file(record), "override 7\noverride 7\n");
}

}  // namespace
}  // namespace errand::testing
