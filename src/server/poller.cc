#include "server/poller.h"

#include <cmath>
#include <limits>

#include "core/log.h"

namespace errand {

std::size_t Poller::poll() {
  constexpr std::size_t kBatch = 1000;
  std::size_t total = 0;
  for (const auto& s : rt_.sources) {
    for (int round = 0; round < 100; ++round) {  // bounded: at most 100k per poll per store
      auto moved = s->store->promote_due({.now = rt_.now(), .limit = kBatch});
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

std::chrono::milliseconds Poller::first_delay() {
  return std::min(rt_.options.poll_interval, std::chrono::milliseconds(500));
}

std::chrono::milliseconds Poller::next_interval() {
  auto avg = rt_.options.poll_interval.count();
  std::uniform_int_distribution<std::int64_t> d(avg / 2, avg + avg / 2);
  auto wait = std::chrono::milliseconds(std::max<std::int64_t>(d(rng_), 1));
  const double due = rt_.next_due.load();
  if (std::isfinite(due)) {
    // A little after the due time: the store compares with its own clock.
    const double until_due = std::max(0.0, due - rt_.now()) + 0.05;
    wait = std::min(wait, std::chrono::milliseconds(static_cast<std::int64_t>(until_due * 1000)));
  }
  return wait;
}

void Poller::run_once() {
  if (rt_.quiet.load()) return;
  // Forget the hints that are due now (this poll moves them); keep a later one.
  double due = rt_.next_due.load();
  while (due <= rt_.now() &&
         !rt_.next_due.compare_exchange_weak(due, std::numeric_limits<double>::infinity())) {
  }
  poll();
}

}  // namespace errand
