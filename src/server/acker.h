// The acker: acknowledges finished jobs in batches from its own threads, so
// that a processor hands over a finished job and takes the next one without
// waiting for a store round trip, and one store call (one Redis pipeline,
// one SQLite transaction) settles many jobs.
//
// A finished job's status record (Store::record_status: succeeded with its
// result) travels with its ack and is stored in one call per batch after
// the acks, so recording results costs one write per batch, not per job.
//
// At least once still holds: a job is acknowledged only after it ran; a crash
// before the batch is stored runs it again. The batch is bounded: `add`
// waits while `cap` jobs are pending, so at most (threads + 1) × `cap`
// finished jobs (pending, and a batch being stored by each thread) can run
// twice after a kill -9.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "errand/store.h"

namespace errand {

class Acker {
 public:
  /// The server's `cap`: this many finished jobs per processor thread may
  /// wait for their ack. At 4, processors on Redis waited for room while the
  /// acker's round trip was in flight, and a worker drained 71,000–76,500
  /// jobs/s; at 16, 87,000–88,400 (A/B on the errand worker CLI, 100,000
  /// jobs, 2026-12-03): a few milliseconds of work at that rate.
  static constexpr std::size_t kPendingPerThread = 16;
  /// The most threads storing batches (threads_for), each on its own store
  /// connection. A kill -9 runs again at most
  /// ((kMaxThreads + 1) × kPendingPerThread + 1) × concurrency jobs.
  static constexpr std::size_t kMaxThreads = 3;
  /// How many threads store `store`'s batches. Redis: kMaxThreads, so that
  /// while one waits for its reply another's batch is on the way; its server
  /// runs one command at a time and one thread left it idle between batches
  /// (errand worker CLI, 100,000 jobs, A/B: 75,000–85,000 jobs/s with one
  /// thread, 108,000–121,000 with two, 115,000–132,000 with three). The
  /// others: one. SQLite serializes its writers (the same drain with one or
  /// three), and PostgreSQL drained less with three (15,700–17,300 jobs/s
  /// against 18,000–25,400: its concurrent ack transactions contend).
  static std::size_t threads_for(const Store& store);

  /// `threads` (at most kMaxThreads) store the batches.
  Acker(Store& store, std::size_t cap, std::size_t threads = 1);
  ~Acker();  ///< stop()s
  Acker(const Acker&) = delete;
  Acker& operator=(const Acker&) = delete;

  void start() EXCLUDES(mu_);
  /// Queues `job` for acknowledgement; before start() and from stop() on,
  /// acks it at once on the calling thread.
  void add(Fetched job) EXCLUDES(mu_);
  /// The same, with the job's status record, stored after the batch's acks.
  void add(Fetched job, StatusUpdate status) EXCLUDES(mu_);
  /// Stores what is pending (giving up after a few tries if the store is
  /// unreachable: those jobs stay claimed and run again) and joins the
  /// threads. Idempotent.
  void stop() EXCLUDES(mu_);
  /// Blocks until every job added before the call is stored (or given up
  /// on): before a job that workers died running starts, so that a crash
  /// of it is not blamed on the jobs that finished just before it.
  void sync() EXCLUDES(mu_);

 private:
  void loop() EXCLUDES(mu_);
  /// The batch's acks and status records: in one atomic step where the
  /// store can (capabilities().ack_with_status), else ack, then record.
  void flush(std::vector<Fetched>& batch, std::vector<StatusUpdate>& statuses, bool stopping)
      EXCLUDES(mu_);
  /// Acks `batch`, retrying while the store is unreachable (a few times
  /// only once stopping: the claims then return through the rescuer).
  void store_batch(std::vector<Fetched>& batch, bool stopping) EXCLUDES(mu_);
  /// Records `statuses` (logged, not retried: status is a view for people).
  void store_statuses(std::vector<StatusUpdate>& statuses) EXCLUDES(mu_);

  Store& store_;
  const std::size_t cap_;
  const std::size_t nthreads_;
  Mutex mu_;
  CondVar has_work_;
  CondVar has_room_;
  CondVar stored_cv_;  // `stored_` moved
  std::vector<Fetched> pending_ GUARDED_BY(mu_);
  std::vector<StatusUpdate> statuses_ GUARDED_BY(mu_);  // of jobs in pending_
  bool running_ GUARDED_BY(mu_) = false;                // start() made the thread
  bool stopping_ GUARDED_BY(mu_) = false;               // stop() was called (set once)
  std::uint64_t added_ GUARDED_BY(mu_) = 0;             // jobs queued by add() so far
  std::uint64_t stored_ GUARDED_BY(mu_) = 0;            // of those, stored (or given up on)
  std::atomic<bool> stop_flag_{false};  // stopping_, readable without mu_ during a retry
  std::vector<std::thread> threads_;
};

}  // namespace errand
