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
  // `conninfo`: a postgresql:// URI without errand's own parameters.
  PgWatch(const std::string& conninfo, const std::string& schema)
      : conn_(PQconnectdb(conninfo.c_str())), jobs_(schema + ".jobs") {
    if (PQstatus(conn_) != CONNECTION_OK) fail("connect");
  }
  ~PgWatch() override { PQfinish(conn_); }
  PgWatch(const PgWatch&) = delete;
  PgWatch& operator=(const PgWatch&) = delete;

  // Waiting or claimed rows; acknowledged jobs are deleted.
  bool done() override {
    return number("SELECT count(*) FROM " + jobs_ + " WHERE state IN ('queued', 'claimed')") == 0;
  }
  // The lowest id left: changes once the first job is acknowledged.
  std::int64_t progress() override {
    return number("SELECT coalesce(min(id), -1) FROM " + jobs_ +
                  " WHERE state IN ('queued', 'claimed')");
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
};

}  // namespace

std::unique_ptr<Watch> watch_postgres(const std::string& url) {
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
  return std::make_unique<PgWatch>(uri, schema);
}

}  // namespace bench
