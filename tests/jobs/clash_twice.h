// The mistake this library makes on purpose: ERRAND_JOB written in a header
// that two .cc files include registers the class twice.
#pragma once

#include <errand/errand.h>

#include "clash_job.h"

struct TwiceJob {
  void perform(int n) { clash_record("twice " + std::to_string(n)); }
};
ERRAND_JOB(TwiceJob);
