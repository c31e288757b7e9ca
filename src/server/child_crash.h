// The page a child shares with its parent to report a crash: written by the
// child's signal handler (async-signal-safe: plain stores and backtrace(),
// preloaded), read by the parent after the child died.
#pragma once

#include <atomic>

namespace errand {

struct CrashPage {
  static constexpr int kFrames = 64;
  std::atomic<int> signo{0};  ///< the fatal signal; 0: no crash recorded
  int depth = 0;              ///< frames recorded
  void* frames[kFrames] = {};
};

}  // namespace errand
