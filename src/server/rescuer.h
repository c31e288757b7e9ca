// The rescuer: returns jobs claimed by processes that died (their heartbeat
// expired) to their queues. Every process runs it; the store's move is atomic.
#pragma once

#include "server/runtime.h"
#include "server/service.h"

namespace errand {

class Rescuer : public Service {
 public:
  explicit Rescuer(Runtime& rt) : rt_(rt) {}
  const char* name() const override { return "rescuer"; }
  std::chrono::milliseconds first_delay() override;
  std::chrono::milliseconds next_interval() override { return rt_.options.rescue_interval; }
  void run_once() override { rescue(); }
  /// Returns orphaned jobs to their queues. Returns how many moved.
  std::size_t rescue();

 private:
  Runtime& rt_;
};

}  // namespace errand
