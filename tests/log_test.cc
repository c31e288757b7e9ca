// errand's log lines: the public sink (errand/log.h), Sidekiq's JSON field
// names, and `errand worker` logging to stdout, as text or JSON lines.
#include "errand/log.h"

#include <gtest/gtest.h>

#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "core/log.h"
#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/process.h"

namespace errand::testing {
namespace {

struct LogSinkJob {
  void perform(int) {}
};
ERRAND_JOB(LogSinkJob);

/// Captures errand's lines while it lives; restores stderr text output after.
class CapturedLog {
 public:
  explicit CapturedLog(LogFormat format) {
    log::set_format(format);
    log::set_sink([this](log::Level level, std::string_view line) {
      std::lock_guard lk(mu_);
      lines_.emplace_back(level, std::string(line));
    });
  }
  ~CapturedLog() {
    log::set_sink({});
    log::set_format(LogFormat::text);
  }
  std::vector<std::pair<log::Level, std::string>> lines() const {
    std::lock_guard lk(mu_);
    return lines_;
  }
  /// The first line containing `text`, or "".
  std::string find(const std::string& text) const {
    for (const auto& [level, line] : lines())
      if (line.find(text) != std::string::npos) return line;
    return "";
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<log::Level, std::string>> lines_;
};

TEST(LogSink, JsonLinesUseSidekiqsFieldNames) {
  CapturedLog captured(LogFormat::json);
  log::write(log::Level::warn, "done \"quoted\"", {{"class", "SendWelcomeEmail"}, {"jid", "abc"}},
             0.25);
  const auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto& [level, line] = lines[0];
  EXPECT_EQ(level, log::Level::warn);
  EXPECT_EQ(line.find('\n'), std::string::npos) << "a sink gets the line without its newline";
  Json j = Json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << line;
  EXPECT_TRUE(j["ts"].is_string()) << line;
  EXPECT_EQ(j["pid"].get<int>(), static_cast<int>(::getpid())) << line;
  EXPECT_TRUE(j["tid"].is_string()) << line;
  EXPECT_EQ(j["lvl"], "WARN") << line;
  EXPECT_EQ(j["msg"], "done \"quoted\"") << line;
  EXPECT_EQ(j["ctx"]["class"], "SendWelcomeEmail") << line;
  EXPECT_EQ(j["ctx"]["jid"], "abc") << line;
  EXPECT_DOUBLE_EQ(j["ctx"]["elapsed"].get<double>(), 0.25) << line;
  EXPECT_FALSE(j.contains("elapsed")) << "elapsed is in ctx, as Sidekiq writes it: " << line;
}

TEST(LogSink, LevelsBelowTheSetLevelNeverReachTheSink) {
  CapturedLog captured(LogFormat::text);
  log::set_level(log::Level::warn);
  log::info("quiet");
  log::warn("loud");
  log::set_level(log::Level::info);
  const auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].second.find("WARN: loud"), std::string::npos);
}

TEST(LogSink, AServerInTheApplicationLogsItsJobsThroughTheSink) {
  CapturedLog captured(LogFormat::text);
  QueueMap queues(open_store("memory://").value());
  Client client(queues);
  const auto jid = client.perform_async<LogSinkJob>(1).value();
  ServerOptions o = fast_options();
  o.log_jobs = true;
  Server server(queues, o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().processed == 1; }));
  server.stop();
  EXPECT_NE(captured.find("worker started"), "");
  const auto done = captured.find("jid=" + jid);
  EXPECT_NE(done.find("class=LogSinkJob"), std::string::npos) << done;
  EXPECT_NE(captured.find("INFO: done elapsed="), "");
}

std::vector<Json> json_lines(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a JSON line: " << line;
    out.push_back(j);
  }
  return out;
}

/// Runs RecordRun(1) through `errand worker ARGS`; stdout and stderr apart.
std::pair<std::string, std::string> run_one_job(const TempDir& dir, std::vector<std::string> args) {
  const auto url = sqlite_url(dir);
  enqueue_record_runs(url, 1, 2);
  std::vector<std::string> argv = cmd({"worker", "-r", kExamples, "--store", url, "-c", "1",
                                       "--heartbeat-interval", "0.5", "--process-ttl", "3"});
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions o;
  o.cwd = dir.path();
  o.env = {{"ERRAND_RECORD_FILE", (dir / "record.txt").string()}};
  o.stdout_path = dir / "out.log";
  o.stderr_path = dir / "err.log";
  Process p(argv, o);
  EXPECT_TRUE(eventually(30s, [&] { return read_file(dir / "record.txt") == "1\n"; }))
      << read_file(dir / "out.log") << read_file(dir / "err.log");
  // A graceful stop lets the job's last lines out before the worker exits.
  p.signal(SIGTERM);
  auto st = p.wait_for(30s);
  EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
  return {read_file(dir / "out.log"), read_file(dir / "err.log")};
}

TEST(WorkerLog, TextOnStdoutByDefault) {
  TempDir dir;
  const auto [out, err] = run_one_job(dir, {});
  EXPECT_NE(out.find("INFO: worker started"), std::string::npos) << out;
  EXPECT_NE(out.find("class=RecordRun"), std::string::npos) << out;
  EXPECT_EQ(err.find("INFO:"), std::string::npos) << "stderr is for errors: " << err;
}

TEST(WorkerLog, JsonLinesWithTheFlag) {
  TempDir dir;
  const auto [out, err] = run_one_job(dir, {"--log-format", "json"});
  const auto lines = json_lines(out);
  ASSERT_FALSE(lines.empty()) << out << err;
  bool done = false;
  for (const auto& j : lines) {
    for (const char* key : {"ts", "pid", "tid", "lvl", "msg"})
      EXPECT_TRUE(j.contains(key)) << key << " missing: " << j.dump();
    if (j["msg"] == "done") {
      done = true;
      EXPECT_EQ(j["ctx"]["class"], "RecordRun") << j.dump();
      EXPECT_TRUE(j["ctx"]["jid"].is_string()) << j.dump();
      EXPECT_TRUE(j["ctx"]["elapsed"].is_number()) << j.dump();
    }
  }
  EXPECT_TRUE(done) << out;
}

TEST(WorkerLog, JsonLinesFromTheConfigFile) {
  TempDir dir;
  { std::ofstream(dir / "errand.yml") << "log_format: json\n"; }
  const auto [out, err] = run_one_job(dir, {"-C", (dir / "errand.yml").string()});
  const auto lines = json_lines(out);
  ASSERT_FALSE(lines.empty()) << out << err;
  EXPECT_EQ(lines.front()["lvl"], "INFO") << out;
}

TEST(WorkerLog, LogLevelFromTheConfigFile) {
  TempDir dir;
  { std::ofstream(dir / "errand.yml") << "log_level: warn\n"; }
  const auto [out, err] = run_one_job(dir, {"-C", (dir / "errand.yml").string()});
  EXPECT_EQ(out.find(" INFO: "), std::string::npos) << "warn silences the per-job lines: " << out;
  // The flag wins over the file.
  TempDir again;
  { std::ofstream(again / "errand.yml") << "log_level: error\n"; }
  const auto [out2, err2] =
      run_one_job(again, {"-C", (again / "errand.yml").string(), "--log-level", "info"});
  EXPECT_NE(out2.find(" INFO: done"), std::string::npos) << out2;
}

TEST(ConfigLogLevel, ParsedAndChecked) {
  auto c = parse_config("log_level: warn\n");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->log_level, log::Level::warn);
  EXPECT_FALSE(parse_config("store: memory://x\n")->log_level.has_value());
  auto bad = parse_config("log_level: loud\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'log_level' must be debug, info, warn or error"),
            std::string::npos)
      << bad.error().message();
}

}  // namespace
}  // namespace errand::testing
