// Registers "ClashJob" with ERRAND_JOB_OVERRIDE: it replaces a plain
// registration of that name, in whichever order the libraries load.
#include <errand/errand.h>

#include "clash_job.h"

struct ClashJobOverride {
  void perform(int n) { clash_record("override " + std::to_string(n)); }
};
ERRAND_JOB_OVERRIDE_NAMED(ClashJobOverride, "ClashJob");
