#include "server/pause_watcher.h"

namespace errand {

void PauseWatcher::run_once() {
  for (auto& s : rt_.sources) {
    auto paused = s->store->paused_queues();
    if (!paused) continue;  // keep the last known state while the store is away
    s->paused.store(std::make_shared<const std::vector<std::string>>(std::move(paused).value()));
  }
}

}  // namespace errand
