// The wall clock for tests that drive a Store directly. Stores never read the
// clock themselves (every dated transition is handed `now`); a test that
// means "the real time" says so with wall().
#pragma once

#include "errand/clock.h"

namespace errand::testing {

/// The system clock as epoch seconds.
inline double wall() { return SystemClock::instance().epoch(); }

}  // namespace errand::testing
