#include "errand/clock.h"

namespace errand {

const SystemClock& SystemClock::instance() {
  static const SystemClock* clock = new SystemClock();  // never destroyed: used at exit
  return *clock;
}

}  // namespace errand
