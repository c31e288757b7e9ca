#include "store/sqlite/sqlite_db.h"

#include <sqlite3.h>

#include <memory>
#include <utility>

namespace errand::sqlite {

Error sqlite_error(int rc, std::string_view what, const std::string& path, std::string_view detail,
                   std::chrono::milliseconds busy_timeout) {
  const std::string where = "SQLite database '" + path + "'";
  std::string msg = std::string(what) + " on " + where + ": " + std::string(detail);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return fail(Errc::busy, where + " is locked: " + std::string(what) +
                                  " could not get the lock within " +
                                  std::to_string(busy_timeout.count()) +
                                  " ms (another process or connection holds a long transaction; "
                                  "raise busy_timeout or find the holder)");
    case SQLITE_NOTADB:
      return fail(Errc::corrupt, where + " is not a database file (" + std::string(detail) + ")");
    case SQLITE_CORRUPT:
      return fail(Errc::corrupt, msg);
    case SQLITE_CANTOPEN:
      return fail(Errc::io, "cannot open " + where + ": " + std::string(detail));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_NOLFS:
      return fail(Errc::io, msg);
    case SQLITE_NOMEM:
      return fail(Errc::unavailable, msg);
    default:
      return fail(Errc::internal, msg + " (SQLite error " + std::to_string(rc) + ")");
  }
}

// ---- Stmt -----------------------------------------------------------------

Stmt::~Stmt() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Stmt& Stmt::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK) conn_->raise(rc, "binding a parameter");
  return *this;
}

Stmt& Stmt::bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) conn_->raise(rc, "binding a parameter");
  return *this;
}

Stmt& Stmt::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) conn_->raise(rc, "binding a parameter");
  return *this;
}

Stmt& Stmt::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) conn_->raise(rc, "binding a parameter");
  return *this;
}

bool Stmt::row() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  conn_->raise(rc, "running a statement");
}

int Stmt::run() {
  while (row()) {
  }
  return sqlite3_changes(conn_->handle());
}

std::string_view Stmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (!p) return {};
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
}

double Stmt::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::int64_t Stmt::integer(int col) const { return sqlite3_column_int64(stmt_, col); }
bool Stmt::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// ---- Conn -----------------------------------------------------------------

std::unique_ptr<Conn> Conn::open(const Options& options) {
  sqlite3* db = nullptr;
  const int flags =
      SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw sqlite_error(rc, "opening", options.path, detail, options.busy_timeout);
  }
  std::unique_ptr<Conn> conn(new Conn(db, options));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  // The journal mode is stored in the file: only switch when needed, since
  // switching takes a lock. Reading it is also the first read of the file,
  // so a file that is not a database fails here with SQLITE_NOTADB.
  if (conn->pragma("PRAGMA journal_mode") != "wal") {
    auto mode = conn->pragma("PRAGMA journal_mode=WAL");
    if (mode != "wal")
      throw fail(Errc::io, "SQLite database '" + options.path +
                               "' cannot use WAL mode (journal_mode stays '" + mode +
                               "'; is it on a network file system?)");
  }
  // WAL + NORMAL: a commit is durable against a process crash (kill -9), as
  // the WAL is in the OS's hands; only an OS crash or power loss can drop the
  // last transactions before a checkpoint. FULL would fsync every commit.
  conn->exec("PRAGMA synchronous=NORMAL");
  return conn;
}

Conn::~Conn() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Stmt Conn::stmt(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) raise(rc, std::string("preparing \"") + sql + "\"");
    it = cache_.emplace(sql, s).first;
  }
  return Stmt(it->second, this);
}

void Conn::exec(const char* sql) { stmt(sql).run(); }

std::string Conn::pragma(const char* sql) {
  auto s = stmt(sql);
  return s.row() ? s.str(0) : std::string();
}

void Conn::raise(int rc, std::string_view what) {
  throw sqlite_error(rc, what, options_.path, sqlite3_errmsg(db_), options_.busy_timeout);
}

bool Conn::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

}  // namespace errand::sqlite
