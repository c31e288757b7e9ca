// The manager: owns the processors (Sidekiq's manager.rb). Starts one per
// slot, replaces one whose job ignores its timeout, and at shutdown waits
// for running jobs until a deadline, gives up on the rest (they go back to
// their queues) and joins, or leaves behind a thread stuck in a job.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "server/fetcher.h"
#include "server/processor.h"
#include "server/runtime.h"

namespace errand {

class Manager {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  Manager(Runtime& rt, Fetcher& fetcher) : rt_(rt), fetcher_(fetcher) {}
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  /// Starts one processor per slot of the runtime.
  void start() EXCLUDES(mu_);
  /// Gives `slot`'s thread up (its job ignores its stop token: the thread is
  /// detached and never joined) and starts a fresh processor in its place.
  void replace(const std::shared_ptr<Slot>& slot) EXCLUDES(mu_);
  /// Blocks until no slot runs a job that was not given up, or `deadline`.
  /// Returns true when idle. Requires rt.stop_requested (the processors only
  /// signal idleness once stopping).
  bool wait_idle(Deadline deadline);
  /// Gives up the jobs still running: marks them abandoned, fires their stop
  /// tokens, and returns them for requeueing.
  std::vector<Work> abandon_running();
  /// Joins every processor whose thread ends by `deadline`. Returns false if
  /// a thread is stuck in a job (all threads are then detached: the engine
  /// they use must be left alive) or one was replaced earlier.
  bool join(Deadline deadline) EXCLUDES(mu_);

 private:
  bool all_idle(bool include_abandoned);

  Runtime& rt_;
  Fetcher& fetcher_;
  Mutex mu_;
  std::vector<std::unique_ptr<Processor>> processors_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Processor>> stuck_ GUARDED_BY(mu_);  // replaced, never joined
};

}  // namespace errand
