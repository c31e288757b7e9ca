// The PostgreSQL store: jobs in tables of one schema, claimed with
// FOR UPDATE SKIP LOCKED, idle workers woken by LISTEN/NOTIFY. See
// docs/stores.md and schema.cc.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "errand/store.h"

namespace errand {
struct PostgresOptions {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string user;               ///< empty: libpq's default (the OS user, PGUSER)
  std::string password;           ///< empty: none (trust, peer, or ~/.pgpass)
  std::string dbname;             ///< empty: libpq's default (the user name)
  std::string schema = "errand";  ///< where the tables live
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds poll_interval{
      1'000};                 ///< fetch looks again this often without a NOTIFY
  std::size_t max_idle = 16;  ///< idle connections kept in the pool
  std::string sslmode;        ///< libpq sslmode; empty: libpq's default
};
/// Parses postgres://[user[:password]@]host[:port]/db[?schema=NAME&poll_interval=MS
/// &connect_timeout=MS&sslmode=MODE] (also postgresql://), connects, refuses a
/// read-only server and migrates the schema. Errors: invalid_argument for a
/// malformed URL, a wrong password or a missing database; unavailable for an
/// unreachable or read-only server; corrupt for a schema newer than this build.
Result<std::shared_ptr<Store>> open_postgres_store(const std::string& url);
Result<std::shared_ptr<Store>> open_postgres_store(const PostgresOptions& options);
}  // namespace errand
