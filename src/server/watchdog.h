// The watchdog: fires the stop token of a job past its timeout; if the job
// still runs after a grace period (half its timeout, at least 2 s), records
// its failure as errand::JobTimeout through settle() and has the manager
// replace its thread, so the worker keeps its capacity.
#pragma once

#include "server/manager.h"
#include "server/runtime.h"
#include "server/service.h"

namespace errand {

class Watchdog : public Service {
 public:
  Watchdog(Runtime& rt, Manager& manager) : rt_(rt), manager_(manager) {}
  const char* name() const override { return "watchdog"; }
  std::chrono::milliseconds next_interval() override { return rt_.options.watchdog_interval; }
  /// Only running jobs concern it: asleep while none runs.
  bool idle() override { return rt_.busy.load() == 0; }
  void run_once() override;

 private:
  /// Checks one slot; returns the job to give up on, if any.
  std::optional<Work> check(Slot& slot, double now, double& limit);
  void give_up(Work& w, double limit);

  Runtime& rt_;
  Manager& manager_;
};

}  // namespace errand
