#include "server/transition.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/log.h"

namespace errand {

Status retry_transition(const char* what, const std::function<Status()>& op,
                        const std::function<bool()>& stopping) {
  for (int attempt = 0;; ++attempt) {
    Status st = op();
    if (st.ok() || !transient(st)) return st;
    if (attempt == 0 || attempt % 20 == 0)
      log::warn("store unreachable; retrying job transition",
                {{"op", what}, {"error", st.message()}});
    if (stopping() && attempt >= 3) {
      log::error(
          "giving up on job transition at shutdown; the job stays claimed and returns "
          "to its queue once this process is gone",
          {{"op", what}});
      return st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50 * (attempt + 1), 2000)));
  }
}

}  // namespace errand
