// LISTEN/NOTIFY wake-ups for idle fetchers. Every transition that makes a job
// ready (push, requeue, promote, rescue, retry-now from the UI) sends
// pg_notify(channel, queue) in its own statement, so the wake-up is
// delivered when, and only if, it commits (also from an application's
// transaction). One thread per store holds one connection that LISTENs and
// blocks in poll() on its socket: a waiting worker uses no CPU.
//
// If the connection drops, the thread reconnects with backoff and wakes
// every waiter once (notifications sent meanwhile were missed); fetch also
// looks again every poll_interval as a safety net.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "store/postgres/pool.h"

namespace errand::pg {

class Listener {
 public:
  Listener(Pool& pool, std::string channel) : pool_(pool), channel_(std::move(channel)) {}
  ~Listener() { stop(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Starts the thread on first use (stores that only push never listen).
  void ensure_started();
  void stop();

  /// The wake-up generation: take it before looking for work, then wait.
  std::uint64_t generation();
  /// Wakes waiters in this process (after our own pushes, at once).
  void wake();
  /// Waits until the generation moves past `seen` or `until`.
  void wait(std::uint64_t seen, std::chrono::steady_clock::time_point until);

 private:
  void run();
  bool listen_once(int stop_fd);

  Pool& pool_;
  const std::string channel_;

  Mutex mu_;
  CondVar cv_;  // waiters
  std::uint64_t gen_ GUARDED_BY(mu_) = 0;
  std::thread thread_ GUARDED_BY(mu_);  // start/stop
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
};

}  // namespace errand::pg
