// The outside harness's PostgreSQL watch: the store's jobs table read with
// libpq, never through the worker under test.
#include <postgresql/libpq-fe.h>

#include <stdexcept>
#include <string>

#include "outside/watch.h"

namespace bench {
namespace {

class PgWatch final : public Watch {
 public:
  // `conninfo`: a postgresql:// URI without errand's own parameters. `table`:
  // "jobs" for errand's `<schema>.jobs` (waiting or claimed rows), anything
  // else for another system's table in the connection's search path, which
  // empties as jobs finish (Delayed Job's delayed_jobs).
  PgWatch(const std::string& conninfo, const std::string& schema, const std::string& table)
      : conn_(PQconnectdb(conninfo.c_str())),
        jobs_(table == "jobs" ? schema + ".jobs" : table),
        left_(table == "jobs" ? " WHERE state IN ('queued', 'claimed')" : "") {
    if (PQstatus(conn_) != CONNECTION_OK) fail("connect");
  }
  ~PgWatch() override { PQfinish(conn_); }
  PgWatch(const PgWatch&) = delete;
  PgWatch& operator=(const PgWatch&) = delete;

  // Rows left; acknowledged jobs are deleted.
  bool done() override { return number("SELECT count(*) FROM " + jobs_ + left_) == 0; }
  // The lowest id left: changes once the first job is acknowledged.
  std::int64_t progress() override {
    return number("SELECT coalesce(min(id), -1) FROM " + jobs_ + left_);
  }
  // 0 before the first push has made the table.
  std::int64_t bytes() override {
    return number("SELECT coalesce(pg_total_relation_size(to_regclass('" + jobs_ + "')), 0)");
  }
  // The server's processes are not counted (one per connection).
  int server_pid() override { return 0; }

 private:
  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("watch: postgres " + what + ": " + PQerrorMessage(conn_));
  }
  std::int64_t number(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
      PQclear(r);
      fail(sql);
    }
    const std::int64_t v = std::stoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
  }

  PGconn* conn_;
  std::string jobs_;
  std::string left_;  ///< the WHERE clause of the rows not yet acknowledged
};

}  // namespace

std::unique_ptr<Watch> watch_postgres(const std::string& url, const std::string& table) {
  // postgres://user:pass@host:port/db?schema=NAME → libpq's URI and the schema.
  std::string uri = "postgresql://" + url.substr(url.find("://") + 3);
  std::string schema = "errand";
  if (auto q = uri.find('?'); q != std::string::npos) {
    if (auto at = uri.find("schema=", q); at != std::string::npos) {
      const auto end = uri.find('&', at);
      schema = uri.substr(at + 7, end == std::string::npos ? std::string::npos : end - at - 7);
    }
    uri.resize(q);
  }
  return std::make_unique<PgWatch>(uri, schema, table);
}

}  // namespace bench
