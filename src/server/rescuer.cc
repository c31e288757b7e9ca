#include "server/rescuer.h"

#include "core/log.h"

namespace errand {

std::chrono::milliseconds Rescuer::first_delay() {
  return std::min(rt_.options.rescue_interval, std::chrono::milliseconds(1000));
}

std::size_t Rescuer::rescue() {
  std::size_t total = 0;
  const double grace = std::chrono::duration<double>(rt_.options.process_ttl).count();
  for (const auto& s : rt_.sources) {
    auto moved = s->store->rescue_orphans({.now = rt_.now(), .grace_seconds = grace});
    if (!moved) {
      log::warn("rescuer failed", {{"error", moved.error().message()}});
      continue;
    }
    if (*moved > 0)
      log::warn("rescued jobs of a process that died",
                {{"jobs", std::to_string(*moved)}, {"store", std::string(s->store->scheme())}});
    total += *moved;
  }
  return total;
}

}  // namespace errand
