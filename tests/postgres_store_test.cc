// The PostgreSQL store beyond the conformance suite: clear errors at open
// (wrong password, missing database, read-only server, schema newer than the
// build or not errand's), concurrent migration, LISTEN/NOTIFY wake-ups
// across processes, and reconnecting after the server restarts. Each test
// runs against a real PostgreSQL 15 started by the test.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "errand/store.h"
#include "support/postgres_server.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

PostgresServer* server() {
  static PostgresServer s;
  static std::string error;
  static const bool started = s.start(&error);
  if (!started) std::fprintf(stderr, "postgres: %s\n", error.c_str());
  return started ? &s : nullptr;
}

class PostgresStore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!server()) GTEST_SKIP() << "PostgreSQL 15 could not be started";
  }
  static PushItem job(const std::string& jid, const std::string& queue = "default") {
    return PushItem{queue, jid,
                    R"({"class":"X","args":[],"jid":")" + jid + R"(","queue":")" + queue + R"("})"};
  }
};

TEST_F(PostgresStore, WrongPasswordIsAClearError) {
  auto store = open_postgres_store(server()->url("errand", "postgres", "wrong"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.code(), Errc::invalid_argument);
  EXPECT_NE(store.error().message().find("password authentication failed"), std::string::npos)
      << store.error().message();
}

TEST_F(PostgresStore, MissingDatabaseIsAClearError) {
  auto store = open_postgres_store(server()->url("errand", "no_such_db"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.code(), Errc::invalid_argument);
  EXPECT_NE(store.error().message().find("\"no_such_db\" does not exist"), std::string::npos)
      << store.error().message();
}

TEST_F(PostgresStore, UnreachableServerIsUnavailable) {
  auto store = open_postgres_store("postgres://errand:secret@127.0.0.1:1/postgres");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.code(), Errc::unavailable) << store.error().message();
}

TEST_F(PostgresStore, ReadOnlyServerIsRefused) {
  auto raw = server()->raw();
  raw->exec("CREATE DATABASE readonly_db");
  raw->exec("ALTER DATABASE readonly_db SET default_transaction_read_only = on");
  auto store = open_postgres_store(server()->url("errand", "readonly_db"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.code(), Errc::unavailable);
  EXPECT_NE(store.error().message().find("read-only"), std::string::npos)
      << store.error().message();
}

TEST_F(PostgresStore, WritesOnAServerTurnedReadOnlySayWhy) {
  auto raw = server()->raw();
  raw->exec("CREATE DATABASE turned_ro");
  auto store = open_postgres_store(server()->url("errand", "turned_ro"));
  ASSERT_TRUE(store.ok()) << store.error().message();
  raw->exec("ALTER DATABASE turned_ro SET default_transaction_read_only = on");
  // New sessions see the setting; the pool's idle one predates it.
  raw->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = 'turned_ro' AND pid <> pg_backend_pid()");
  Status st;
  for (int i = 0; i < 50; ++i) {
    st = (*store)->push({.jobs = std::vector{job("a")}, .now = wall()});
    if (!st.ok() && st.message().find("read-only") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("read-only"), std::string::npos) << st.message();
}

TEST_F(PostgresStore, SchemaNewerThanTheBuildIsRefused) {
  {
    auto store = open_postgres_store(server()->url("future"));
    ASSERT_TRUE(store.ok()) << store.error().message();
  }
  server()->raw()->exec("UPDATE future.meta SET value = '99' WHERE key = 'schema_version'");
  auto again = open_postgres_store(server()->url("future"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), Errc::corrupt);
  EXPECT_NE(again.error().message().find("newer than this build"), std::string::npos)
      << again.error().message();
}

TEST_F(PostgresStore, AVersion1SchemaIsMigratedWithItsJobs) {
  {
    auto store = open_postgres_store(server()->url("older"));
    ASSERT_TRUE(store.ok()) << store.error().message();
    ASSERT_TRUE((*store)->push({.jobs = std::vector<PushItem>{job("kept")}, .now = wall()}).ok());
  }
  // Back to version 1 exactly: v2 only added the job_status table, v3 the
  // batch tables.
  server()->raw()->exec(
      "DROP TABLE older.job_status; DROP TABLE older.batches; DROP TABLE older.batch_members; "
      "UPDATE older.meta SET value = '1' WHERE key = 'schema_version'");
  auto store = open_postgres_store(server()->url("older"));
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(server()->raw()->value("SELECT value FROM older.meta WHERE key = 'schema_version'"),
            "3");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_EQ((*store)->job_status("kept", now)->state, JobState::queued);
  StatusUpdate u;
  u.jid = "kept-result";
  u.state = JobState::succeeded;
  u.result = "[1]";
  u.now = now;
  ASSERT_TRUE((*store)->record_status(u).ok());
  EXPECT_EQ((*store)->job_status("kept-result", now)->result, "[1]");
}

TEST_F(PostgresStore, ForeignSchemaIsRefused) {
  server()->raw()->exec("CREATE SCHEMA theirs; CREATE TABLE theirs.users (id int)");
  auto store = open_postgres_store(server()->url("theirs"));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.code(), Errc::corrupt);
  EXPECT_NE(store.error().message().find("not an errand schema"), std::string::npos)
      << store.error().message();
}

TEST_F(PostgresStore, MalformedUrlsAreInvalidArguments) {
  for (const char* url :
       {"postgres://errand@127.0.0.1:notaport/db", "postgres://h/db?schema=bad-name",
        "postgres://h/db?bogus=1", "postgres://h/db?poll_interval=0"}) {
    auto store = open_postgres_store(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.code(), Errc::invalid_argument) << url << ": " << store.error().message();
  }
}

TEST_F(PostgresStore, ProcessesOpeningAtOnceMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&] {
      auto store = open_postgres_store(server()->url("racing"));
      EXPECT_TRUE(store.ok()) << store.error().message();
      if (store.ok()) ++opened;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 6);
  EXPECT_EQ(server()->raw()->value("SELECT value FROM racing.meta WHERE key = 'schema_version'"),
            "3");
}

// Only a NOTIFY can wake this fetcher in time: its safety-net poll is a
// minute, and the push comes from another store object (another process's view).
TEST_F(PostgresStore, NotifyWakesAFetcherOfAnotherProcess) {
  auto waiting = open_postgres_store(server()->url("notify") + "&poll_interval=60000");
  auto pusher = open_postgres_store(server()->url("notify"));
  ASSERT_TRUE(waiting.ok() && pusher.ok());
  std::thread t([&] {
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE((*pusher)->push({.jobs = std::vector{job("woken")}, .now = wall()}).ok());
  });
  const auto start = std::chrono::steady_clock::now();
  auto got = (*waiting)->fetch({.queues = std::vector<std::string>{"default"},
                                .max = 1,
                                .wait = 30s,
                                .owner = "host:1:w",
                                .now = wall()});
  const auto took = std::chrono::steady_clock::now() - start;
  t.join();
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_LT(took, 20s) << "woken by the poll, not by NOTIFY";
}

TEST_F(PostgresStore, ReconnectsAfterTheServerRestarts) {
  auto store = open_postgres_store(server()->url("restart"));
  ASSERT_TRUE(store.ok()) << store.error().message();
  ASSERT_TRUE((*store)->push({.jobs = std::vector{job("before")}, .now = wall()}).ok());
  std::string error;
  ASSERT_TRUE(server()->restart(&error)) << error;
  // The pool's connections died with the old server: calls fail with
  // unavailable (never crash) until a new connection gets through.
  Status st;
  for (int i = 0; i < 100; ++i) {
    st = (*store)->push({.jobs = std::vector{job("after")}, .now = wall()});
    if (st.ok()) break;
    EXPECT_EQ(st.code(), Errc::unavailable) << st.message();
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(st.ok()) << st.message();
  auto got = (*store)->fetch({.queues = std::vector<std::string>{"default"},
                              .max = 10,
                              .wait = 0ms,
                              .owner = "host:1:r",
                              .now = wall()});
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(got->size(), 2u);
}

}  // namespace
}  // namespace errand::testing
