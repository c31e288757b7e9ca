// The background services that keep jobs moving: the poller (due scheduled
// and retry jobs into their queues) and the rescuer (jobs claimed by dead
// processes back into their queues). Each store makes its transition atomic,
// so every process runs both and a job still moves exactly once.
#pragma once

#include <random>

#include "server/runtime.h"

namespace errand {

class Poller {
 public:
  explicit Poller(Runtime& rt) : rt_(rt) {}
  /// Moves everything due now, in batches. Returns how many moved.
  std::size_t poll();
  /// The next wait: uniform over [avg/2, 1.5·avg] (Sidekiq's spread, so
  /// processes do not poll in step).
  std::chrono::milliseconds next_interval();

 private:
  Runtime& rt_;
  std::mt19937 rng_{std::random_device{}()};
};

class Rescuer {
 public:
  explicit Rescuer(Runtime& rt) : rt_(rt) {}
  /// Returns orphaned jobs to their queues. Returns how many moved.
  std::size_t rescue();

 private:
  Runtime& rt_;
};

}  // namespace errand
