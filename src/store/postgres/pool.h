// The PostgreSQL store's connection pool: hands each calling thread its own
// connection, keeps a few idle ones, drops those the server closed, and
// reconnects with exponential backoff while the server is down (callers then
// get Errc::unavailable promptly instead of piling up connection attempts).
//
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/postgres/pg_conn.h"

namespace errand::pg {

class Pool;

/// A pooled connection, given back when the lease ends.
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
  Lease(Lease&&) = default;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  Conn* operator->() { return conn_.get(); }
  Conn& operator*() { return *conn_; }

 private:
  Pool* pool_;
  std::unique_ptr<Conn> conn_;
};

class Pool {
 public:
  struct Options {
    std::string conninfo;  ///< libpq keyword/value string
    std::string where;     ///< "host:port/db" for messages
    std::size_t max_idle = 16;
    std::chrono::milliseconds min_backoff{50};
    std::chrono::milliseconds max_backoff{2'000};
  };
  Pool(Options options, const Statements* statements)
      : options_(std::move(options)), statements_(statements) {}

  /// An idle connection, or a new one. Throws Error (unavailable while the
  /// server cannot be reached: at most one connection attempt per backoff
  /// step, the others fail at once with the last error).
  Lease lease();
  /// A new connection outside the pool (the listener's).
  std::unique_ptr<Conn> open();
  void give_back(std::unique_ptr<Conn> conn);
  const Options& options() const { return options_; }

 private:
  const Options options_;
  const Statements* statements_;

  Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ GUARDED_BY(mu_);
  int failures_ GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point retry_at_ GUARDED_BY(mu_){};
  std::string last_error_ GUARDED_BY(mu_);
};

}  // namespace errand::pg
