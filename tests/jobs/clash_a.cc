// One of two libraries that both register "ClashJob" (see clash_job.h).
#include <errand/errand.h>

#include "clash_job.h"

struct ClashJob {
  void perform(int n) { clash_record("a " + std::to_string(n)); }
};
ERRAND_JOB(ClashJob);
