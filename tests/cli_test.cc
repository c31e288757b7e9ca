// Process-level tests of the `errand` binary: the demo, usage and exit codes,
// enqueue and the admin commands, and bad input (config, classes, argument
// types, missing or locked databases, missing job libraries).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "errand/errand.h"
#include "support/process.h"

namespace errand::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// ---- the demo ------------------------------------------------------------------

TEST(CliDemo, FiveHundredJobsAllSucceed) {
  TempDir dir;
  SpawnOptions o;
  o.cwd = dir.path();
  auto r = run(cmd({"demo", "--jobs", "500"}), dir.path(), 180s, o);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(succeeded:\s+(\d+)/(\d+))"))) << r.out;
  EXPECT_EQ(m[1].str(), "500");
  EXPECT_EQ(m[2].str(), "500");
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(dead:\s+(\d+))"))) << r.out;
  EXPECT_EQ(m[1].str(), "0");
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(failed attempts:\s+(\d+))"))) << r.out;
  EXPECT_GE(std::stoi(m[1].str()), 1) << "the demo should show at least one failure and retry";
  EXPECT_NE(r.out.find("errand demo OK"), std::string::npos) << r.out;
  // The jobs really wrote their files.
  EXPECT_TRUE(std::filesystem::exists(dir / "mail/welcome-1000.eml"));
  EXPECT_TRUE(std::filesystem::exists(dir / "thumbs/photo-0000.ppm"));
  EXPECT_TRUE(std::filesystem::exists(dir / "reports/2000-01.txt"));
  EXPECT_EQ(read_file(dir / "thumbs/photo-0000.ppm").substr(0, 9), "P6\n64 48\n");

  // The reports ran as one batch: its on_success callback ran once, after
  // every report, and summed what they wrote.
  const std::regex callback_line(
      R"(batch callback SalesReportsSummary: (\d+) monthly reports, total sales ([0-9.]+))");
  ASSERT_TRUE(std::regex_search(r.out, m, callback_line)) << r.out;
  const int months = std::stoi(m[1].str());
  const double summary_total = std::stod(m[2].str());
  const std::string after = m.suffix();
  EXPECT_FALSE(std::regex_search(after, callback_line)) << "the callback ran twice:\n" << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(batch:.*: (\d+)/\1 succeeded, success, callback ran 1 time)")))
      << r.out;
  double sum = 0;
  int reports = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir / "reports")) {
    if (e.path().filename() == "summary.txt") continue;
    std::smatch t;
    const std::string text = read_file(e.path());
    ASSERT_TRUE(std::regex_search(text, t, std::regex(R"(total\s+([0-9.]+))"))) << e.path();
    sum += std::stod(t[1].str());
    ++reports;
  }
  EXPECT_EQ(months, reports);
  EXPECT_NEAR(summary_total, sum, 0.01 * reports);
  EXPECT_NE(read_file(dir / "reports/summary.txt").find(m[1].str() + " monthly reports"),
            std::string::npos);
}

// ---- usage and exit codes ------------------------------------------------------

TEST(CliUsage, ExitCodes) {
  TempDir dir;
  auto r = run(cmd({}), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  r = run(cmd({"worker", "--no-such-flag"}), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.describe();
  r = run(cmd({"frobnicate"}), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  r = run(cmd({"worker", "-c", "0"}), dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.describe();
  r = run(cmd({"--help"}), dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("worker"), std::string::npos);
  r = run(cmd({"version"}), dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out, std::string("errand ") + ERRAND_VERSION + "\n");
}

// ---- enqueue and the admin commands -----------------------------------------------

TEST(CliEnqueue, PrintsJidAndTheJobIsCounted) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  auto r =
      run(cmd({"enqueue", "-r", kExamples, "SendWelcomeEmail", R"([42, "en"])", "--store", url}),
          dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_TRUE(std::regex_match(r.out, std::regex("[0-9a-f]{24}\n"))) << r.out;
  auto s = stats(dir, url);
  EXPECT_EQ(s["enqueued"], 1) << s;
  EXPECT_EQ(s["scheduled"], 0) << s;
  auto qs = json_of(dir, cmd({"queues", "--store", url}));
  ASSERT_EQ(qs.size(), 1u) << qs;
  EXPECT_EQ(qs[0]["name"], "mailers") << "the class's own queue";
  EXPECT_EQ(qs[0]["size"], 1);

  // -q overrides the class's queue; a class unknown here goes as given.
  r = run(
      cmd({"enqueue", "Billing::Charge", "[1]", "-q", "critical", "--retry", "3", "--store", url}),
      dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  qs = json_of(dir, cmd({"queues", "--store", url}));
  ASSERT_EQ(qs.size(), 2u) << qs;
  EXPECT_EQ(qs[0]["name"], "critical");
}

TEST(CliEnqueue, BadArgumentsAreErrorsNotCrashes) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  auto r = run(cmd({"enqueue", "RecordRun", "[1,", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.describe();
  r = run(cmd({"enqueue", "RecordRun", R"({"n": 1})", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("JSON array"), std::string::npos) << r.describe();
  r = run(cmd({"enqueue", "RecordRun", "[1]", "--retry", "maybe", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  r = run(cmd({"enqueue", "RecordRun", "[1]", "--at", "next tuesday", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("ISO 8601"), std::string::npos) << r.describe();
  r = run(cmd({"enqueue", "RecordRun", "[1]", "--at", "2999-01-01", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("too far"), std::string::npos) << r.describe();
  r = run(cmd({"enqueue", "RecordRun", "[1]", "--store", "nosuch://x"}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.describe();
  // Nothing was enqueued by any of these.
  EXPECT_EQ(stats(dir, url)["enqueued"], 0);
}

TEST(CliSets, ScheduledRetriesDeadActions) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  auto r = run(cmd({"enqueue", "RecordRun", "[1]", "--in", "3600", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::string jid1 = r.out.substr(0, 24);
  r = run(cmd({"enqueue", "RecordRun", "[2]", "--at", "2200-01-02T03:04:05Z", "--store", url}),
          dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::string jid2 = r.out.substr(0, 24);

  auto list = json_of(dir, cmd({"scheduled", "--store", url}));
  ASSERT_EQ(list.size(), 2u) << list;
  EXPECT_EQ(list[0]["jid"], jid1) << "soonest first";
  EXPECT_NEAR(list[1]["score"].get<double>(), 7258215845.0, 1.0) << "--at 2200-01-02T03:04:05Z";
  r = run(cmd({"scheduled", "list", "--limit", "1", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find(jid1), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 of 2"), std::string::npos) << r.out;

  // kill: scheduled -> dead; retry: dead -> queue.
  r = run(cmd({"scheduled", "kill", jid1, "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto dead = json_of(dir, cmd({"dead", "list", "--store", url}));
  ASSERT_EQ(dead.size(), 1u) << dead;
  EXPECT_EQ(dead[0]["jid"], jid1);
  r = run(cmd({"dead", "retry", jid1, "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto s = stats(dir, url);
  EXPECT_EQ(s["dead"], 0) << s;
  EXPECT_EQ(s["enqueued"], 1) << s;
  EXPECT_EQ(s["scheduled"], 1) << s;

  // Unknown jid: error, exit 1. delete --all empties the set.
  r = run(cmd({"scheduled", "delete", "ffffffffffffffffffffffff", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  r = run(cmd({"scheduled", "delete", "--all", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(stats(dir, url)["scheduled"], 0);
  r = run(cmd({"queues", "clear", "default", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(stats(dir, url)["enqueued"], 0);
  (void)jid2;
}

// ---- bad input -----------------------------------------------------------------

TEST(CliConfig, MalformedYamlIsAnErrorWithTheLine) {
  TempDir dir;
  { std::ofstream(dir / "bad.yml") << "concurrency: 5\nqueues: [default, mailers\ntag: x\n"; }
  auto r = run(cmd({"worker", "-C", (dir / "bad.yml").string()}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("line"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("bad.yml"), std::string::npos) << r.describe();

  { std::ofstream(dir / "typo.yml") << "store: sqlite://x.db\nconcurrency: lots\n"; }
  r = run(cmd({"worker", "-C", (dir / "typo.yml").string()}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("concurrency"), std::string::npos) << r.describe();

  r = run(cmd({"stats", "-C", (dir / "missing.yml").string()}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("missing.yml"), std::string::npos) << r.describe();
}

TEST(CliWorker, MissingJobLibraryNamesTheFile) {
  TempDir dir;
  const auto lib = (dir / "libnothere.so").string();
  auto r = run(cmd({"worker", "-r", lib, "--store", sqlite_url(dir)}), dir.path(), 30s);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find(lib), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find("No such file"), std::string::npos)
      << "dlerror()'s reason: " << r.describe();
}

TEST(CliStore, MissingDatabaseDirectory) {
  TempDir dir;
  const std::string url = "sqlite:///nonexistent/dir/x.db";
  auto r = run(cmd({"enqueue", "RecordRun", "[1]", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("/nonexistent/dir"), std::string::npos) << r.describe();
  r = run(cmd({"worker", "--store", url}), dir.path(), 30s);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("/nonexistent/dir"), std::string::npos) << r.describe();
  r = run(cmd({"stats", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
}

/// Holds SQLite's write lock on a database until release() or destruction.
class WriteLock {
 public:
  explicit WriteLock(const std::filesystem::path& db) {
    EXPECT_EQ(sqlite3_open(db.c_str(), &db_), SQLITE_OK);
    // A running worker may be in a short transaction (an ack, a stats flush):
    // wait for it rather than fail to take the lock.
    sqlite3_busy_timeout(db_, 10'000);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "");
    sqlite3_free(err);
  }
  ~WriteLock() { release(); }
  void release() {
    if (!db_) return;
    sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(CliStore, LockedDatabaseIsAClearErrorAndLosesNothing) {
  TempDir dir;
  const auto url = sqlite_url(dir, "?busy_timeout=200");
  auto r = run(cmd({"enqueue", "RecordRun", "[1]", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  {
    WriteLock lock(dir / "jobs.db");
    r = run(cmd({"enqueue", "RecordRun", "[2]", "--store", url}), dir.path());
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("lock"), std::string::npos) << r.describe();
  }
  r = run(cmd({"enqueue", "RecordRun", "[3]", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(stats(dir, url)["enqueued"], 2) << "jobs 1 and 3; the refused 2 was never enqueued";

  // A running worker rides out a lock held for a while: every job still runs.
  const auto record = dir / "record.txt";
  enqueue_record_runs(url, 4, 21);  // enough to keep the worker busy across the lock
  Worker w(dir, url, {"-q", "default"}, {{"ERRAND_RECORD_FILE", record.string()}});
  ASSERT_TRUE(eventually(30s, [&] { return count_lines(record) >= 1; })) << w.output();
  {
    WriteLock lock(dir / "jobs.db");
    std::this_thread::sleep_for(1500ms);
  }
  ASSERT_TRUE(eventually(60s, [&] { return count_lines(record) >= 19; }))
      << "jobs lost after the lock was released; recorded:\n"
      << read_file(record) << "\nworker:\n"
      << w.output();
  EXPECT_EQ(w.stop(), 0) << w.output();
  std::set<std::string> seen;
  std::istringstream in(read_file(record));
  for (std::string line; std::getline(in, line);) seen.insert(line);
  for (int n : {1, 3, 4, 10, 20}) EXPECT_TRUE(seen.count(std::to_string(n))) << "job " << n;
  EXPECT_FALSE(seen.count("2"));
}

TEST(CliWorker, UnknownClassGoesToRetriesAndTheWorkerGoesOn) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  const auto record = dir / "record.txt";
  auto r = run(cmd({"enqueue", "NoSuchJobAnywhere", "[1]", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  for (int i = 0; i < 5; ++i) {
    r = run(cmd({"enqueue", "RecordRun", "[" + std::to_string(i) + "]", "--store", url}),
            dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.describe();
  }
  Worker w(dir, url, {"-q", "default"}, {{"ERRAND_RECORD_FILE", record.string()}});
  ASSERT_TRUE(eventually(30s, [&] { return count_lines(record) >= 5; }))
      << "the worker stopped processing after the unknown class:\n"
      << w.output();
  Json retries;
  ASSERT_TRUE(eventually(30s, [&] {
    retries = json_of(dir, cmd({"retries", "--store", url}));
    return retries.size() == 1;
  })) << retries;
  EXPECT_EQ(w.stop(), 0) << w.output();
  const auto& p = retries[0]["payload"];
  EXPECT_EQ(p["class"], "NoSuchJobAnywhere");
  EXPECT_NE(p["error_class"].get<std::string>().find("UnknownJobClass"), std::string::npos) << p;
  EXPECT_NE(p["error_message"].get<std::string>().find("NoSuchJobAnywhere"), std::string::npos)
      << p;
  EXPECT_EQ(p["retry_count"], 0) << p;
}

TEST(CliWorker, WrongArgumentTypesGoToTheDeadSet) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  auto r = run(cmd({"enqueue", "-r", kExamples, "SendWelcomeEmail", R"(["x", 5])", "--store", url}),
               dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::string jid = r.out.substr(0, 24);
  Worker w(dir, url, {"-q", "mailers"});
  Json dead;
  ASSERT_TRUE(eventually(30s, [&] {
    dead = json_of(dir, cmd({"dead", "--store", url}));
    return dead.size() == 1;
  })) << w.output();
  EXPECT_EQ(w.stop(), 0) << w.output();
  EXPECT_EQ(dead[0]["jid"], jid);
  const auto& p = dead[0]["payload"];
  EXPECT_EQ(p["error_class"], "errand::ArgumentError") << p;
  const auto msg = p["error_message"].get<std::string>();
  EXPECT_NE(msg.find("argument 1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("integer"), std::string::npos) << msg;
  auto s = stats(dir, url);
  EXPECT_EQ(s["retries"], 0) << "an argument error is not retried: " << s;
}

TEST(CliWorker, ProcessesQuietAndStopThroughTheStore) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  // Create the database first: two processes opening a fresh file at once can
  // fail with "locked" (a store issue reported separately).
  ASSERT_EQ(stats(dir, url)["processes"], 0);
  Worker w(dir, url, {"--tag", "billing"});
  Json procs;
  ASSERT_TRUE(eventually(30s, [&] {
    procs = json_of(dir, cmd({"processes", "--store", url}));
    return procs["processes"].size() == 1;
  })) << w.output();
  const auto& p = procs["processes"][0];
  EXPECT_EQ(p["info"]["tag"], "billing") << p;
  const std::string identity = p["identity"];
  EXPECT_TRUE(eventually(10s, [&] { return w.output().find("RecordRun") != std::string::npos; }))
      << "lists the loaded classes:\n"
      << w.output();

  auto r = run(cmd({"stop", "no-such-process", "--store", url}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  r = run(cmd({"quiet", identity, "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  ASSERT_TRUE(eventually(15s, [&] {
    auto j = json_of(dir, cmd({"processes", "--store", url}));
    return j["processes"].size() == 1 && j["processes"][0]["quiet"] == true;
  })) << w.output();
  r = run(cmd({"stop", identity, "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto st = w.process->wait_for(30s);
  ASSERT_TRUE(st.has_value()) << "the worker ignored TERM through the store:\n" << w.output();
  EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << w.output();
  EXPECT_EQ(stats(dir, url)["processes"], 0) << "it unregistered";
}

}  // namespace
}  // namespace errand::testing

namespace errand::testing {
namespace {

TEST(CliQueues, PauseAndResumeAreSeenByEveryone) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  ASSERT_EQ(
      run(cmd({"enqueue", "-r", kExamples, "SendWelcomeEmail", R"([1, "en"])", "--store", url}),
          dir.path())
          .exit_code,
      0);
  auto r = run(cmd({"queue", "pause", "mailers", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  auto qs = json_of(dir, cmd({"queues", "--store", url}));
  ASSERT_EQ(qs.size(), 1u) << qs;
  EXPECT_EQ(qs[0]["paused"], true) << qs;
  r = run(cmd({"queues", "resume", "mailers", "--store", url}), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  qs = json_of(dir, cmd({"queues", "--store", url}));
  EXPECT_EQ(qs[0]["paused"], false) << qs;
}

TEST(CliCron, ListsEntriesWithTheirNextRun) {
  TempDir dir;
  {
    std::ofstream(dir / "cron.yml") << "cron:\n  nightly:\n    cron: \"0 3 * * *\"\n"
                                       "    class: BuildSalesReport\n"
                                       "    args: [\"2026-11\", [1.5, 2]]\n"
                                       "    time_zone: Europe/Paris\n";
  }
  auto out = json_of(dir, cmd({"cron", "-C", (dir / "cron.yml").string()}));
  ASSERT_EQ(out.size(), 1u) << out;
  EXPECT_EQ(out[0]["name"], "nightly");
  EXPECT_EQ(out[0]["time_zone"], "Europe/Paris");
  EXPECT_GT(out[0]["next_run"].get<double>(), 0);
  { std::ofstream(dir / "badcron.yml") << "cron:\n  x:\n    cron: \"61 * * * *\"\n    class: A\n"; }
  auto r = run(cmd({"cron", "-C", (dir / "badcron.yml").string()}), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("minute"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace errand::testing
