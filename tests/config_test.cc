#include "errand/config.h"

#include <gtest/gtest.h>

#include <fstream>

namespace errand {
namespace {

TEST(Config, ParsesEveryKey) {
  auto c = parse_config(R"(
store: memory://cfg
concurrency: 4
timeout: 8
queues:
  - [critical, 3]
  - default
stores:
  local: memory://local
tag: billing
labels: [blue, green]
log_format: json
poll_interval: 0.5
heartbeat_interval: 2
process_ttl: 30
max_retries: 7
max_crashes: 5
dead_max_jobs: 100
dead_timeout: 3600
)");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->store, "memory://cfg");
  EXPECT_EQ(c->server.concurrency, 4);
  EXPECT_EQ(c->server.shutdown_timeout, std::chrono::seconds(8));
  ASSERT_EQ(c->server.queues.size(), 2u);
  EXPECT_EQ(c->server.queues[0].name, "critical");
  EXPECT_EQ(c->server.queues[0].weight, 3);
  EXPECT_EQ(c->server.queues[1].weight, 0);
  EXPECT_EQ(c->queue_stores.at("local"), "memory://local");
  EXPECT_EQ(c->server.tag, "billing");
  EXPECT_EQ(c->server.labels.size(), 2u);
  EXPECT_EQ(c->server.log_format, LogFormat::json);
  EXPECT_EQ(c->server.poll_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(c->server.max_retries, 7);
  EXPECT_EQ(c->server.max_crashes, 5);
  EXPECT_EQ(c->server.dead.max_jobs, 100u);
  EXPECT_DOUBLE_EQ(c->server.dead.max_age_seconds, 3600);
}

TEST(Config, EmptyFileGivesDefaults) {
  auto c = parse_config("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->store, "sqlite://errand.db");
  EXPECT_EQ(c->server.concurrency, 10);
  EXPECT_EQ(c->server.max_crashes, 3);
}

TEST(Config, MalformedYamlIsAClearError) {
  auto c = parse_config("queues: [default\nconcurrency: 3\n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.code(), Errc::invalid_argument);
  EXPECT_NE(c.error().message().find("malformed YAML"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("line"), std::string::npos) << c.error().message();
}

TEST(Config, BadValuesNameTheKeyAndLine) {
  auto c = parse_config("store: memory://x\nconcurrency: lots\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("concurrency"), std::string::npos);
  EXPECT_NE(c.error().message().find("line 2"), std::string::npos) << c.error().message();
  EXPECT_FALSE(parse_config("concurrency: 0").ok());
  EXPECT_FALSE(parse_config("queues: default").ok());
  EXPECT_FALSE(parse_config("queues: [[a, -1]]").ok());
  EXPECT_FALSE(parse_config("log_format: xml").ok());
  auto crashes = parse_config("max_crashes: -2");
  ASSERT_FALSE(crashes.ok());
  EXPECT_NE(crashes.error().message().find("max_crashes"), std::string::npos);
  auto typo = parse_config("concurency: 3");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message().find("unknown key 'concurency'"), std::string::npos);
  EXPECT_FALSE(parse_config("- a\n- b\n").ok());
}

TEST(Config, StatusKeys) {
  auto c = parse_config("record_status: false\ncancel_poll_interval: 0.5\n");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_FALSE(c->server.record_status);
  EXPECT_EQ(c->server.cancel_poll_interval, std::chrono::milliseconds(500));
  EXPECT_TRUE(parse_config("").value().server.record_status);
  EXPECT_FALSE(parse_config("record_status: sometimes").ok());
  EXPECT_FALSE(parse_config("cancel_poll_interval: 0").ok());
}

// Found by fuzz_config: a duration too large for milliseconds was undefined
// behaviour (double → int64 overflow); now a clear error, as are .inf and .nan.
TEST(Config, DurationsPastTenYearsAreClearErrors) {
  for (const char* text : {"timeout: 25666666666666666666666666666", "poll_interval: .inf",
                           "heartbeat_interval: .nan", "process_ttl: 315360001"}) {
    auto c = parse_config(text);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().message().find("at most 315360000 seconds"), std::string::npos)
        << c.error().message();
  }
  auto ok = parse_config("timeout: 315360000");
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_EQ(ok->server.shutdown_timeout, std::chrono::milliseconds(315'360'000'000));
}

TEST(Config, MissingFileIsAnIoError) {
  auto c = load_config("/nonexistent/errand.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.code(), Errc::io);
  EXPECT_NE(c.error().message().find("/nonexistent/errand.yml"), std::string::npos);
}

TEST(Config, OpenQueuesRoutesQueuesToStores) {
  auto c = parse_config("store: memory://cfg-main\nstores:\n  local: memory://cfg-local\n");
  ASSERT_TRUE(c.ok());
  auto map = open_queues(*c);
  ASSERT_TRUE(map.ok()) << map.error().message();
  EXPECT_NE(map->store_for("local"), map->store_for("default"));
  EXPECT_EQ(map->store_for("anything"), map->store_for("default"));
  EXPECT_EQ(map->stores().size(), 2u);
  auto bad = parse_config("store: nosuch://x");
  ASSERT_TRUE(bad.ok());
  auto m2 = open_queues(*bad);
  ASSERT_FALSE(m2.ok());
  EXPECT_EQ(m2.code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace errand

namespace errand {
namespace {

TEST(Config, CronEntries) {
  auto c = parse_config(R"(
cron:
  nightly:
    cron: "0 3 * * *"
    class: BuildSalesReport
    args: ["2026-11", [1.5, 2], "007", true]
    queue: reports
    time_zone: Europe/Paris
    missed: run_once
)");
  ASSERT_TRUE(c.ok()) << c.error().message();
  ASSERT_EQ(c->server.cron.size(), 1u);
  const auto& e = c->server.cron[0];
  EXPECT_EQ(e.name, "nightly");
  EXPECT_EQ(e.job_class, "BuildSalesReport");
  EXPECT_EQ(e.queue, "reports");
  EXPECT_EQ(e.time_zone, "Europe/Paris");
  EXPECT_EQ(e.missed, MissedTicks::run_once);
  EXPECT_EQ(e.args, Json::parse(R"(["2026-11", [1.5, 2], "007", true])"));
  EXPECT_FALSE(parse_config("cron:\n  x:\n    class: A\n").ok()) << "needs an expression";
  auto bad = parse_config("cron:\n  x:\n    cron: \"61 * * * *\"\n    class: A\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("minute"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(
      parse_config("cron:\n  x:\n    cron: \"* * * * *\"\n    class: A\n    when: now\n").ok());
}

}  // namespace
}  // namespace errand
