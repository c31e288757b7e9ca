#include "store/postgres/pg_conn.h"

#include <poll.h>
#include <postgresql/libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <utility>

#if ERRAND_LAZY_LIBPQ
#include "store/postgres/libpq_lazy.h"
#endif

namespace errand::pg {
namespace {

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text);
}

std::string format_double(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(value);
}

// What a SQLSTATE means to a caller. Connection trouble and server shutdown
// are worth retrying; lock conflicts are `busy`; a read-only server is
// reported as such whatever the statement was.
Errc errc_of(std::string_view state, bool connection_bad) {
  if (connection_bad) return Errc::unavailable;
  if (state.starts_with("08") || state.starts_with("57P") || state.starts_with("53"))
    return Errc::unavailable;
  if (state == "25006") return Errc::unavailable;  // read_only_sql_transaction
  if (state == "40001" || state == "40P01" || state == "55P03") return Errc::busy;
  if (state == "42P01" || state == "42703" || state == "3F000") return Errc::corrupt;
  if (state == "22P02" || state == "22023") return Errc::invalid_argument;
  return Errc::internal;
}

std::string_view field(const PGresult* res, int code) {
  const char* v = res ? PQresultErrorField(res, code) : nullptr;
  return v ? std::string_view(v) : std::string_view();
}

}  // namespace

// ---- Params -----------------------------------------------------------------

Params& Params::add(std::string_view text) {
  values_.emplace_back(std::string(text));
  return *this;
}
Params& Params::add(double value) {
  values_.emplace_back(format_double(value));
  return *this;
}
Params& Params::add(std::int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}
Params& Params::add(std::size_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}
Params& Params::null() {
  values_.emplace_back(std::nullopt);
  return *this;
}
std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}
std::vector<int> Params::lengths() const {
  std::vector<int> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? static_cast<int>(v->size()) : 0);
  return out;
}

template <class Seq>
static std::string quoted_array(const Seq& items) {
  std::size_t total = 2;
  for (const auto& s : items) total += s.size() + 3;
  std::string out;
  out.reserve(total);
  out += '{';
  bool first = true;
  for (const auto& s : items) {
    if (!first) out += ',';
    first = false;
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string text_array(const std::vector<std::string>& items) { return quoted_array(items); }
std::string text_array(const std::vector<std::string_view>& items) { return quoted_array(items); }

std::string number_array(const std::vector<double>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += format_double(items[i]);
  }
  return out + "}";
}
std::string number_array(const std::vector<std::int64_t>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(items[i]);
  }
  return out + "}";
}

// ---- Res --------------------------------------------------------------------

Res::~Res() {
  if (res_) PQclear(res_);
}
int Res::rows() const { return PQntuples(res_); }
bool Res::null(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }
std::string_view Res::text(int row, int col) const {
  return std::string_view(PQgetvalue(res_, row, col),
                          static_cast<std::size_t>(PQgetlength(res_, row, col)));
}
std::int64_t Res::integer(int row, int col) const {
  auto t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}
double Res::real(int row, int col) const {
  // PostgreSQL prints float8 in the shortest text that reads back exactly.
  auto t = text(row, col);
  double v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}
std::int64_t Res::affected() const {
  const char* n = PQcmdTuples(res_);
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

// ---- Conn -------------------------------------------------------------------

Error connect_error(std::string_view where, std::string_view libpq_message) {
  const std::string msg = trimmed(libpq_message);
  const std::string head = "cannot connect to PostgreSQL at " + std::string(where) + ": ";
  // No retry fixes these: say what to change.
  if (msg.find("password authentication failed") != std::string::npos ||
      msg.find("no password supplied") != std::string::npos)
    return Error(Errc::invalid_argument,
                 head + msg + " (check the user and password in the store URL)");
  if (msg.find("does not exist") != std::string::npos && msg.find("database") != std::string::npos)
    return Error(Errc::invalid_argument,
                 head + msg + " (create it first, e.g. createdb, or fix the store URL)");
  if (msg.find("role") != std::string::npos && msg.find("does not exist") != std::string::npos)
    return Error(Errc::invalid_argument, head + msg + " (check the user in the store URL)");
  return Error(Errc::unavailable, head + msg);
}

Conn::Conn(pg_conn* conn, std::string where, const Statements* statements, bool owned)
    : conn_(conn), where_(std::move(where)), statements_(statements), owned_(owned) {
  if (statements_) prepared_.assign(statements_->size(), false);
}

std::unique_ptr<Conn> Conn::open(const std::string& conninfo, const std::string& where,
                                 const Statements* statements) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (c == nullptr) {
#if ERRAND_LAZY_LIBPQ
    if (const char* why = postgres_lazy::load_error())
      throw Error(Errc::unavailable,
                  std::string("cannot load libpq, which postgres:// stores need (Debian: apt-get "
                              "install libpq5): ") +
                      why);
#endif
    throw Error(Errc::unavailable, "libpq could not allocate a connection");
  }
  if (PQstatus(c) != CONNECTION_OK) {
    Error e = connect_error(where, PQerrorMessage(c));
    PQfinish(c);
    throw e;
  }
  // Notices ("schema already exists", a terminated session's goodbye) are
  // not errors; libpq would print them on stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Conn>(new Conn(c, where, statements, true));
}

std::unique_ptr<Conn> Conn::borrow(pg_conn* conn, const std::string& where) {
  return std::unique_ptr<Conn>(new Conn(conn, where, nullptr, false));
}

Conn::~Conn() {
  if (owned_ && conn_) PQfinish(conn_);
}

Res Conn::check(PGresult* res, std::string_view what) {
  const auto status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Res(res);
  const bool bad = PQstatus(conn_) != CONNECTION_OK;
  const std::string state(field(res, PG_DIAG_SQLSTATE));
  std::string msg = res ? trimmed(PQresultErrorMessage(res)) : trimmed(PQerrorMessage(conn_));
  if (msg.empty()) msg = trimmed(PQerrorMessage(conn_));
  if (res) PQclear(res);
  std::string text = "PostgreSQL at " + where_ + ": " + std::string(what) + ": " + msg;
  if (state == "25006")
    text +=
        " (the server is read-only: a hot standby or default_transaction_read_only = on; "
        "errand needs a writable primary)";
  if (bad) text += " (connection lost)";
  throw Error(errc_of(state, bad), text);
}

Res Conn::exec(std::string_view sql) {
  std::string text(sql);
  return check(PQexec(conn_, text.c_str()), text.size() > 60 ? text.substr(0, 60) + "..." : text);
}

Res Conn::run(std::size_t id, const Params& params) {
  const std::string name = "errand_" + std::to_string(id);
  const std::string& sql = (*statements_)[id];
  if (!prepared_[id]) {
    check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), "prepare " + name);
    prepared_[id] = true;
  }
  auto ptrs = params.pointers();
  auto lens = params.lengths();
  return check(
      PQexecPrepared(conn_, name.c_str(), params.size(), ptrs.data(), lens.data(), nullptr, 0),
      sql.size() > 60 ? sql.substr(0, 60) + "..." : sql);
}

Res Conn::query(const std::string& sql, const Params& params) {
  auto ptrs = params.pointers();
  auto lens = params.lengths();
  return check(PQexecParams(conn_, sql.c_str(), params.size(), nullptr, ptrs.data(), lens.data(),
                            nullptr, 0),
               sql.size() > 60 ? sql.substr(0, 60) + "..." : sql);
}

bool Conn::alive() {
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  pollfd p{PQsocket(conn_), POLLIN, 0};
  // An idle connection has nothing to read unless the server said goodbye
  // (restart, terminated backend) or sent a notice.
  if (::poll(&p, 1, 0) > 0) {
    if (PQconsumeInput(conn_) == 0) return false;
    while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

bool Conn::in_transaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

int Conn::socket() const { return PQsocket(conn_); }

Txn::~Txn() {
  if (done_) return;
  try {
    if (conn_.alive()) conn_.exec("ROLLBACK");
  } catch (...) {  // the pool drops a connection still in a transaction
  }
}

void Txn::commit() {
  conn_.exec("COMMIT");
  done_ = true;
}

}  // namespace errand::pg
