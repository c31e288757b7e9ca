// The pause watcher: reads each store's paused queues every
// pause_refresh_interval into the source's snapshot, which the fetcher reads
// without a lock.
#pragma once

#include "server/runtime.h"
#include "server/service.h"

namespace errand {

class PauseWatcher : public Service {
 public:
  explicit PauseWatcher(Runtime& rt) : rt_(rt) {}
  const char* name() const override { return "pause watcher"; }
  std::chrono::milliseconds next_interval() override { return rt_.options.pause_refresh_interval; }
  void run_once() override;

 private:
  Runtime& rt_;
};

}  // namespace errand
