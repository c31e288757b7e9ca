#include "server/cancel_watcher.h"

#include <algorithm>

#include "core/log.h"

namespace errand {

namespace {

/// Fires the stop token of the slot running `jid` from `src`, if it still does.
void stop_cancelled(Slot& slot, const Source* src, const std::string& jid) {
  MutexLock lk(slot.mu);
  if (!slot.current || slot.current->source != src || slot.jid != jid || slot.cancelled) return;
  slot.cancelled = true;
  slot.stop.request_stop();
  log::info("job cancelled; stop requested", {{"jid", jid}, {"queue", slot.current->job.queue}});
}

}  // namespace

void CancelWatcher::run_once() {
  if (rt_.busy.load() == 0) return;
  const auto slots = rt_.slot_list();
  for (const auto& src : rt_.sources) {
    if (!src->status) continue;
    std::vector<std::string> jids;
    for (const auto& slot : slots) {
      MutexLock lk(slot->mu);
      if (slot->current && slot->current->source == src.get() && !slot->jid.empty() &&
          !slot->cancelled)
        jids.push_back(slot->jid);
    }
    if (jids.empty()) continue;
    auto asked = src->store->cancel_requests(jids);
    if (!asked) {
      log::warn("cannot read cancel requests", {{"error", asked.error().message()}});
      continue;
    }
    for (const auto& jid : *asked)
      for (const auto& slot : slots) stop_cancelled(*slot, src.get(), jid);
  }
}

}  // namespace errand
