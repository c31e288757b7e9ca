// The in-process store's class: every structure lives behind one mutex.
//
// Layout (all guarded by MemoryStore::mu_):
//   queues_     name → Queue: FIFO deques, one per priority (highest first)
//   claimed_    job id → Claim: the jobs handed out by fetch() and not yet
//               acked/retried/killed/requeued, with their owner (the lease)
//   sets_[3]    scheduled / retry / dead: multimap keyed by (score, jid)
//   processes_  identity → Process (heartbeat registry, work records)
//   signals_    identity → pending signals, oldest first
//   counters_   "processed", "failed", "processed:YYYY-MM-DD", ...
//
// One mutex is enough: every operation is a few pointer moves, so the lock
// is held for well under a microsecond per job, and fetch() takes a whole
// batch under one acquisition. fetch() waits on a condition variable that
// push/requeue/promote/rescue/set_move notify (after unlocking, and only
// when a fetcher is waiting, so the hot path pays nothing for it).
//
// One role per file: memory_store.cc (push and the worker side: fetch, ack,
// requeue, retry, kill, promote, rescue, heartbeat), admin.cc (stats, queues,
// sets, processes, pause, locks, signals), status.cc (job status and
// cancellation; the records themselves in status_book.cc).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "store/memory/event_hub.h"
#include "store/memory/memory_store.h"
#include "store/memory/status_book.h"
#include "store/memory/store_util.h"

namespace errand::memory {

using SetKey = std::pair<double, std::string>;  // (score, jid)
using SortedSet = std::multimap<SetKey, std::string>;

struct Job {
  std::int64_t id = 0;
  std::string jid;
  std::string payload;
  double pushed_at = 0;  // wall clock at push: latency fallback when the payload has no enqueued_at
};

struct Queue {
  // Priority → FIFO. Almost always a single bucket (priority 0).
  std::map<int, std::deque<Job>, std::greater<>> lanes;
  std::size_t size = 0;
};

struct Claim {
  std::string owner;
  std::string queue;
  std::string jid;
  std::string payload;  // kept so rescue_orphans() can put the job back
  int priority = 0;
  double claimed_at = 0;
  double pushed_at = 0;
};

struct Process {
  ProcessRecord record;
  double ttl = 60;
  std::vector<WorkRecord> work;
  bool live(double now) const { return record.beat + ttl >= now; }
};

class MemoryStore final : public Store {
 public:
  std::string_view scheme() const override { return "memory"; }

  StoreCapabilities capabilities() const override;

  Status push(const PushParams& p) override;

  Result<std::vector<Fetched>> fetch(const FetchParams& p) override;

  Status ack(std::span<const Fetched> jobs) override;

  Status requeue(const RequeueParams& p) override;

  Status retry(const RetryParams& p) override;

  Status kill(const KillParams& p) override;

  Result<std::size_t> promote_due(const PromoteParams& p) override;

  Result<std::size_t> rescue_orphans(const RescueParams& p) override;

  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override;

  Status unregister(const std::string& identity) override;

  Result<Stats> stats(double now) override;

  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override;

  Status reset_stats() override;

  Result<std::vector<QueueInfo>> queues(double now) override;

  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) override;

  Status queue_delete(const std::string& queue, const std::string& jid) override;

  Status clear_queue(const std::string& queue) override;

  Result<std::size_t> set_size(SetKind kind) override {
    std::lock_guard lock(mu_);
    return sets_[index(kind)].size();
  }

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

  Status set_paused(const std::string& queue, bool paused) override;

  Result<std::vector<std::string>> paused_queues() override {
    std::lock_guard lock(mu_);
    return std::vector<std::string>(paused_.begin(), paused_.end());
  }

  Result<bool> lock_acquire(const std::string& key, const std::string& holder, double now,
                            double expires_at) override;

  Status lock_release(const std::string& key, const std::string& holder) override;

  Result<bool> lock_extend(const std::string& key, const std::string& holder, double now,
                           double expires_at) override;

  // ---- status: the records in book_, the rest from where the job sits ----

  Status record_status(std::span<const StatusUpdate> updates) override {
    for (const auto& u : updates) book_.record(u);
    return {};
  }

  Result<JobStatus> job_status(const std::string& jid, double now) override;

  Result<JobStatus> wait_status(const std::string& jid, double now,
                                std::chrono::milliseconds timeout) override {
    const auto start = std::chrono::steady_clock::now();
    book_.wait_final(jid, timeout);
    return job_status(jid, store_util::advanced(now, start));
  }

  Result<JobState> cancel_job(const std::string& jid, double now, double ttl) override;

  Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids) override {
    return book_.requested(jids);
  }

  // ---- progress and job events (progress_events.cc) ----------------------

  Status record_progress(std::span<const ProgressUpdate> updates) override {
    for (const auto& u : updates) book_.progress(u);
    return {};
  }

  Status publish_events(std::span<const JobEvent> events) override {
    events_.publish(events);
    return {};
  }

  Result<std::unique_ptr<EventSubscription>> subscribe_events(EventCallback on_event) override {
    return events_.subscribe(std::move(on_event));
  }

  Status signal(const std::string& identity, const std::string& sig) override;

  // ---- batches (batches.cc): their own mutex, taken before mu_ ----------

  Status batch_update(const std::string& bid, double now,
                      const std::function<Status(BatchTxn&)>& fn) override;
  Result<BatchRecord> batch_read(const std::string& bid) override;
  Result<std::vector<std::string>> batch_list(std::size_t offset, std::size_t count,
                                              double now) override;

 private:
  static std::size_t index(SetKind kind) { return static_cast<std::size_t>(kind); }

  static Error not_in_set(SetKind kind, double score, const std::string& jid) {
    return fail(Errc::not_found, "no entry " + store_util::format_score(score) + "-" + jid +
                                     " in the " + std::string(to_string(kind)) + " set");
  }

  static SortedSet::iterator find_locked(SortedSet& set, double score, const std::string& jid);

  std::optional<JobStatus> locate_locked(const std::string& jid) const;

  bool remove_waiting_locked(const std::string& jid);

  void enqueue_locked(const std::string& queue, int priority, Job job, bool front);

  void take_locked(std::span<const std::string> names, std::size_t max, const std::string& owner,
                   double now, std::vector<Fetched>& out);

  static const Job* head_locked(const Queue& q);

  bool orphaned_locked(const Claim& c, double now, double grace) const;

  void add_dead_locked(const std::string& jid, const std::string& payload, double now,
                       const DeadLimits& limits);

  void prune_locked(double now) {
    std::erase_if(processes_, [now](const auto& kv) { return !kv.second.live(now); });
  }

  std::int64_t counter_locked(const std::string& key) const {
    auto it = counters_.find(key);
    return it == counters_.end() ? 0 : it->second;
  }

  std::mutex mu_;
  std::condition_variable cv_;                       // fetchers wait here; guarded by mu_
  std::size_t waiters_ = 0;                          // guarded by mu_
  std::int64_t next_id_ = 1;                         // guarded by mu_
  std::map<std::string, Queue> queues_;              // guarded by mu_
  std::unordered_map<std::int64_t, Claim> claimed_;  // guarded by mu_
  SortedSet sets_[3];                                // guarded by mu_; indexed by SetKind
  std::map<std::string, Process> processes_;         // guarded by mu_
  std::unordered_map<std::string, std::vector<std::string>> signals_;  // guarded by mu_
  std::unordered_map<std::string, std::int64_t> counters_;             // guarded by mu_
  std::set<std::string> paused_;                                       // guarded by mu_
  // key -> (holder, expires_at); expired entries are overwritten on acquire.
  std::unordered_map<std::string, std::pair<std::string, double>> locks_;  // guarded by mu_
  store_util::StatusBook book_;  // its own mutex; taken after mu_, never before
  struct BatchEntry {
    std::string meta;
    std::unordered_map<std::string, std::string> members;
    double created_at = 0;
    double expires_at = 0;
  };
  std::mutex batch_mu_;                        // taken before mu_ (pushes), never after
  std::map<std::string, BatchEntry> batches_;  // guarded by batch_mu_
  store_util::EventHub events_;                // its own mutexes; never taken with mu_ held
};

}  // namespace errand::memory
