#include "server/lease_renewer.h"

#include "core/log.h"
#include "server/flow_control.h"

namespace errand {

void LeaseRenewer::run_once() {
  const double now = rt_.now();
  const double until = now + std::chrono::duration<double>(rt_.options.process_ttl).count();
  for (const auto& slot : rt_.slot_list()) {
    Store* store = nullptr;
    std::string holder;
    std::vector<std::string> locks;
    {
      MutexLock lk(slot->mu);
      if (slot->locks.empty() || !slot->current) continue;
      store = slot->current->source->store.get();
      holder = slot->lock_holder;
      locks = slot->locks;
    }
    for (const auto& [key, why] : flow::renew(*store, holder, locks, now, until)) {
      {
        MutexLock lk(slot->mu);
        if (slot->locks.empty() || slot->lock_holder != holder) break;  // the job just ended
      }
      log::warn("concurrency slot lost", {{"slot", key}, {"jid", holder}, {"error", why}});
    }
  }
}

}  // namespace errand
