// Test helpers for applications that use errand (Sidekiq::Testing's ideas,
// in C++ and GoogleTest terms). See docs/testing.md.
//
//   #include <errand/testing.h>
//
//   TEST(Signup, SendsTheWelcomeEmail) {
//     errand::testing::Fake fake;              // a fresh in-memory store and a manual clock
//     Signup signup(fake.client());            // the code under test enqueues through it
//     signup.run(42, "en");
//     EXPECT_ENQUEUED(SendWelcomeEmail, 42, "en");
//     ASSERT_EQ(errand::testing::jobs<SendWelcomeEmail>().size(), 1u);
//     ASSERT_TRUE(errand::testing::drain().ok());   // runs it, with the real middleware
//   }
//
// Fake mode: pushes go to a private memory store (fake.url(), for code that
// opens its own client) and are listed per class until drain() runs them
// through a real errand::Server: server middleware, retries, the dead set.
// A failed job waits in retries(); advance the clock past its retry time and
// drain() again to run the retry. Scheduled jobs (perform_in / perform_at)
// run once the manual clock reaches their time.
//
// Inline mode (FakeOptions::inline_mode): a push through fake.client() runs
// the job at once in the calling thread, through the server middleware, and
// rethrows what perform() throws; nothing is enqueued and the jid is empty.
//
// The free functions and EXPECT_ENQUEUED use the Fake most recently created
// and still alive (one per test). Not thread-safe: use from the test's thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "errand/client.h"
#include "errand/clock.h"
#include "errand/middleware.h"
#include "errand/status.h"
#include "errand/store.h"

namespace errand::testing {

/// A job as pushed: its class, arguments, queue and, if scheduled, its time.
struct EnqueuedJob {
  std::string jid;
  std::string job_class;
  std::string queue;
  Json args;
  std::optional<SystemTime> at;  ///< when a scheduled job or a retry is due
  Json payload;                  ///< the whole stored payload
};

struct FakeOptions {
  ServerChain middleware;  ///< the server middleware jobs run through (drain, inline)
  ClientChain client_middleware;
  bool inline_mode = false;  ///< fake.client() runs jobs at once instead of enqueueing
  int max_retries = 25;      ///< what `retry: true` means in drain()
};

/// What one drain() did.
struct DrainResult {
  std::int64_t processed = 0;  ///< jobs that ran, successfully or not
  std::int64_t failed = 0;     ///< of those, failures (now in retries() or dead())
};

class Fake {
 public:
  explicit Fake(FakeOptions options = {});
  ~Fake();
  Fake(const Fake&) = delete;
  Fake& operator=(const Fake&) = delete;

  /// memory://errand-testing-N: give it to code that opens its own Client.
  const std::string& url() const;
  std::shared_ptr<Store> store() const;
  /// A client on the fake's store and clock (inline in inline mode).
  Client& client();
  /// The time drain() runs at; starts at the real time of construction.
  ManualClock& clock();

  /// Jobs waiting to run (queued or scheduled), oldest push first.
  std::vector<EnqueuedJob> jobs() const;
  std::vector<EnqueuedJob> jobs(std::string_view job_class) const;
  template <JobClass J>
  std::vector<EnqueuedJob> jobs() const {
    return jobs(registered_name_for(typeid(J)));
  }
  /// Failed jobs waiting for a retry, and dead jobs.
  std::vector<EnqueuedJob> retries() const;
  std::vector<EnqueuedJob> dead() const;

  /// Forgets every job: queues, scheduled, retries, dead.
  void clear();
  /// Runs every job that is due at clock() with a real server, until none is
  /// left (jobs enqueued meanwhile run too). Jobs scheduled later stay.
  Result<DrainResult> drain();

  /// The live Fake the free functions use; throws std::logic_error if none.
  static Fake* current();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Fake* previous_ = nullptr;
};

// ---- the current Fake's, for short tests -------------------------------------------

template <JobClass J>
std::vector<EnqueuedJob> jobs() {
  return Fake::current()->jobs<J>();
}
std::vector<EnqueuedJob> jobs(std::string_view job_class);
void clear();
Result<DrainResult> drain();

template <JobClass J>
std::string job_name() {
  return registered_name_for(typeid(J));
}

}  // namespace errand::testing

// The GoogleTest part (liberrand itself is built without GoogleTest).
#ifndef ERRAND_TESTING_NO_GTEST
#include <gtest/gtest.h>

namespace errand::testing {

/// For gtest messages: "SendWelcomeEmail[42,\"en\"]" per waiting job.
inline std::string describe(const std::vector<EnqueuedJob>& jobs) {
  if (jobs.empty()) return "none";
  std::string out;
  for (const auto& j : jobs) out += (out.empty() ? "" : ", ") + j.job_class + j.args.dump();
  return out;
}

/// gtest: whether a `job_class` job with exactly `args` (a JSON array) waits.
inline ::testing::AssertionResult enqueued(std::string_view job_class, const Json& args) {
  const auto all = Fake::current()->jobs();
  for (const auto& j : all)
    if (j.job_class == job_class && j.args == args)
      return ::testing::AssertionSuccess()
             << std::string(job_class) << args.dump() << " is enqueued";
  return ::testing::AssertionFailure()
         << std::string(job_class) << args.dump() << " is not enqueued; waiting: " << describe(all);
}

/// gtest: whether exactly `count` jobs of `job_class` wait.
inline ::testing::AssertionResult enqueued_count(std::string_view job_class, std::size_t count) {
  const auto of_class = Fake::current()->jobs(job_class);
  if (of_class.size() == count) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << count << " " << std::string(job_class) << " expected, "
                                       << of_class.size() << " enqueued: " << describe(of_class);
}

}  // namespace errand::testing

/// EXPECT_ENQUEUED(SendWelcomeEmail, 42, "en"): a SendWelcomeEmail job with
/// exactly these arguments waits in the current Fake (queued or scheduled).
#define EXPECT_ENQUEUED(Job, ...)                                             \
  EXPECT_TRUE(::errand::testing::enqueued(::errand::testing::job_name<Job>(), \
                                          ::errand::Json::array({__VA_ARGS__})))
#define ASSERT_ENQUEUED(Job, ...)                                             \
  ASSERT_TRUE(::errand::testing::enqueued(::errand::testing::job_name<Job>(), \
                                          ::errand::Json::array({__VA_ARGS__})))
#define EXPECT_NOT_ENQUEUED(Job, ...)                                          \
  EXPECT_FALSE(::errand::testing::enqueued(::errand::testing::job_name<Job>(), \
                                           ::errand::Json::array({__VA_ARGS__})))
/// EXPECT_ENQUEUED_COUNT(SendWelcomeEmail, 2): exactly two of them wait.
#define EXPECT_ENQUEUED_COUNT(Job, n) \
  EXPECT_TRUE(::errand::testing::enqueued_count(::errand::testing::job_name<Job>(), (n)))

#endif  // ERRAND_TESTING_NO_GTEST
