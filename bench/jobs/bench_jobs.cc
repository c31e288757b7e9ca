// The job class of `make bench`'s worker processes, loaded with
// `errand worker -r liberrand_bench_jobs.so`: a no-op registered as
// "BenchNoop", the class name that bench/sidekiq_push.rb pushes for the
// Sidekiq process and the errand worker alike.
#include <cstdint>

#include "errand/errand.h"

namespace bench {

struct BenchNoop {
  void perform(std::int64_t) {}
};

}  // namespace bench

ERRAND_JOB_NAMED(bench::BenchNoop, "BenchNoop");
