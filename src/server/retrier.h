// The retrier: what happens to a job whose perform() failed. Pure policy
// (Sidekiq 6.4's job_retry.rb, redis-layout.md §6): no I/O, so it is tested
// with a fixed clock and a fixed random source.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "errand/job.h"
#include "errand/payload.h"

namespace errand {

struct FailureInput {
  std::string error_class;
  std::string error_message;
  std::string fetched_queue;           ///< the queue the job came from
  const JobDescriptor* job = nullptr;  ///< nullptr when the class is unknown here
  ErrorAction action = ErrorAction::retry;
  double now = 0;
  int max_retries = 25;
  /// Uniform integer in [0, 9] for the jitter; injected for tests.
  std::function<int()> random_digit;
};

struct FailureOutcome {
  enum class Kind { retry, dead, drop } kind = Kind::drop;
  double at = 0;  ///< when to retry (Kind::retry)
  bool run_death_handlers = false;
  int count = 0;  ///< the retry_count now in the payload (-1 if not set)
};

/// Sidekiq's default delay before retry `count`: count^4 + 15 seconds (the
/// jitter is added separately).
double default_backoff_seconds(int count);

/// Updates `doc` (error fields, retry_count, failed_at / retried_at, queue)
/// and decides retry / dead / drop.
FailureOutcome plan_failure(Json& doc, const FailureInput& in);

}  // namespace errand
