// The fetcher: picks the next queue (strict order or weighted random, as
// Sidekiq's BasicFetch) and claims jobs from the store in batches, so many
// processor threads share few store round trips.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "server/runtime.h"

namespace errand {

/// The order in which to try `queues` for one fetch: the strict order when no
/// weight is set, else each queue `weight` times, shuffled, duplicates dropped;
/// paused queues left out.
std::vector<std::string> queue_order(Source& source, std::mt19937& rng);

/// Puts claimed jobs that will not run here back into their queues (one
/// requeue per store), logging `why` with the count; on failure they return
/// when this process's claim expires, and that is logged too.
void requeue_works(std::vector<Work> works, double now, std::string_view why);

class Fetcher {
 public:
  explicit Fetcher(Runtime& rt);

  /// The next job to run; blocks until there is one. Returns nullopt once the
  /// fetcher is quiet. Thread-safe.
  std::optional<Work> next() EXCLUDES(mu_);
  /// Wakes every waiter; from now on next() returns nullopt.
  void quiet() EXCLUDES(mu_);
  /// After quiet(): the claimed jobs no processor took (to be requeued).
  std::vector<Work> drain() EXCLUDES(mu_);
  /// A processor ran a job for `seconds` (feeds the read-ahead decision).
  void note_run(double seconds);
  /// A job that workers died running (a suspect, errand_crashes > 0) is
  /// about to run: the jobs claimed ahead go back to their queues and none
  /// is claimed ahead until end_suspect(), so that if it crashes this
  /// process too, the rescue counts the crash against as few innocent jobs
  /// as possible. Thread-safe; calls nest.
  void begin_suspect() EXCLUDES(mu_);
  void end_suspect();

  /// Read-ahead applies while jobs average less than this.
  static constexpr double kShortJob = 0.002;
  /// A blocking fetch waits at most this long (or fetch_wait, if shorter)
  /// before the thread looks at quiet again: an idle server stops within it.
  static constexpr std::chrono::milliseconds kWaitSlice{250};
  /// Read-ahead per processor thread while jobs are short. At 16 the buffer
  /// of a worker on Redis still ran dry while a refill waited behind the
  /// acks' scripts, and every thread slept and was woken: 0.27 context
  /// switches per job; at 32 (and refilling below three quarters), 0.16, and
  /// the worker's CPU per job 6.2 -> 5.6 us (perf stat over 200,000 jobs, four
  /// alternating runs each, 2026-12-04). At 64, 0.11, but no less CPU.
  static constexpr std::size_t kReadAheadPerThread = 32;

 private:
  std::vector<Work> fetch_once(std::size_t want, bool block) EXCLUDES(mu_);
  /// With mu_ held and no fetch running: fetches `want` jobs without the
  /// lock (released around the store I/O, held again on return; one thread
  /// at a time, marked by fetching_) into the buffer and wakes the waiters
  /// when there is something for them (jobs, a fetch to take over, quiet).
  void fill(std::size_t want, bool block) REQUIRES(mu_);
  /// How many jobs to hold claimed beyond the waiting threads: while jobs
  /// are short (they average under kShortJob), up to kReadAheadPerThread ×
  /// concurrency, so a
  /// fetch round trip serves many jobs and overlaps their running; while
  /// they are long, none, so no job waits here while another process idles.
  std::size_t read_ahead() const;

  Runtime& rt_;
  Mutex mu_;
  CondVar cv_;
  std::deque<Work> buffer_ GUARDED_BY(mu_);
  bool fetching_ GUARDED_BY(mu_) = false;  // one thread talks to the stores at a time
  bool quiet_ GUARDED_BY(mu_) = false;
  std::size_t waiting_ GUARDED_BY(mu_) = 0;
  std::size_t rotate_ = 0;                    // used only by the fetching thread
  std::mt19937 rng_{std::random_device{}()};  // used only by the fetching thread
  int failures_ = 0;                          // used only by the fetching thread
  std::atomic<double> avg_run_{1.0};          // moving average of job run time (s)
  std::atomic<int> suspects_{0};              // suspects running: no read-ahead
};

}  // namespace errand
