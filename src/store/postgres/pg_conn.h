// A thin layer over libpq for the PostgreSQL store: one connection with its
// lazily prepared statements, owned results, text parameters, and the mapping
// from SQLSTATE codes to errand's Errc.
//
// Inside the store these helpers throw errand::Error; every public Store
// method catches it at its boundary and returns it as a value (as the SQLite
// store does).
//
// Thread safety: a Conn is used by one thread at a time (the pool hands it
// out).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "errand/status.h"

struct pg_conn;
struct pg_result;

namespace errand::pg {

/// The SQL texts a store prepares on each connection, indexed by statement id.
using Statements = std::vector<std::string>;

/// Parameters, all sent as text (libpq's text format; PostgreSQL casts them).
class Params {
 public:
  Params& add(std::string_view text);
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(double value);
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(std::size_t value);
  Params& add(bool value) { return add(value ? "t" : "f"); }
  Params& null();

  int size() const { return static_cast<int>(values_.size()); }
  /// Pointers for PQexecParams; valid until the next add().
  std::vector<const char*> pointers() const;
  std::vector<int> lengths() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

/// A PostgreSQL array literal ('{"a","b"}') of `items` for a text[] parameter.
std::string text_array(const std::vector<std::string>& items);
std::string text_array(const std::vector<std::string_view>& items);
/// An array literal of numbers for a float8[] / bigint[] parameter.
std::string number_array(const std::vector<double>& items);
std::string number_array(const std::vector<std::int64_t>& items);

/// One owned PGresult.
class Res {
 public:
  explicit Res(pg_result* res) : res_(res) {}
  Res(Res&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }
  Res(const Res&) = delete;
  Res& operator=(const Res&) = delete;
  ~Res();

  int rows() const;
  bool null(int row, int col) const;
  std::string_view text(int row, int col) const;
  std::string str(int row, int col) const { return std::string(text(row, col)); }
  std::int64_t integer(int row, int col) const;
  double real(int row, int col) const;
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  /// Rows a command touched (PQcmdTuples).
  std::int64_t affected() const;

 private:
  pg_result* res_;
};

/// Builds the Error for a failed connection attempt to `where`.
Error connect_error(std::string_view where, std::string_view libpq_message);

/// One connection.
class Conn {
 public:
  /// Connects with `conninfo` (libpq keyword/value string); `where` names
  /// the server in messages. Throws Error (unavailable; invalid_argument for
  /// a wrong password or a missing database, which no retry fixes).
  static std::unique_ptr<Conn> open(const std::string& conninfo, const std::string& where,
                                    const Statements* statements);
  /// Wraps a connection the application owns (transactional enqueue): never
  /// closed by this object.
  static std::unique_ptr<Conn> borrow(pg_conn* conn, const std::string& where);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  /// Runs SQL without parameters (several statements allowed).
  Res exec(std::string_view sql);
  /// Runs statement `id` of the store's Statements, preparing it on first use.
  Res run(std::size_t id, const Params& params);
  /// Runs SQL with parameters, unprepared.
  Res query(const std::string& sql, const Params& params);

  /// False once the server closed the connection (seen by a failed call or,
  /// for an idle one, by looking at the socket without blocking).
  bool alive();
  bool in_transaction() const;
  pg_conn* handle() { return conn_; }
  int socket() const;
  const std::string& where() const { return where_; }

 private:
  Conn(pg_conn* conn, std::string where, const Statements* statements, bool owned);
  Res check(pg_result* res, std::string_view what);

  pg_conn* conn_;
  std::string where_;
  const Statements* statements_;
  std::vector<bool> prepared_;
  bool owned_;
};

/// A transaction on `conn`: BEGIN now, COMMIT on commit(), ROLLBACK otherwise.
class Txn {
 public:
  explicit Txn(Conn& conn) : conn_(conn) { conn_.exec("BEGIN"); }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();
  void commit();

 private:
  Conn& conn_;
  bool done_ = false;
};

}  // namespace errand::pg
