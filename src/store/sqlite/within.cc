#include "store/sqlite/within.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "store/memory/store_util.h"

namespace errand::sqlite {
namespace {

// The application's connection, checked: a sqlite3* inside BEGIN, on the
// store's own file (jobs written elsewhere would never run).
sqlite3* app_db(const std::string& store_path, const AppTransaction& txn) {
  if (txn.kind != AppTransaction::Kind::sqlite)
    throw Error(Errc::invalid_argument,
                "sqlite store: within() needs the application's sqlite3*, got a PGconn*");
  auto* db = static_cast<sqlite3*>(txn.handle);
  if (db == nullptr)
    throw Error(Errc::invalid_argument, "sqlite store: within() got no connection");
  if (sqlite3_get_autocommit(db) != 0)
    throw Error(Errc::invalid_argument,
                "sqlite store: within() needs a transaction in progress on the application's "
                "connection (BEGIN first); without one the job would commit on its own");
  const char* file = sqlite3_db_filename(db, "main");
  std::error_code ec1, ec2;
  const auto mine = std::filesystem::weakly_canonical(store_path, ec1);
  const auto theirs = std::filesystem::weakly_canonical(file ? file : "", ec2);
  if (file == nullptr || *file == '\0' || ec1 || ec2 || mine != theirs)
    throw Error(Errc::invalid_argument, "sqlite store: within() got a connection to '" +
                                            std::string(file ? file : "") +
                                            "', not to the store's database '" + store_path + "'");
  return db;
}

// One statement on the application's connection, finalized when done.
class AppStmt {
 public:
  AppStmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~AppStmt() { sqlite3_finalize(stmt_); }
  AppStmt(const AppStmt&) = delete;
  AppStmt& operator=(const AppStmt&) = delete;
  AppStmt& text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  AppStmt& real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  AppStmt& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // Runs to completion; returns the rows changed.
  int run() {
    int rc;
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail("step");
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return sqlite3_changes(db_);
  }

 private:
  [[noreturn]] void fail(const char* what) {
    const int rc = sqlite3_extended_errcode(db_);
    const Errc code = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? Errc::busy
                      : (rc & 0xff) == SQLITE_ERROR                              ? Errc::corrupt
                                                                                 : Errc::io;
    throw Error(code, std::string("sqlite store: within(): ") + what +
                          " on the application's "
                          "connection: " +
                          sqlite3_errmsg(db_) +
                          (code == Errc::corrupt ? " (is errand's schema in this file?)" : ""));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

template <class F>
auto guarded(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Error(Errc::internal, std::string("sqlite store: within(): ") + e.what());
  }
}

}  // namespace

Status push_within(const std::string& store_path, const AppTransaction& txn, const PushParams& p) {
  const std::span<const PushItem> jobs = p.jobs;
  return guarded([&]() -> Status {
    sqlite3* db = app_db(store_path, txn);
    for (const auto& item : jobs)
      if (item.at == 0 && item.queue.empty())
        return Error(Errc::invalid_argument, "push: job " + item.jid + " has an empty queue name");
    AppStmt insert(db,
                   "INSERT INTO jobs (jid, queue, payload, state, score, priority, enqueued_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    AppStmt know(db, "INSERT OR IGNORE INTO queues (name) VALUES (?1)");
    const double now = p.now;
    const std::string queued = "queued", scheduled = "scheduled";
    for (const auto& item : jobs) {
      insert.text(1, item.jid)
          .text(2, item.queue)
          .text(3, item.payload)
          .text(4, item.at == 0 ? queued : scheduled)
          .real(5, item.at)
          .integer(6, item.priority)
          .real(7, now)
          .run();
      if (item.at == 0) know.text(1, item.queue).run();
    }
    return {};
  });
}

Result<bool> lock_acquire_within(const std::string& store_path, const AppTransaction& txn,
                                 const std::string& key, const std::string& holder, double now,
                                 double expires_at) {
  return guarded([&]() -> Result<bool> {
    sqlite3* db = app_db(store_path, txn);
    AppStmt take(db,
                 "INSERT INTO locks (key, holder, until) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, until = excluded.until "
                 "WHERE locks.until <= ?4");
    return take.text(1, key).text(2, holder).real(3, expires_at).real(4, now).run() > 0;
  });
}

}  // namespace errand::sqlite
