// Makes a JobContext current on this thread for the duration of a perform().
#pragma once

#include "errand/job.h"

namespace errand {

class ScopedJobContext {
 public:
  explicit ScopedJobContext(const JobContext& ctx);
  ~ScopedJobContext();
  ScopedJobContext(const ScopedJobContext&) = delete;
  ScopedJobContext& operator=(const ScopedJobContext&) = delete;

 private:
  const JobContext* previous_;
};

}  // namespace errand
