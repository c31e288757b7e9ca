// The wall clock for tests that drive a Store directly. Stores never read the
// clock themselves (every dated transition is handed `now`); a test that
// means "the real time" says so with wall(), and status_update() dates a
// status record by it.
#pragma once

#include <string>

#include "errand/clock.h"
#include "errand/store.h"

namespace errand::testing {

/// The system clock as epoch seconds.
inline double wall() { return SystemClock::instance().epoch(); }

/// A status record of `jid` made now (StatusUpdate's other fields as default).
inline StatusUpdate status_update(std::string jid, JobState state, std::string result = {},
                                  std::string error = {}, std::string process = {}) {
  StatusUpdate u;
  u.jid = std::move(jid);
  u.state = state;
  u.result = std::move(result);
  u.error = std::move(error);
  u.process = std::move(process);
  u.now = wall();
  return u;
}

}  // namespace errand::testing
