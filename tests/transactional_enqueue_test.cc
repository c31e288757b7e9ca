// Transactional enqueue (Client::within): the push happens inside the
// application's own transaction, on PostgreSQL (a PGconn*) and on SQLite (a
// sqlite3* inside BEGIN on the store's file). Rollback → no job, ever;
// commit → the job runs and its worker sees the committed row; a failed
// commit → no job. Stores that cannot do it refuse with Errc::unsupported.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/postgres_server.h"
#include "support/process.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand {
namespace {

using namespace std::chrono_literals;

// What each run of TxnWelcomeJob saw: user id → was its row committed and visible.
std::mutex g_mu;
std::map<std::int64_t, bool> g_seen;  // guarded by g_mu
std::string g_pg_conninfo;            // set before any job runs
std::string g_sqlite_path;

bool user_visible(std::int64_t id) {
  if (!g_pg_conninfo.empty()) {
    testing::RawPg pg(g_pg_conninfo);
    return pg.ok() &&
           pg.value("SELECT count(*) FROM app_users WHERE id = " + std::to_string(id)) == "1";
  }
  sqlite3* db = nullptr;
  bool found = false;
  if (sqlite3_open_v2(g_sqlite_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT 1 FROM app_users WHERE id = ?1", -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, id);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return found;
}

struct TxnWelcomeJob {
  void perform(std::int64_t user_id) {
    const bool visible = user_visible(user_id);
    std::lock_guard lock(g_mu);
    g_seen[user_id] = visible;
  }
};
ERRAND_JOB(TxnWelcomeJob);

struct TxnUniqueJob {
  static constexpr JobOptions options{.unique = Unique::until_executed, .unique_for = 600};
  void perform(std::int64_t) {}
};
ERRAND_JOB(TxnUniqueJob);

// The application's side of both databases: a connection, BEGIN, an INSERT
// of the user row, COMMIT or ROLLBACK.
class AppDb {
 public:
  virtual ~AppDb() = default;
  virtual void begin() = 0;
  virtual void insert_user(std::int64_t id) = 0;
  virtual bool commit() = 0;  // false if the commit failed (then rolled back)
  virtual void rollback() = 0;
  /// A statement that makes the next COMMIT fail (a deferred constraint).
  virtual void doom_commit() = 0;
  virtual Client within(const Client& client) = 0;
};

class PgApp : public AppDb {
 public:
  explicit PgApp(const std::string& conninfo) : pg_(conninfo) {
    pg_.exec("CREATE TABLE IF NOT EXISTS app_users (id bigint PRIMARY KEY)");
    pg_.exec("CREATE TABLE IF NOT EXISTS app_doom (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)");
  }
  void begin() override { pg_.exec("BEGIN"); }
  void insert_user(std::int64_t id) override {
    pg_.exec("INSERT INTO app_users VALUES (" + std::to_string(id) + ")");
  }
  bool commit() override {
    std::string err;
    pg_.exec("COMMIT", &err);
    return err.empty();
  }
  void rollback() override { pg_.exec("ROLLBACK"); }
  void doom_commit() override { pg_.exec("INSERT INTO app_doom VALUES (1), (1)"); }
  Client within(const Client& client) override { return client.within(pg_.handle()); }

 private:
  testing::RawPg pg_;
};

class SqliteApp : public AppDb {
 public:
  explicit SqliteApp(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA foreign_keys = ON");
    exec("CREATE TABLE IF NOT EXISTS app_users (id INTEGER PRIMARY KEY)");
    exec("CREATE TABLE IF NOT EXISTS app_parent (id INTEGER PRIMARY KEY)");
    exec(
        "CREATE TABLE IF NOT EXISTS app_child (pid INTEGER REFERENCES app_parent (id) "
        "DEFERRABLE INITIALLY DEFERRED)");
  }
  ~SqliteApp() override { sqlite3_close(db_); }
  void begin() override { exec("BEGIN IMMEDIATE"); }
  void insert_user(std::int64_t id) override {
    exec("INSERT INTO app_users VALUES (" + std::to_string(id) + ")");
  }
  bool commit() override {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) return true;
    exec("ROLLBACK");  // a failed COMMIT leaves the transaction open
    return false;
  }
  void rollback() override { exec("ROLLBACK"); }
  void doom_commit() override { exec("INSERT INTO app_child VALUES (404)"); }
  Client within(const Client& client) override { return client.within(db_); }

 private:
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (err ? err : "?");
      sqlite3_free(err);
    }
  }
  sqlite3* db_ = nullptr;
};

testing::PostgresServer* pg_server() {
  static testing::PostgresServer s;
  static const bool started = s.start();
  return started ? &s : nullptr;
}

class TransactionalEnqueue : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    {
      std::lock_guard lock(g_mu);
      g_seen.clear();
    }
    static int n = 0;
    if (GetParam() == "postgres") {
      if (!pg_server()) GTEST_SKIP() << "PostgreSQL 15 could not be started";
      const std::string schema = "txn_" + std::to_string(++n);
      url_ = pg_server()->url(schema);
      g_pg_conninfo = pg_server()->conninfo();
      g_sqlite_path.clear();
      store_ = open_store(url_).value();
      // A fresh application table per test.
      pg_server()->raw()->exec("DROP TABLE IF EXISTS app_users, app_doom");
      app_ = std::make_unique<PgApp>(pg_server()->conninfo());
    } else {
      g_sqlite_path = (dir_ / ("app-" + std::to_string(++n) + ".db")).string();
      g_pg_conninfo.clear();
      url_ = "sqlite://" + g_sqlite_path;
      store_ = open_store(url_).value();
      app_ = std::make_unique<SqliteApp>(g_sqlite_path);
    }
    client_ = std::make_unique<Client>(QueueMap(store_));
  }
  void TearDown() override {
    app_.reset();
    client_.reset();
    store_.reset();
  }

  std::size_t jobs_anywhere() {
    auto s = store_->stats(wall()).value();
    return s.enqueued + s.scheduled + s.retries + s.dead;
  }
  // Runs a worker until `pred` holds (bounded), then stops it.
  template <class Pred>
  bool run_worker_until(Pred pred, std::chrono::milliseconds limit = 20s) {
    Server server(QueueMap(store_), testing::fast_options());
    if (!server.start().ok()) return false;
    const bool ok = testing::eventually(pred, limit);
    server.stop();
    return ok;
  }

  testing::TempDir dir_;
  std::string url_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<AppDb> app_;
  std::unique_ptr<Client> client_;
};

TEST_P(TransactionalEnqueue, RollbackLeavesNoJobEver) {
  app_->begin();
  app_->insert_user(1);
  auto jid = app_->within(*client_).perform_async<TxnWelcomeJob>(1);
  ASSERT_TRUE(jid.ok()) << jid.error().message();
  EXPECT_FALSE(jid->empty());
  app_->rollback();
  EXPECT_EQ(jobs_anywhere(), 0u);
  // A worker running for a while finds nothing to do.
  run_worker_until([] { return false; }, 1500ms);
  std::lock_guard lock(g_mu);
  EXPECT_TRUE(g_seen.empty());
}

TEST_P(TransactionalEnqueue, CommitRunsTheJobAndItsWorkerSeesTheRow) {
  app_->begin();
  app_->insert_user(2);
  auto jid = app_->within(*client_).perform_async<TxnWelcomeJob>(2);
  ASSERT_TRUE(jid.ok()) << jid.error().message();
  EXPECT_EQ(jobs_anywhere(), 0u) << "visible before the commit";
  ASSERT_TRUE(app_->commit());
  EXPECT_EQ(store_->stats(wall()).value().enqueued, 1u);
  ASSERT_TRUE(run_worker_until([] {
    std::lock_guard lock(g_mu);
    return g_seen.count(2) > 0;
  }));
  std::lock_guard lock(g_mu);
  EXPECT_TRUE(g_seen[2]) << "the worker ran before the user row was visible";
}

TEST_P(TransactionalEnqueue, FailedCommitLeavesNoJob) {
  app_->begin();
  app_->insert_user(3);
  ASSERT_TRUE(app_->within(*client_).perform_async<TxnWelcomeJob>(3).ok());
  app_->doom_commit();
  EXPECT_FALSE(app_->commit()) << "the deferred constraint should have failed the commit";
  EXPECT_EQ(jobs_anywhere(), 0u);
}

TEST_P(TransactionalEnqueue, ScheduledBulkAndUniqueJobsFollowTheTransaction) {
  app_->begin();
  Client in = app_->within(*client_);
  ASSERT_TRUE(in.perform_in<TxnWelcomeJob>(1h, 4).ok());
  auto bulk = in.push_bulk<TxnWelcomeJob>({Json::array({5}), Json::array({6}), Json::array({7})});
  ASSERT_TRUE(bulk.ok()) << bulk.error().message();
  auto first = in.perform_async<TxnUniqueJob>(8);
  auto second = in.perform_async<TxnUniqueJob>(8);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->empty());
  EXPECT_TRUE(second->empty()) << "a copy is pending in the same transaction";
  app_->rollback();
  EXPECT_EQ(jobs_anywhere(), 0u);
  // The rollback released the unique lock with the job.
  auto again = client_->perform_async<TxnUniqueJob>(8);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->empty());

  app_->begin();
  Client in2 = app_->within(*client_);
  ASSERT_TRUE(in2.perform_in<TxnWelcomeJob>(1h, 4).ok());
  ASSERT_TRUE(in2.push_bulk<TxnWelcomeJob>({Json::array({5}), Json::array({6})}).ok());
  ASSERT_TRUE(app_->commit());
  auto s = store_->stats(wall()).value();
  EXPECT_EQ(s.enqueued, 3u);  // two bulk + the unique one pushed outside
  EXPECT_EQ(s.scheduled, 1u);
}

TEST_P(TransactionalEnqueue, WithoutATransactionItRefuses) {
  auto jid = app_->within(*client_).perform_async<TxnWelcomeJob>(9);
  ASSERT_FALSE(jid.ok());
  EXPECT_EQ(jid.code(), Errc::invalid_argument);
  EXPECT_NE(jid.error().message().find("BEGIN"), std::string::npos) << jid.error().message();
  EXPECT_EQ(jobs_anywhere(), 0u);
}

TEST_P(TransactionalEnqueue, StoresOutsideTheDatabaseRefuseWithUnsupported) {
  auto memory = Client::open("memory://txn-refuses").value();
  app_->begin();
  auto jid = app_->within(memory).perform_async<TxnWelcomeJob>(10);
  ASSERT_FALSE(jid.ok());
  EXPECT_EQ(jid.code(), Errc::unsupported);
  EXPECT_NE(jid.error().message().find("transaction"), std::string::npos);
  auto unique = app_->within(memory).perform_async<TxnUniqueJob>(10);
  ASSERT_FALSE(unique.ok());
  EXPECT_EQ(unique.code(), Errc::unsupported);
  app_->rollback();
}

INSTANTIATE_TEST_SUITE_P(Stores, TransactionalEnqueue, ::testing::Values("postgres", "sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(TransactionalEnqueueSqlite, AnotherFileIsRefused) {
  testing::TempDir dir;
  auto client = Client::open("sqlite://" + (dir / "store.db").string()).value();
  SqliteApp other((dir / "other.db").string());
  other.begin();
  auto jid = other.within(client).perform_async<TxnWelcomeJob>(11);
  ASSERT_FALSE(jid.ok());
  EXPECT_EQ(jid.code(), Errc::invalid_argument);
  EXPECT_NE(jid.error().message().find("not to the store's database"), std::string::npos)
      << jid.error().message();
  other.rollback();
}

}  // namespace
}  // namespace errand
