// The cancel watcher: while jobs run, asks each store that keeps status
// (Store::cancel_requests) every cancel_poll_interval whether one of this
// process's running jobs was cancelled (Client::cancel), and fires that job's
// stop token. The processor then records the job cancelled, not failed.
// Idle processes ask nothing.
#pragma once

#include "server/runtime.h"
#include "server/service.h"

namespace errand {

class CancelWatcher : public Service {
 public:
  explicit CancelWatcher(Runtime& rt) : rt_(rt) {}
  const char* name() const override { return "cancel watcher"; }
  std::chrono::milliseconds next_interval() override { return rt_.options.cancel_poll_interval; }
  /// Only running jobs concern it: asleep while none runs.
  bool idle() override { return rt_.busy.load() == 0; }
  void run_once() override;

 private:
  Runtime& rt_;
};

}  // namespace errand
