// Test helpers for code that enqueues and runs jobs (Sidekiq::Testing,
// Oban.Testing, rivertest): link errand::errand_testing and GoogleTest.
//
//   TEST(Signup, SendsTheWelcomeEmail) {
//     errand::testing::Fake fake;                       // pushes are recorded, not stored
//     signup(fake.client(), "ada@example.com");         // your code, given a Client
//     EXPECT_ENQUEUED(SendWelcomeEmail, 42, "en");
//     EXPECT_EQ(errand::testing::drain(), 1u);          // runs it, through the middleware
//   }
//
// Modes:
//  - fake:   every push through client() is recorded per class (jobs<J>(),
//            clear()); drain() runs the recorded jobs that are due, inline,
//            through the server middleware, with the real job runner (the
//            argument checks, current_job(), Discard, Snooze). Jobs a job
//            enqueues while draining are drained too.
//  - inline: every push runs its job at once, on the pushing thread, before
//            perform_async returns (scheduled jobs too, as Sidekiq does).
//
// Progress: every current_job().progress() call of a job run here is kept
// (progress_reports()), unthrottled.
//
// Time is a ManualClock (clock()): perform_in/perform_at record their due
// time, and drain() runs only what is due; advance() moves the clock and
// enqueues the ticks of the periodic (cron) jobs added with add_cron().
//
// Failures: with Retries::disabled (the default) a job that fails makes
// drain() throw JobFailed (an inline push too); with
// Retries::simulated it is rescheduled by errand's retry policy (the class's
// retry count and retry_in, Sidekiq's backoff without jitter) and drained
// again once the clock reaches its retry, or lands in dead().
//
// A Harness is the current one from construction to destruction (nested
// ones stack); the free functions jobs(), clear(), drain(), client() and the
// EXPECT_ENQUEUED macros act on the current one. Thread safety: pushes may
// come from many threads; drain(), clear() and advance() from one at a time.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "errand/client.h"
#include "errand/clock.h"
#include "errand/cron.h"
#include "errand/job.h"
#include "errand/middleware.h"

namespace errand::testing {

enum class Mode { fake, inline_jobs };
enum class Retries { disabled, simulated };

struct HarnessOptions {
  Mode mode = Mode::fake;
  Retries retries = Retries::disabled;
  ClientChain client_middleware;  ///< run on every push, as a Client's would
  ServerChain server_middleware;  ///< wraps every perform(), as a Server's would
  int max_retries = 25;           ///< what `retry: true` means (ServerOptions::max_retries)
  /// Where the manual clock starts; nullopt: the current time in whole
  /// seconds (payload times are epoch seconds in a double: whole seconds
  /// keep `at == clock().now() + 5min` exact).
  std::optional<SystemTime> start;
  Registry* registry = nullptr;  ///< the job classes; nullptr: Registry::global()
};

/// One recorded push (fake mode), or a job that died (dead()).
struct EnqueuedJob {
  std::string job_class;
  std::string queue;
  std::string jid;
  Json args;     ///< the JSON array perform() gets
  Json payload;  ///< the whole payload, as a store would keep it
  /// When it is due; nullopt: at once.
  std::optional<SystemTime> at;
};

/// One JobContext::progress call of a job the harness ran (every call: the
/// worker's rate limit does not apply here).
struct ProgressReport {
  std::string jid;
  std::string job_class;
  double fraction = 0;  ///< clamped to 0..1, as the worker stores it
  std::string message;
};

/// A job failed while draining with Retries::disabled.
class JobFailed : public std::runtime_error {
 public:
  JobFailed(EnqueuedJob job, std::string error_class, const std::string& message);
  const EnqueuedJob& job() const { return job_; }
  const std::string& error_class() const { return error_class_; }

 private:
  EnqueuedJob job_;
  std::string error_class_;
};

class Harness {
 public:
  explicit Harness(HarnessOptions options = {});
  ~Harness();  ///< the previous harness (if any) is current again
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  /// A client whose pushes this harness captures (or runs, inline). Copies
  /// share it. Valid while the harness lives.
  Client& client() { return *client_; }
  ManualClock& clock() { return clock_; }

  /// The recorded jobs not yet drained, in push order; of one class.
  std::vector<EnqueuedJob> jobs() const;
  std::vector<EnqueuedJob> jobs(std::string_view job_class) const;
  template <JobClass J>
  std::vector<EnqueuedJob> jobs() const {
    return jobs(registered_name_for(typeid(J)));
  }
  /// Forgets every recorded job (and the dead ones).
  void clear();
  /// Runs every recorded job due by clock(), in push order, and those they
  /// enqueue that are due; returns how many ran. Throws JobFailed on the
  /// first failure when retries are disabled (that job is gone, the rest
  /// stay recorded).
  std::size_t drain();
  /// Jobs whose simulated retries ran out, with their error fields in the
  /// payload (retry_count, error_class, error_message).
  std::vector<EnqueuedJob> dead() const;
  /// The progress reports of the jobs run so far, in order (clear() forgets them).
  std::vector<ProgressReport> progress_reports() const;

  /// A periodic job: advance() enqueues it at each of its ticks. Throws
  /// std::invalid_argument for a bad expression.
  void add_cron(CronEntry entry);
  /// Moves the clock by `d`, enqueuing each cron tick passed on the way
  /// (inline mode: running it).
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    advance_to(clock_.now() + std::chrono::duration_cast<SystemTime::duration>(d));
  }
  void advance_to(SystemTime t);

  /// The innermost live harness; throws std::logic_error if there is none.
  static Harness& current();

  struct State;  // shared with the capturing store

 private:
  ManualClock clock_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Client> client_;
  Harness* previous_ = nullptr;
};

/// A harness in fake mode (Sidekiq::Testing.fake!).
class Fake : public Harness {
 public:
  explicit Fake(HarnessOptions options = {}) : Harness(with_mode(std::move(options))) {}

 private:
  static HarnessOptions with_mode(HarnessOptions o) {
    o.mode = Mode::fake;
    return o;
  }
};

/// A harness in inline mode (Sidekiq::Testing.inline!).
class Inline : public Harness {
 public:
  explicit Inline(HarnessOptions options = {}) : Harness(with_mode(std::move(options))) {}

 private:
  static HarnessOptions with_mode(HarnessOptions o) {
    o.mode = Mode::inline_jobs;
    return o;
  }
};

// The current harness's recordings (see Harness).
inline Client& client() { return Harness::current().client(); }
template <JobClass J>
std::vector<EnqueuedJob> jobs() {
  return Harness::current().jobs<J>();
}
inline std::vector<EnqueuedJob> jobs() { return Harness::current().jobs(); }
inline void clear() { Harness::current().clear(); }
inline std::vector<ProgressReport> progress_reports() {
  return Harness::current().progress_reports();
}
inline std::size_t drain() { return Harness::current().drain(); }

/// What the EXPECT_ENQUEUED macros check: a recorded J whose arguments equal
/// `args` converted as perform() takes them (any J, with no `args`).
::testing::AssertionResult enqueued_with(std::string_view job_class,
                                         const std::optional<Json>& args);
template <JobClass J, class... A>
::testing::AssertionResult is_enqueued(A&&... args) {
  std::optional<Json> want;
  if constexpr (sizeof...(A) > 0) want = make_args<J>(std::forward<A>(args)...);
  return enqueued_with(registered_name_for(typeid(J)), want);
}

}  // namespace errand::testing

/// EXPECT_ENQUEUED(SendWelcomeEmail, 42, "en"): the current harness recorded
/// a SendWelcomeEmail with those arguments; EXPECT_ENQUEUED(SendWelcomeEmail):
/// any. On failure, the message lists what was recorded for the class.
#define EXPECT_ENQUEUED(Job, ...) EXPECT_TRUE(::errand::testing::is_enqueued<Job>(__VA_ARGS__))
#define ASSERT_ENQUEUED(Job, ...) ASSERT_TRUE(::errand::testing::is_enqueued<Job>(__VA_ARGS__))
#define EXPECT_NOT_ENQUEUED(Job, ...) EXPECT_FALSE(::errand::testing::is_enqueued<Job>(__VA_ARGS__))
