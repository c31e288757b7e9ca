// In-process server tests share these: server options with short intervals
// (so a test waits milliseconds, not the production seconds) and a bounded
// wait for a condition.
//
// Header-only: the test target compiles tests/*.cc, not tests/support/.
#pragma once

#include <chrono>
#include <thread>

#include "errand/server.h"

namespace errand::testing {

/// The intervals a test's server runs at.
struct Pace {
  std::chrono::milliseconds poll{40};
  std::chrono::milliseconds heartbeat{50};
  std::chrono::milliseconds process_ttl{1000};
  std::chrono::milliseconds rescue{100};
};

/// Concurrency 4, a 50 ms fetch wait, a 2 s shutdown timeout, no job log
/// lines, and `pace`'s intervals; `clock` null for the system clock.
inline ServerOptions fast_options(const Clock* clock = nullptr, Pace pace = {}) {
  ServerOptions o;
  o.concurrency = 4;
  o.fetch_wait = std::chrono::milliseconds(50);
  o.poll_interval = pace.poll;
  o.heartbeat_interval = pace.heartbeat;
  o.process_ttl = pace.process_ttl;
  o.rescue_interval = pace.rescue;
  o.shutdown_timeout = std::chrono::seconds(2);
  o.log_jobs = false;
  o.clock = clock;
  return o;
}

/// Polls `pred` every 5 ms until it holds or `limit` passes; its last answer.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace errand::testing
