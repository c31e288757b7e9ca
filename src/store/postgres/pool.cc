#include "store/postgres/pool.h"

#include <algorithm>

namespace errand::pg {

Lease::~Lease() {
  if (conn_) pool_->give_back(std::move(conn_));
}

Lease Pool::lease() {
  for (;;) {
    std::unique_ptr<Conn> conn;
    {
      MutexLock lock(mu_);
      if (idle_.empty()) break;
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    // A connection idle across a server restart is dead: drop it, try the next.
    if (conn->alive()) return Lease(this, std::move(conn));
  }
  return Lease(this, open());
}

std::unique_ptr<Conn> Pool::open() {
  {
    MutexLock lock(mu_);
    if (failures_ > 0 && std::chrono::steady_clock::now() < retry_at_)
      throw Error(Errc::unavailable, last_error_ + " (reconnecting with backoff)");
  }
  try {
    auto conn = Conn::open(options_.conninfo, options_.where, statements_);
    MutexLock lock(mu_);
    failures_ = 0;
    return conn;
  } catch (const Error& e) {
    MutexLock lock(mu_);
    ++failures_;
    auto step = options_.min_backoff * (1 << std::min(failures_ - 1, 10));
    retry_at_ = std::chrono::steady_clock::now() +
                std::min<std::chrono::milliseconds>(step, options_.max_backoff);
    last_error_ = e.message();
    throw;
  }
}

void Pool::give_back(std::unique_ptr<Conn> conn) {
  if (!conn->alive()) return;
  // A connection left inside a transaction (an exception in flight) is not
  // reused as is.
  if (conn->in_transaction()) {
    try {
      conn->exec("ROLLBACK");
    } catch (...) {
      return;
    }
  }
  MutexLock lock(mu_);
  if (idle_.size() < options_.max_idle) idle_.push_back(std::move(conn));
}

}  // namespace errand::pg
