// The heartbeat: registers this process in every store it works, reports its
// running jobs and counters, and receives signals sent through the store
// (Sidekiq's `<identity>-signals`: TSTP quiets, TERM stops).
#pragma once

#include <functional>
#include <string>

#include "server/runtime.h"

namespace errand {

/// "<hostname>:<pid>:<12 hex nonce>"; $DYNO replaces the hostname if set.
std::string make_identity();
/// This process's resident set size in KiB (0 if unknown).
std::int64_t current_rss_kb();

class Heartbeat {
 public:
  using SignalHandler = std::function<void(const std::string& sig)>;
  Heartbeat(Runtime& rt, SignalHandler on_signal);
  /// Beats once to every store. Returns the first error (the other stores
  /// still got their beat). Counters that could not be reported are kept for
  /// the next beat.
  Status beat();

 private:
  Runtime& rt_;
  SignalHandler on_signal_;
  Json info_;  // built once, on the first beat
  std::int64_t rtt_us_ = 0;
};

}  // namespace errand
