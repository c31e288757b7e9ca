// A thin layer over the sqlite3 C API for the SQLite store: one connection
// with its cached prepared statements, a statement cursor that resets itself,
// and the mapping from SQLite result codes to errand's Errc.
//
// Inside the store these helpers throw errand::Error; every public Store
// method catches it at its boundary and returns it as a value. That keeps the
// many-statement transactions readable without hiding the error model.
//
// Thread safety: a Conn is used by one thread at a time (the store's pool
// hands it out); it is opened with SQLITE_OPEN_NOMUTEX accordingly.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "errand/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace errand::sqlite {

/// Builds the Error for SQLite result `rc` while doing `what` on `path`.
Error sqlite_error(int rc, std::string_view what, const std::string& path, std::string_view detail,
                   std::chrono::milliseconds busy_timeout);

/// A cached prepared statement, reset (and unbound) when the cursor goes out
/// of scope so the next user starts clean. Text is bound without copying:
/// the bound value must outlive the cursor (rvalue strings are refused).
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, class Conn* conn) : stmt_(stmt), conn_(conn) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int index, std::string_view text);
  Stmt& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Stmt& bind(int index, std::string&& text) = delete;  // would dangle
  Stmt& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Stmt& bind(int index, double value);
  Stmt& bind(int index, std::int64_t value);
  Stmt& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Stmt& bind(int index, std::size_t value) { return bind(index, static_cast<std::int64_t>(value)); }
  Stmt& bind_null(int index);

  /// Steps once: true if a row is available, false when done; throws on error.
  bool row();
  /// Steps to completion (any rows are discarded); returns sqlite3_changes().
  int run();

  std::string_view text(int col) const;
  std::string str(int col) const { return std::string(text(col)); }
  double real(int col) const;
  std::int64_t integer(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3_stmt* stmt_;
  class Conn* conn_;
};

/// One SQLite connection with its statement cache.
class Conn {
 public:
  struct Options {
    std::string path;
    bool create = true;
    std::chrono::milliseconds busy_timeout{5'000};
  };
  /// Opens and configures (WAL, synchronous=NORMAL, busy timeout) a connection.
  static std::unique_ptr<Conn> open(const Options& options);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  /// The cached statement for `sql`, keyed by the literal's address (every
  /// caller passes a string literal, so the address names the statement).
  Stmt stmt(const char* sql);
  /// Runs one statement that returns nothing (BEGIN, COMMIT, DDL).
  void exec(const char* sql);
  /// Runs a PRAGMA that returns one value, as text.
  std::string pragma(const char* sql);

  [[noreturn]] void raise(int rc, std::string_view what);
  sqlite3* handle() const { return db_; }
  const Options& options() const { return options_; }
  /// True while a transaction is open on this connection.
  bool in_transaction() const;

 private:
  Conn(sqlite3* db, Options options) : db_(db), options_(std::move(options)) {}
  sqlite3* db_;
  Options options_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace errand::sqlite
