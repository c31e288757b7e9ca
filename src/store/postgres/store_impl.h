// The PostgreSQL store's class, shared by the files that implement it by
// role: worker.cc (job transitions), registry.cc (processes, signals,
// counters, locks, pause), admin.cc (queues and sets for the UI),
// postgres_store.cc (open, URL).
//
// Concurrency: every call leases its own connection from the pool; writes
// that take several statements run in one transaction; fetch claims with
// FOR UPDATE SKIP LOCKED, so concurrent fetchers (threads or processes)
// never wait on each other or share a job.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "errand/store.h"
#include "store/postgres/listener.h"
#include "store/postgres/pool.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/statements.h"

namespace errand::pg {

/// Runs `body`, turning the internal Error exceptions into the returned value.
template <class F>
auto guarded(std::string_view op, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Error(Errc::internal, "postgres store: " + std::string(op) + ": " + e.what());
  }
}

/// The state column's value for a set.
const char* state_name(SetKind kind);

/// The parameters of statement kPush for `jobs` (checked: no empty queue
/// name for a ready job). Used on the store's connections and, for
/// transactional enqueue, on an application's own.
Params push_params(std::span<const PushItem> jobs, double now, const std::string& channel);
/// The parameters of statement kAck for `jobs`.
Params ack_params(std::span<const Fetched> jobs);

class PgStore final : public Store {
 public:
  PgStore(PostgresOptions options, std::string conninfo, std::string where);
  ~PgStore() override;
  /// Connects once, checks the server is writable, migrates the schema.
  void init();

  std::string_view scheme() const override { return "postgres"; }
  StoreCapabilities capabilities() const override {
    StoreCapabilities c;
    c.ordering = true;  // ORDER BY priority DESC, id
    c.pause = true;
    c.locks = true;
    c.lock_extend = true;
    c.transactional_push = true;  // push_within()
    c.listen_notify = true;       // one LISTEN connection per store wakes its fetchers
    c.status = true;              // the job_status table (status.cc)
    c.batches = true;             // the batches and batch_members tables (batches.cc)
    c.ack_with_status = true;     // one transaction (status.cc)
    return c;
  }
  const PostgresOptions& options() const { return options_; }
  const std::string& channel() const { return channel_; }
  const Statements& statements() const { return statements_; }

  // worker.cc
  Status push(const PushParams& p) override;
  Result<std::vector<Fetched>> fetch(const FetchParams& p) override;
  Status ack(std::span<const Fetched> jobs) override;
  Status requeue(const RequeueParams& p) override;
  Status retry(const RetryParams& p) override;
  Status kill(const KillParams& p) override;
  Status reschedule(const RescheduleParams& p) override;
  Result<std::size_t> promote_due(const PromoteParams& p) override;
  Result<std::size_t> rescue_orphans(const RescueParams& p) override;

  // registry.cc
  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override;
  Status unregister(const std::string& identity) override;
  Result<Stats> stats(double now) override;
  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override;
  Status reset_stats() override;
  Result<std::vector<ProcessRecord>> processes(double now) override;
  Result<std::vector<WorkRecord>> workers(double now) override;
  Status signal(const std::string& identity, const std::string& sig) override;
  Status set_paused(const std::string& queue, bool paused) override;
  Result<std::vector<std::string>> paused_queues() override;
  Result<bool> lock_acquire(const std::string& key, const std::string& holder, double now,
                            double expires_at) override;
  Status lock_release(const std::string& key, const std::string& holder) override;
  Result<bool> lock_extend(const std::string& key, const std::string& holder, double now,
                           double expires_at) override;

  // within.cc (transactional enqueue on the application's connection)
  Status push_within(const AppTransaction& txn, const PushParams& p) override;
  Result<bool> lock_acquire_within(const AppTransaction& txn, const std::string& key,
                                   const std::string& holder, double now,
                                   double expires_at) override;

  // status.cc: final records NOTIFY status_channel_ with the jid; waiters
  // sleep on status_listener_ (a second LISTEN connection, opened by the
  // first wait_status()).
  Status record_status(std::span<const StatusUpdate> updates) override;
  Status ack_with_status(std::span<const Fetched> jobs,
                         std::span<const StatusUpdate> statuses) override;
  Result<JobStatus> job_status(const std::string& jid, double now) override;
  Result<JobStatus> wait_status(const std::string& jid, double now,
                                std::chrono::milliseconds timeout) override;
  Result<JobState> cancel_job(const std::string& jid, double now, double ttl_seconds) override;
  Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids) override;

  // progress_events.cc: progress in job_status; events NOTIFY events_channel_
  // (a JSON object each), each subscription LISTENs on a connection of its own.
  Status record_progress(std::span<const ProgressUpdate> updates) override;
  Status publish_events(std::span<const JobEvent> events) override;
  Result<std::unique_ptr<EventSubscription>> subscribe_events(EventCallback on_event) override;

  // admin.cc
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

  // batches.cc
  Status batch_update(const std::string& bid, double now,
                      const std::function<Status(BatchTxn&)>& fn) override;
  Result<BatchRecord> batch_read(const std::string& bid) override;
  Result<std::vector<std::string>> batch_list(std::size_t offset, std::size_t count,
                                              double now) override;

 private:
  Lease lease() { return pool_.lease(); }
  void claim(Conn& conn, std::span<const std::string> queues, std::size_t max,
             const std::string& owner, double now, std::vector<Fetched>& out);
  void park(Conn& conn, const Fetched& job, const std::string& jid, const std::string& payload,
            const char* state, double score);
  void trim_dead(Conn& conn, double now, const DeadLimits& limits);
  /// kStatusRecord for `updates` (not empty) on `conn`, and now and
  /// then the purge of expired records.
  void write_statuses(Conn& conn, std::span<const StatusUpdate> updates);

  const PostgresOptions options_;
  const std::string channel_;  // NOTIFY channel: "errand:<schema>"
  const Statements statements_;
  Pool pool_;
  Listener listener_;
  const std::string status_channel_;  // NOTIFY channel of final statuses: "errand:<schema>:status"
  Listener status_listener_;
  std::atomic<double> status_purged_at_{0};  // the last purge of expired status rows
  const std::string events_channel_;  // NOTIFY channel of job events: "errand:<schema>:events"
};

}  // namespace errand::pg
