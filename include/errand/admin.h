// The admin API: the read/write model that the CLI and the web dashboard
// share (Sidekiq's Sidekiq::Stats, Queue, ScheduledSet, RetrySet, DeadSet,
// ProcessSet). Policy for operator actions lives here, above the store seam:
// "retry now" gives the attempt back (retry_count − 1) and re-enqueues, as
// Sidekiq's Web UI does.
//
// The dashboard and the CLI reach the store only through here.
//
// Thread safety: an Admin may be used from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errand/clock.h"
#include "errand/queues.h"
#include "errand/status.h"
#include "errand/store.h"

namespace errand {

struct BatchStatus;  // errand/batch.h

struct PushOptions;

class Admin {
 public:
  explicit Admin(std::shared_ptr<Store> store, const Clock* clock = nullptr, DeadLimits dead = {});
  /// The admin of the default store of `queues`; enqueue() routes each job
  /// through `queues` (a queue defined on another store goes there).
  explicit Admin(QueueMap queues, const Clock* clock = nullptr, DeadLimits dead = {});

  Result<Stats> stats() { return store_->stats(now()); }
  /// Every queue, marked paused when the store lists it as paused (stores
  /// that cannot pause list none).
  Result<std::vector<QueueInfo>> queues();
  Status clear_queue(const std::string& name) { return store_->clear_queue(name); }
  /// A page of a queue's waiting jobs, next to run first.
  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) {
    return store_->queue_jobs(queue, offset, count);
  }
  /// Pauses or resumes fetching a queue, cluster-wide; unsupported on stores
  /// that cannot pause.
  Status set_paused(const std::string& queue, bool paused) {
    return store_->set_paused(queue, paused);
  }
  Result<std::vector<std::string>> paused_queues() { return store_->paused_queues(); }
  /// Daily counts of "processed" or "failed" for the last `days` days (UTC),
  /// newest first.
  Result<std::vector<std::int64_t>> history(std::string_view metric, int days) {
    return store_->history(metric, days, now());
  }
  /// Enqueues a job now, through the queue definitions; its jid.
  Result<std::string> enqueue(const std::string& job_class, const Json& args,
                              const PushOptions& options);

  Result<std::size_t> size(SetKind kind) { return store_->set_size(kind); }
  Result<std::vector<SetEntry>> list(SetKind kind, std::size_t offset, std::size_t count) {
    return store_->set_range(kind, offset, count);
  }
  /// The entry with this jid (scans the set); not_found if absent.
  Result<SetEntry> find(SetKind kind, const std::string& jid);
  /// The entry at (score, jid), or, if its score moved, the entry with this jid.
  Result<SetEntry> find(SetKind kind, double score, const std::string& jid);

  /// Enqueues the entry now (retry set: retry_count − 1 first). not_found if gone.
  Status retry_now(SetKind kind, const SetEntry& entry);
  /// Moves the entry to the dead set.
  Status kill(SetKind kind, const SetEntry& entry);
  Status remove(SetKind kind, const SetEntry& entry) {
    return store_->set_delete(kind, entry.score, entry.jid);
  }
  /// retry_now for every entry; returns how many moved.
  Result<std::size_t> retry_all(SetKind kind);
  Status clear(SetKind kind) { return store_->set_clear(kind); }

  Result<std::vector<ProcessRecord>> processes() { return store_->processes(now()); }
  Result<std::vector<WorkRecord>> workers() { return store_->workers(now()); }
  /// "TSTP" (quiet) or "TERM" (stop).
  Status signal(const std::string& identity, const std::string& sig) {
    return store_->signal(identity, sig);
  }

  /// A job's status and result (Client::status on the queue definitions'
  /// stores); Errc::unsupported if none keeps status.
  Result<JobStatus> job_status(const std::string& jid);
  /// Client::cancel on the queue definitions' stores.
  Result<JobState> cancel(const std::string& jid);

  /// Batches and workflows (errand/batch.h), newest first.
  Result<std::vector<BatchStatus>> batches(std::size_t offset, std::size_t count);
  /// Client::batch_status / cancel_batch on the queue definitions' stores.
  Result<BatchStatus> batch_status(const std::string& bid);
  Status cancel_batch(const std::string& bid);

  /// "sqlite", "redis", ...: which kind of store this is, for display.
  std::string store_scheme() const { return std::string(store_->scheme()); }

  Store& store() { return *store_; }
  const std::shared_ptr<Store>& shared_store() const { return store_; }

 private:
  double now() const { return clock_->epoch(); }
  QueueMap queues_;
  std::shared_ptr<Store> store_;
  const Clock* clock_;
  DeadLimits dead_;
};

}  // namespace errand
