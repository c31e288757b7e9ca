// A background service of the server (River's maintenance services): one
// duty, its own interval, a run_once(), and its own thread, so that no duty
// waits behind another (the heartbeat never waits for a long promote).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <thread>

#include "core/mutex.h"
#include "core/thread_annotations.h"

namespace errand {

class Service {
 public:
  virtual ~Service() = default;
  virtual const char* name() const = 0;
  /// The wait before the first run (default: none).
  virtual std::chrono::milliseconds first_delay() { return std::chrono::milliseconds(0); }
  /// The wait after a run before the next one (may vary: jitter, hints).
  virtual std::chrono::milliseconds next_interval() = 0;
  /// Does the duty once. Must not throw; logs its own errors.
  virtual void run_once() = 0;
  /// Nothing to do until woken (e.g. no job runs): when a run is due and
  /// this is true, a ServiceThread given a parked counter sleeps until
  /// wake() instead of running and waiting its interval.
  virtual bool idle() { return false; }
};

/// Runs one Service on its own thread until stop(). Thread-safe.
class ServiceThread {
 public:
  /// With `parked` (which must outlive the thread), the thread parks while
  /// the service is idle(): it raises `*parked` before asking, so that
  /// whoever ends the idleness (the first job to start) sees the count and
  /// calls wake(); sleeping, it costs no wake-ups at all.
  explicit ServiceThread(std::unique_ptr<Service> service,
                         std::atomic<std::int64_t>* parked = nullptr);
  ~ServiceThread();  ///< stop()s
  ServiceThread(const ServiceThread&) = delete;
  ServiceThread& operator=(const ServiceThread&) = delete;

  void start();
  /// Asks for an earlier run: the next wait is recomputed now, and the run
  /// happens at the earlier of the two deadlines.
  void wake() EXCLUDES(mu_);
  /// Ends the thread after the run in progress, if any. Idempotent.
  void stop();
  Service& service() { return *service_; }

 private:
  void loop(std::stop_token stop) EXCLUDES(mu_);
  /// At a due run: while the service is idle, sleeps until woken or
  /// stopped. Returns whether it slept (then the run is skipped).
  bool park(MutexLock& lk, const std::stop_token& stop) REQUIRES(mu_);

  std::unique_ptr<Service> service_;
  std::atomic<std::int64_t>* parked_;  // null: never parks
  Mutex mu_;
  CondVarAny cv_;  // its waits also end on the thread's stop request
  bool woken_ GUARDED_BY(mu_) = false;
  std::jthread thread_;
};

}  // namespace errand
