// The poller: moves due scheduled and retry jobs into their queues. Each
// store makes the move atomic, so every process polls and a job still moves
// exactly once. It wakes early for a retry or snooze this process scheduled
// (Runtime::note_due), so a short retry_in is not held up by the interval.
#pragma once

#include <random>

#include "server/runtime.h"
#include "server/service.h"

namespace errand {

class Poller : public Service {
 public:
  explicit Poller(Runtime& rt) : rt_(rt) {}
  const char* name() const override { return "poller"; }
  /// Soon after start: jobs may have come due while no worker ran.
  std::chrono::milliseconds first_delay() override;
  /// Uniform over [avg/2, 1.5·avg] (Sidekiq's spread, so processes do not
  /// poll in step), or until the next due time this process knows of.
  std::chrono::milliseconds next_interval() override;
  /// Polls unless the server is quiet.
  void run_once() override;
  /// Moves everything due now, in batches. Returns how many moved.
  std::size_t poll();

 private:
  Runtime& rt_;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace errand
