// The admin API: the read/write model that the CLI and the web dashboard
// share (Sidekiq's Sidekiq::Stats, Queue, ScheduledSet, RetrySet, DeadSet,
// ProcessSet). Policy for operator actions lives here, above the store seam:
// "retry now" gives the attempt back (retry_count − 1) and re-enqueues, as
// Sidekiq's Web UI does.
//
// Thread safety: an Admin may be used from many threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "errand/clock.h"
#include "errand/status.h"
#include "errand/store.h"

namespace errand {

class Admin {
 public:
  explicit Admin(std::shared_ptr<Store> store, const Clock* clock = nullptr, DeadLimits dead = {});

  Result<Stats> stats() { return store_->stats(); }
  Result<std::vector<QueueInfo>> queues() { return store_->queues(); }
  Status clear_queue(const std::string& name) { return store_->clear_queue(name); }

  Result<std::size_t> size(SetKind kind) { return store_->set_size(kind); }
  Result<std::vector<SetEntry>> list(SetKind kind, std::size_t offset, std::size_t count) {
    return store_->set_range(kind, offset, count);
  }
  /// The entry with this jid (scans the set); not_found if absent.
  Result<SetEntry> find(SetKind kind, const std::string& jid);

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

  Store& store() { return *store_; }
  const std::shared_ptr<Store>& shared_store() const { return store_; }

 private:
  double now() const { return clock_->epoch(); }
  std::shared_ptr<Store> store_;
  const Clock* clock_;
  DeadLimits dead_;
};

}  // namespace errand
