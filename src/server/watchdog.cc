#include "server/watchdog.h"

#include "core/log.h"
#include "server/settle.h"

namespace errand {

std::optional<Work> Watchdog::check(Slot& slot, double now, double& limit) {
  MutexLock lk(slot.mu);
  if (!slot.current || slot.abandoned || slot.deadline <= 0) return std::nullopt;
  limit = slot.deadline - slot.run_at;
  if (now > slot.deadline && !slot.timed_out) {
    // Ask the job to stop; it fails with JobTimeout when it returns.
    slot.timed_out = true;
    slot.stop.request_stop();
    log::warn("job exceeded its timeout; stop requested",
              {{"queue", slot.current->job.queue}, {"timeout_s", std::to_string(limit)}});
  }
  const double grace = std::max(2.0, limit * 0.5);
  if (!slot.timed_out || now <= slot.deadline + grace) return std::nullopt;
  slot.abandoned = true;
  return slot.current;
}

void Watchdog::give_up(Work& w, double limit) {
  log::error("job did not stop after its timeout; recording the failure and replacing its thread",
             {{"queue", w.job.queue}});
  Outcome out = Outcome::failure("errand::JobTimeout", "job exceeded its timeout of " +
                                                           std::to_string(static_cast<int>(limit)) +
                                                           " s and did not stop");
  out.elapsed = limit;
  if (auto decoded = DecodedJob::decode(w.job)) {
    const auto& v = decoded->view();
    auto desc = descriptor_for(v, *rt_.registry);
    settle(rt_, w, &*decoded, desc.get(), out);
  } else {
    out.kind = Outcome::Kind::bad_payload;
    settle(rt_, w, nullptr, nullptr, out);
  }
}

void Watchdog::run_once() {
  const double now = rt_.now();
  for (const auto& slot : rt_.slot_list()) {
    double limit = 0;
    auto given_up = check(*slot, now, limit);
    if (!given_up) continue;
    give_up(*given_up, limit);
    manager_.replace(slot);
  }
}

}  // namespace errand
