// State shared by the server's parts (fetcher, processors, heartbeat,
// poller). Built once by the launcher before any thread starts; the fields
// marked "set-up only" are immutable afterwards, the rest are atomics or
// guarded by the mutex named beside them.
#pragma once

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "errand/server.h"
#include "errand/store.h"
#include "server/acker.h"

namespace errand {

class EventDispatcher;
class ProgressThrottle;

/// The paused queues of a store: a snapshot replaced whole by the pause
/// watcher, read by each fetch. A mutex around the pointer rather than
/// std::atomic<std::shared_ptr>: libstdc++ 12's lock bit inside the
/// atomic's pointer is invisible to ThreadSanitizer, which then reports
/// every load against every store; an uncontended lock once per fetch costs
/// nothing measurable.
class PausedQueues {
 public:
  std::shared_ptr<const std::vector<std::string>> load() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return queues_;
  }
  void store(std::shared_ptr<const std::vector<std::string>> queues) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    queues_.swap(queues);
  }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const std::vector<std::string>> queues_ GUARDED_BY(mu_) =
      std::make_shared<const std::vector<std::string>>();
};

/// One store and the queues this process works on it.
struct Source {
  std::shared_ptr<Store> store;     // set-up only
  std::vector<QueueWeight> queues;  // set-up only
  bool weighted = false;            // set-up only
  bool isolated_queues = false;     // set-up only: some queue sets its own isolation
  std::vector<std::string> strict;  // set-up only: the strict order, duplicates removed
  /// The paused queues, replaced whole every second.
  PausedQueues paused;
  // Counters not yet reported by a heartbeat.
  std::atomic<std::int64_t> processed{0};
  std::atomic<std::int64_t> failed{0};
  // Batches the acknowledgements of finished jobs; null for an in-process
  // store (acked one by one: there is no round trip to save).
  std::unique_ptr<Acker> acker;  // set-up only (the pointer)
  // Whether the store can extend a lock (Store::lock_extend): concurrency
  // slots are then leased for process_ttl and renewed; otherwise for the
  // job's timeout plus a minute, or 10 minutes.
  bool renewable_locks = true;  // set-up only
  // Whether the store keeps job status (StoreCapabilities::status): the
  // processor then records running/succeeded/... and the cancel watcher asks
  // it for cancel requests.
  bool status = false;  // set-up only
};

/// A claimed job and where it came from.
struct Work {
  Source* source = nullptr;
  Fetched job;
};

/// What one processor thread is doing now (read by the heartbeat).
struct Slot {
  Mutex mu;
  std::optional<Work> current GUARDED_BY(mu);
  double run_at GUARDED_BY(mu) = 0;
  bool abandoned GUARDED_BY(mu) = false;  // settled elsewhere (stop, watchdog); do not ack
  double deadline GUARDED_BY(mu) = 0;     // the job's timeout instant (0: none)
  bool timed_out GUARDED_BY(mu) = false;  // the watchdog fired its stop token
  bool cancelled GUARDED_BY(mu) = false;  // a cancel request fired its stop token
  std::string jid GUARDED_BY(mu);         // the running job's jid ("" until decoded)
  std::stop_source stop GUARDED_BY(mu);   // replaced per job
  // Concurrency-limit slots the running job holds, leased for process_ttl and
  // renewed with each heartbeat, so that a killed worker's slots come back
  // when its heartbeat expires. Their store is current->source->store.
  std::string lock_holder GUARDED_BY(mu);  // the job's jid
  std::vector<std::string> locks GUARDED_BY(mu);
  // Written by the processor's thread before its first job; others read it
  // only while `current` is set, which mu orders after that write.
  std::string tid;
  // The child process this slot's jobs run in (isolation process or fork),
  // for the heartbeat: its pid (0: none) and how many jobs it ran.
  int child_pid GUARDED_BY(mu) = 0;
  std::size_t child_jobs GUARDED_BY(mu) = 0;
  // The running job's progress throttle (null: none yet), flushed by the
  // ProgressFlusher.
  std::shared_ptr<ProgressThrottle> progress GUARDED_BY(mu);
};

struct Runtime {
  ServerOptions options;                         // set-up only
  const Clock* clock = nullptr;                  // set-up only
  Registry* registry = nullptr;                  // set-up only
  std::string identity;                          // set-up only
  double started_at = 0;                         // set-up only
  std::vector<std::unique_ptr<Source>> sources;  // set-up only
  Mutex slots_mu;                                // guards slots (the watchdog replaces stuck ones)
  std::vector<std::shared_ptr<Slot>> slots GUARDED_BY(slots_mu);
  ServerChain chain;  // set-up only: job logger + user middleware
  /// Job events (on_event, publish_events); null when the server makes none.
  EventDispatcher* events = nullptr;  // set-up only (owned by the Engine)

  std::atomic<bool> quiet{false};
  std::atomic<bool> stop_requested{false};
  /// Notified (once stop_requested is set) whenever a slot's job ends, so
  /// that stop() waits for running jobs without polling. idle_mu guards no
  /// member: the waiter reads the slots under their own mutexes.
  Mutex idle_mu;
  CondVar idle_cv;
  /// The earliest retry or snooze this process scheduled (epoch s; +inf:
  /// none): the poller wakes for it instead of waiting for its next round.
  std::atomic<double> next_due{std::numeric_limits<double>::infinity()};
  /// Set-up only: wakes the poller (see next_due).
  std::function<void()> wake_poller;

  std::atomic<std::int64_t> processed{0};
  std::atomic<std::int64_t> failed{0};
  std::atomic<std::int64_t> retried{0};
  std::atomic<std::int64_t> dead{0};
  std::atomic<std::int64_t> discarded{0};
  std::atomic<std::int64_t> busy{0};
  /// Services asleep while no job runs (watchdog, lease renewer, cancel
  /// watcher, progress flusher: Service::idle); the job that makes busy
  /// leave 0 wakes them through wake_parked (set-up only).
  std::atomic<std::int64_t> parked{0};
  std::function<void()> wake_parked;
  std::atomic<std::int64_t> expired{0};
  std::atomic<std::int64_t> deferred{0};

  /// Snapshot of the slots (safe against the watchdog replacing one).
  std::vector<std::shared_ptr<Slot>> slot_list() EXCLUDES(slots_mu) {
    MutexLock lk(slots_mu);
    return slots;
  }

  double now() const { return clock->epoch(); }

  /// A job of this process is due again at `at`: let the poller know.
  void note_due(double at) {
    double cur = next_due.load();
    while (at < cur && !next_due.compare_exchange_weak(cur, at)) {
    }
    if (at <= cur && wake_poller) wake_poller();
  }
  /// A job starts: counted busy, and the first one wakes the parked services.
  void note_busy() {
    if (busy.fetch_add(1) == 0 && parked.load() > 0 && wake_parked) wake_parked();
  }
  /// A slot's job ended (see idle_cv).
  void note_idle() EXCLUDES(idle_mu) {
    if (!stop_requested.load()) return;
    { MutexLock lk(idle_mu); }  // a waiter between its check and its wait gets the notify
    idle_cv.notify_all();
  }
};

}  // namespace errand
