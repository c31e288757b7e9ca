#include "server/poller.h"

#include "core/log.h"

namespace errand {

std::size_t Poller::poll() {
  constexpr std::size_t kBatch = 1000;
  std::size_t total = 0;
  for (const auto& s : rt_.sources) {
    for (int round = 0; round < 100; ++round) {  // bounded: at most 100k per poll per store
      auto moved = s->store->promote_due(rt_.now(), kBatch);
      if (!moved) {
        log::warn("poller: promote failed", {{"error", moved.error().message()}});
        break;
      }
      total += *moved;
      if (*moved < kBatch || rt_.stop_requested.load()) break;
    }
  }
  return total;
}

std::chrono::milliseconds Poller::next_interval() {
  auto avg = rt_.options.poll_interval.count();
  std::uniform_int_distribution<std::int64_t> d(avg / 2, avg + avg / 2);
  return std::chrono::milliseconds(std::max<std::int64_t>(d(rng_), 1));
}

std::size_t Rescuer::rescue() {
  std::size_t total = 0;
  const double grace = std::chrono::duration<double>(rt_.options.process_ttl).count();
  for (const auto& s : rt_.sources) {
    auto moved = s->store->rescue_orphans(rt_.now(), grace);
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
