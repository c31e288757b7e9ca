// A background service of the server (River's maintenance services): one
// duty, its own interval, a run_once(), and its own thread, so that no duty
// waits behind another (the heartbeat never waits for a long promote).
#pragma once

#include <chrono>
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
};

/// Runs one Service on its own thread until stop(). Thread-safe.
class ServiceThread {
 public:
  explicit ServiceThread(std::unique_ptr<Service> service);
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

  std::unique_ptr<Service> service_;
  Mutex mu_;
  CondVarAny cv_;  // its waits also end on the thread's stop request
  bool woken_ GUARDED_BY(mu_) = false;
  std::jthread thread_;
};

}  // namespace errand
