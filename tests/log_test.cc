// Log lines as operators and host applications see them: levels (warn
// silences the per-job lines), Sidekiq's JSON formatter fields, the stream,
// and the handler that hands every line to the host's logger.
#include "core/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "errand/errand.h"
#include "support/fast_server.h"

namespace errand::testing {
namespace {

struct LoggedJob {
  static constexpr JobOptions options{.queue = "logged", .retry = false};
  void perform(int n) {
    if (n < 0) throw std::runtime_error("negative");
  }
};
ERRAND_JOB(LoggedJob);

struct Captured {
  LogLevel level;
  std::string message;
  std::vector<std::pair<std::string, std::string>> context;
  std::optional<double> elapsed;
  std::string line;
};

/// Installs a handler that keeps every record; restores the defaults after.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_log_handler([this](const LogRecord& r) {
      Captured c{r.level, std::string(r.message), {}, r.elapsed, std::string(r.line)};
      for (const auto& f : r.context) c.context.emplace_back(f.key, f.value);
      std::lock_guard lk(mu_);
      lines_.push_back(std::move(c));
    });
  }
  void TearDown() override {
    set_log_handler(nullptr);
    set_log_level(LogLevel::info);
    set_log_format(LogFormat::text);
    set_log_stream(nullptr);
  }
  std::vector<Captured> lines() {
    std::lock_guard lk(mu_);
    return lines_;
  }
  std::size_t count(const std::string& message) {
    std::size_t n = 0;
    for (const auto& l : lines()) n += l.message == message;
    return n;
  }
  /// Runs one LoggedJob(n) through an in-process server with the job logger on.
  void run_job(int n) {
    auto store = open_store("memory://").value();
    Client client{QueueMap(store)};
    ASSERT_TRUE(client.perform_async<LoggedJob>(n).ok());
    ServerOptions o = fast_options();
    o.log_jobs = true;
    o.queues = {{"logged", 0}};
    Server server(QueueMap(store), o);
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(eventually([&] { return server.counters().processed == 1; }));
    server.stop();
  }

 private:
  std::mutex mu_;
  std::vector<Captured> lines_;
};

TEST_F(LogTest, HandlerGetsEveryJobLineWithItsContext) {
  run_job(1);
  ASSERT_EQ(count("start"), 1u);
  ASSERT_EQ(count("done"), 1u);
  for (const auto& l : lines()) {
    if (l.message != "done") continue;
    EXPECT_EQ(l.level, LogLevel::info);
    EXPECT_TRUE(l.elapsed.has_value());
    ASSERT_FALSE(l.context.empty());
    EXPECT_EQ(l.context[0], std::make_pair(std::string("class"), std::string("LoggedJob")));
    EXPECT_NE(l.line.find(" class=LoggedJob jid="), std::string::npos) << l.line;
    EXPECT_NE(l.line.find(" INFO: done"), std::string::npos) << l.line;
  }
}

TEST_F(LogTest, WarnSilencesPerJobLinesButKeepsFailures) {
  set_log_level(LogLevel::warn);
  run_job(1);
  run_job(-1);
  EXPECT_EQ(count("start"), 0u);
  EXPECT_EQ(count("done"), 0u);
  EXPECT_EQ(count("worker started"), 0u);
  std::size_t failures = 0;
  for (const auto& l : lines()) {
    EXPECT_GE(static_cast<int>(l.level), static_cast<int>(LogLevel::warn)) << l.line;
    failures += l.message.rfind("fail: ", 0) == 0;
  }
  EXPECT_EQ(failures, 1u);
}

TEST_F(LogTest, JsonLinesUseSidekiqFieldNames) {
  set_log_format(LogFormat::json);
  log::write(LogLevel::warn, "he said \"hi\"\n", {{"class", "X"}, {"jid", "abc"}}, 0.25);
  auto got = lines();
  ASSERT_EQ(got.size(), 1u);
  auto j = nlohmann::json::parse(got[0].line);
  EXPECT_EQ(j["lvl"], "WARN");
  EXPECT_EQ(j["msg"], "he said \"hi\"\n");
  EXPECT_EQ(j["pid"], static_cast<int>(::getpid()));
  EXPECT_TRUE(j["tid"].is_string());
  // ISO 8601 in UTC with milliseconds, as Sidekiq's time.utc.iso8601(3).
  EXPECT_EQ(j["ts"].get<std::string>().size(), 24u) << j["ts"];
  EXPECT_EQ(j["ctx"], nlohmann::json({{"class", "X"}, {"jid", "abc"}, {"elapsed", "0.250"}}));
  EXPECT_EQ(j.size(), 6u) << j;
}

TEST_F(LogTest, DebugLinesOnlyAtDebugLevel) {
  log::debug("hidden");
  set_log_level(LogLevel::debug);
  log::debug("shown");
  EXPECT_EQ(count("hidden"), 0u);
  EXPECT_EQ(count("shown"), 1u);
}

TEST_F(LogTest, WithoutHandlerLinesGoToTheStream) {
  set_log_handler(nullptr);
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  set_log_stream(f);
  log::info("to the stream", {{"k", "v"}});
  set_log_stream(nullptr);
  std::rewind(f);
  char buf[512] = {};
  const auto n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const std::string text(buf, n);
  EXPECT_NE(text.find(" k=v INFO: to the stream\n"), std::string::npos) << text;
}

TEST(LogLevels, ParseAndConfig) {
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("warning"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::error);
  EXPECT_FALSE(parse_log_level("loud").has_value());
  auto c = parse_config("log_level: warn\n");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->log_level, LogLevel::warn);
  auto bad = parse_config("log_level: loud\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("log_level"), std::string::npos);
}

}  // namespace
}  // namespace errand::testing
