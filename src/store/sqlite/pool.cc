// The SQLite store's connection pool, its write and read transactions, and
// the wake-ups that let this process's fetchers stop waiting at once.
#include <algorithm>
#include <thread>

#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

// Two processes opening a new file at once race on the switch to WAL and
// on the schema; SQLite does not call its busy handler for those steps, so
// retry them here, within the busy timeout.
void SqliteStore::init() {
  const auto deadline = std::chrono::steady_clock::now() + options_.busy_timeout;
  for (int attempt = 1;; ++attempt) {
    try {
      auto conn = open_conn();
      migrate(*conn);
      give_back(std::move(conn));
      return;
    } catch (const Error& e) {
      if (e.code() != Errc::busy || std::chrono::steady_clock::now() >= deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * attempt, 100)));
    }
  }
}

// ---- pool ------------------------------------------------------------------

Lease::~Lease() {
  if (conn_) store_->give_back(std::move(conn_));
}

void SqliteStore::give_back(std::unique_ptr<Conn> conn) {
  // A connection left inside a transaction (a bug or an exception in
  // flight) must not be reused as is.
  if (conn->in_transaction()) {
    try {
      conn->exec("ROLLBACK");
    } catch (...) {
      return;  // drop it
    }
  }
  std::lock_guard lock(pool_mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
}

std::unique_ptr<Conn> SqliteStore::open_conn() {
  auto conn = Conn::open(Conn::Options{options_.path, options_.create, options_.busy_timeout});
  checkpointer_.attach(*conn);
  return conn;
}

Lease SqliteStore::lease() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  return Lease(this, open_conn());  // opened outside the pool lock
}

// ---- transactions ----------------------------------------------------------

SqliteStore::Txn::Txn(SqliteStore& store, Conn& conn, const char* what)
    : store_(store), conn_(conn) {
  // try_lock_until on the system clock, not try_lock_for: libstdc++ turns a
  // steady-clock wait into pthread_mutex_clocklock, which ThreadSanitizer
  // does not intercept (llvm-project#62623), so every later unlock would be
  // reported as an unlock of an unlocked mutex. pthread_mutex_timedlock (the
  // system clock) is seen. A wall-clock jump only shortens or stretches
  // this one wait.
  if (!store_.write_mu_.try_lock_until(std::chrono::system_clock::now() +
                                       store_.options_.busy_timeout))
    throw fail(Errc::busy, "SQLite database '" + store_.options_.path + "' is busy: " + what +
                               " waited " + std::to_string(store_.options_.busy_timeout.count()) +
                               " ms for this process's other writers");
  try {
    conn_.exec("BEGIN IMMEDIATE");
  } catch (...) {
    store_.write_mu_.unlock();
    throw;
  }
}

SqliteStore::Txn::~Txn() {
  if (!done_) {
    try {
      conn_.exec("ROLLBACK");
    } catch (...) {  // nothing more to do; the pool drops a conn still in a transaction
    }
  }
  store_.write_mu_.unlock();
}

void SqliteStore::Txn::commit() {
  conn_.exec("COMMIT");
  done_ = true;
}

ReadTxn::~ReadTxn() {
  if (open_) {
    try {
      conn_.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

void ReadTxn::end() {
  conn_.exec("COMMIT");
  open_ = false;
}

// ---- wake-ups within this process ------------------------------------------

std::uint64_t SqliteStore::wake_generation() {
  std::lock_guard lock(wake_mu_);
  return wake_gen_;
}

void SqliteStore::wake() {
  {
    std::lock_guard lock(wake_mu_);
    ++wake_gen_;
  }
  wake_cv_.notify_all();
}

void SqliteStore::wait_for_wake(std::uint64_t seen, std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(wake_mu_);
  wake_cv_.wait_until(lock, until, [&] { return wake_gen_ != seen; });
}

}  // namespace errand::sqlite
