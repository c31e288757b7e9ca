// The SQLite store's class, split by role as LevelDB splits DBImpl:
//
//   sqlite_store_impl.h   this declaration, the write(op, fn) helper
//   pool.cc               connection pool, write/read transactions, wake-ups
//   transitions.cc        worker transitions: push, fetch, ack, requeue,
//                         retry, kill, promote_due, rescue_orphans, heartbeat
//   admin.cc              admin reads and writes: stats, queues, sets,
//                         processes, signals
//   flow_control.cc       pause, locks, capabilities()
//   status.cc             job status, results, cancellation
//   statements.cc         statements several of the above share
//   open.cc               URL options and open_sqlite_store()
//   within.cc             transactional enqueue on the application's connection
//   schema.cc, sqlite_db.cc  the tables; the thin sqlite3 layer
//   checkpointer.cc       WAL checkpoints on a thread of their own
//
// Concurrency:
//  - Connections come from a small pool (one per concurrently-calling thread);
//    a connection is never shared by two threads at once, and no store lock is
//    held while a call waits (fetch's poll sleeps hold nothing).
//  - Every write is one BEGIN IMMEDIATE transaction. Within this process the
//    writers first queue on write_mu_ (a timed mutex bounded by busy_timeout),
//    so threads of one process never fight through SQLite's sleeping busy
//    handler; across processes SQLite's own lock and busy_timeout decide.
//  - Reads (admin queries, fetch's "anything there?" probe) run without the
//    write lock, on WAL's snapshot isolation.
//  - fetch() waits by polling every poll_interval; a push, requeue or promote
//    made through this store object wakes this object's fetchers at once.
//
// Errors: the helpers below throw errand::Error (see sqlite_db.h); every
// public method returns through guarded(), which turns them into values.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite/checkpointer.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/within.h"

namespace errand::sqlite {

// Runs `body`, turning the internal Error exceptions into the returned value.
template <class F>
auto guarded(std::string_view op, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return fail(Errc::internal, "sqlite store: " + std::string(op) + ": " + e.what());
  }
}

class SqliteStore;

// A pooled connection, returned to the pool when the lease ends.
class Lease {
 public:
  Lease(SqliteStore* store, std::unique_ptr<Conn> conn) : store_(store), conn_(std::move(conn)) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  Conn* operator->() { return conn_.get(); }
  Conn& operator*() { return *conn_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<Conn> conn_;
};

// A read transaction, for admin reads that must agree with themselves.
class ReadTxn {
 public:
  explicit ReadTxn(Conn& conn) : conn_(conn) { conn_.exec("BEGIN"); }
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  ~ReadTxn();
  void end();

 private:
  Conn& conn_;
  bool open_ = true;
};

class SqliteStore final : public Store, public std::enable_shared_from_this<SqliteStore> {
 public:
  explicit SqliteStore(SqliteOptions options)
      : options_(std::move(options)),
        checkpointer_(Conn::Options{options_.path, false, options_.busy_timeout},
                      Checkpointer::kDefaultThreshold) {}

  // Opens the first connection and brings the schema up to date (pool.cc).
  void init();

  std::string_view scheme() const override { return "sqlite"; }
  StoreCapabilities capabilities() const override;

  // ---- worker transitions (transitions.cc) -------------------------------

  Status push(const PushParams& p) override;
  /// push()'s inserts, inside the caller's write transaction on `conn`.
  void push_on(Conn& conn, std::span<const PushItem> jobs, double now);
  Result<std::vector<Fetched>> fetch(const FetchParams& p) override;
  Status ack(std::span<const Fetched> jobs) override;
  /// ack's statements on `conn`, in the caller's write transaction.
  static void ack_on(Conn& conn, std::span<const Fetched> jobs);
  Status requeue(const RequeueParams& p) override;
  Status retry(const RetryParams& p) override;
  Status kill(const KillParams& p) override;
  Result<std::size_t> promote_due(const PromoteParams& p) override;
  Result<std::size_t> rescue_orphans(const RescueParams& p) override;
  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override;
  Status unregister(const std::string& identity) override;

  // ---- admin reads and writes (admin.cc) ---------------------------------

  Result<Stats> stats(double now) override;
  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override;
  Status reset_stats() override;
  Result<std::vector<QueueInfo>> queues(double now) override;
  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) override;
  Status queue_delete(const std::string& queue, const std::string& jid) override;
  Status clear_queue(const std::string& queue) override;
  Result<std::size_t> set_size(SetKind kind) override;
  Result<std::vector<SetEntry>> set_range(SetKind kind, std::size_t offset,
                                          std::size_t count) override;
  Result<SetEntry> set_find(SetKind kind, double score, const std::string& jid) override;
  Status set_delete(SetKind kind, double score, const std::string& jid) override;
  Status set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                  const std::string& queue, const std::string& new_payload, double now,
                  const DeadLimits& limits) override;
  Status set_clear(SetKind kind) override;
  Result<std::vector<ProcessRecord>> processes(double now) override;
  Result<std::vector<WorkRecord>> workers(double now) override;
  Status signal(const std::string& identity, const std::string& sig) override;

  // ---- flow control (flow_control.cc) ------------------------------------

  Status set_paused(const std::string& queue, bool paused) override;
  Result<std::vector<std::string>> paused_queues() override;
  Result<bool> lock_acquire(const std::string& key, const std::string& holder, double now,
                            double expires_at) override;
  Status lock_release(const std::string& key, const std::string& holder) override;
  Result<bool> lock_extend(const std::string& key, const std::string& holder, double now,
                           double expires_at) override;

  // ---- job status, results, cancellation (status.cc) ---------------------
  // wait_status() sleeps on status_cv_ (woken by this object's final
  // records and cancels) and looks at the file every poll_interval for
  // other processes' records.

  Status record_status(std::span<const StatusUpdate> updates) override;
  Status ack_with_status(std::span<const Fetched> jobs,
                         std::span<const StatusUpdate> statuses) override;
  Result<JobStatus> job_status(const std::string& jid, double now) override;
  Result<JobStatus> wait_status(const std::string& jid, double now,
                                std::chrono::milliseconds timeout) override;
  Result<JobState> cancel_job(const std::string& jid, double now, double ttl_seconds) override;
  Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids) override;

  // ---- batches (batches.cc) ----------------------------------------------

  Status batch_update(const std::string& bid, double now,
                      const std::function<Status(BatchTxn&)>& fn) override;
  Result<BatchRecord> batch_read(const std::string& bid) override;
  Result<std::vector<std::string>> batch_list(std::size_t offset, std::size_t count,
                                              double now) override;
  // ---- progress (progress.cc); no event channel: publish_events and
  // subscribe_events stay unsupported (docs/workflows.md, "Events") --------

  Status record_progress(std::span<const ProgressUpdate> updates) override;

  // ---- transactional enqueue (within.cc) --------------------------------
  // On the application's connection; its commit wakes fetchers here within
  // poll_interval.

  Status push_within(const AppTransaction& txn, const PushParams& p) override {
    return sqlite::push_within(options_.path, txn, p);
  }
  Result<bool> lock_acquire_within(const AppTransaction& txn, const std::string& key,
                                   const std::string& holder, double now,
                                   double expires_at) override {
    return sqlite::lock_acquire_within(options_.path, txn, key, holder, now, expires_at);
  }

  // ---- pool (pool.cc) ----------------------------------------------------

  // Takes back a leased connection (Lease's destructor calls it).
  void give_back(std::unique_ptr<Conn> conn);

 private:
  static constexpr std::size_t kMaxIdle = 16;

  // A write transaction: this process's writers take turns on write_mu_
  // (bounded by busy_timeout), then BEGIN IMMEDIATE takes SQLite's lock.
  // Rolls back unless committed.
  class Txn {
   public:
    Txn(SqliteStore& store, Conn& conn, const char* what);
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    ~Txn();
    void commit();

   private:
    SqliteStore& store_;
    Conn& conn_;
    bool done_ = false;
  };

  // Runs `fn(conn)` in one write transaction on `conn`, committed if it
  // returns ok and rolled back otherwise (or if it throws). Returns what fn
  // returns.
  template <class F>
  auto in_txn(Conn& conn, const char* op, F&& fn) -> decltype(fn(conn)) {
    Txn txn(*this, conn, op);
    auto out = fn(conn);
    if (out.ok()) txn.commit();
    return out;
  }

  // One public write: a pooled connection, one write transaction around
  // `fn(Conn&)` (committed if fn returns ok), errors returned as values.
  template <class F>
  auto write(const char* op, F&& fn) -> decltype(fn(std::declval<Conn&>())) {
    return guarded(op, [&]() -> decltype(fn(std::declval<Conn&>())) {
      Lease conn = lease();
      return in_txn(*conn, op, fn);
    });
  }

  // One public read: a pooled connection for `fn(Conn&)`, no transaction.
  template <class F>
  auto read(const char* op, F&& fn) -> decltype(fn(std::declval<Conn&>())) {
    return guarded(op, [&]() -> decltype(fn(std::declval<Conn&>())) {
      Lease conn = lease();
      return fn(*conn);
    });
  }

  std::unique_ptr<Conn> open_conn();
  Lease lease();

  // Wake-ups within this process (pool.cc).
  std::uint64_t wake_generation();
  void wake();
  void wait_for_wake(std::uint64_t seen, std::chrono::steady_clock::time_point until);

  // Claims up to `max` jobs across `queues` in order, in one transaction.
  void claim(Conn& conn, std::span<const std::string> queues, std::size_t max,
             const std::string& owner, double now, std::vector<Fetched>& out);
  // Moves due retry, then scheduled, entries into their queues; the count.
  static std::size_t promote_rows(Conn& conn, double now, std::size_t limit);
  // Drops processes whose heartbeat expired; takes the write lock only when
  // there is something to drop.
  void prune(Conn& conn, double now);

  const SqliteOptions options_;

  std::timed_mutex write_mu_;  // serializes this process's write transactions

  // Declared before the pool: its connections' WAL hooks point here, so it
  // must outlive them.
  Checkpointer checkpointer_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by pool_mu_

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;  // fetchers wait here; guarded by wake_mu_
  std::uint64_t wake_gen_ = 0;       // bumped on every push/requeue/promote; guarded by wake_mu_

  // Status waiters (status.cc).
  void status_changed();
  std::mutex status_mu_;
  std::condition_variable status_cv_;  // wait_status() sleeps here; guarded by status_mu_
  std::uint64_t status_gen_ = 0;       // bumped on every final record; guarded by status_mu_
  double status_purged_at_ = 0;        // guarded by status_mu_: the last purge of expired rows
};

// ---- statements shared by several operations (statements.cc) -------------

// Scores come back from the UI as text ("<score>-<jid>"); match within a
// millisecond rather than bit-for-bit.
inline constexpr double kScoreSlack = 1e-3;

// The jobs.state value of a set.
const char* state_name(SetKind kind);
bool any_ready(Conn& conn, std::span<const std::string> queues);
bool any_due(Conn& conn, const char* state, double now);
// retry()/kill(): the claimed row becomes a set entry in place. If the
// claim is gone (or this store never handed the job out) the entry is
// added anew, so the failure is never lost.
void park(Conn& conn, const Fetched& job, const std::string& jid, const std::string& payload,
          const char* state, double score);
// Sidekiq's dead-set trim (WIRE §6.4): drop entries older than max_age,
// then keep at most max_jobs - 1 (its ZREMRANGEBYRANK dead 0 -max).
void trim_dead(Conn& conn, double now, const DeadLimits& limits);
std::optional<std::int64_t> find_entry(Conn& conn, SetKind kind, double score,
                                       const std::string& jid);
void know_queue(Conn& conn, const std::string& queue);
void add_counter(Conn& conn, const std::string& key, std::int64_t by);
std::int64_t counter(Conn& conn, const std::string& key);
std::int64_t clamp(std::size_t n);
std::string jid_of(const std::string& payload);
Error not_in_set(SetKind kind, double score, const std::string& jid);

}  // namespace errand::sqlite
