// errand/testing.h, as an application's test would use it: fake and inline
// modes, drain through the middleware, simulated retries, the manual clock,
// cron ticks and the EXPECT_ENQUEUED macros.
#include "errand/testing.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "errand/errand.h"

namespace {

using namespace std::chrono_literals;
namespace et = errand::testing;

/// What the jobs below did, in order.
std::vector<std::string>& runs() {
  static std::vector<std::string> r;
  return r;
}

struct HarnessWelcome {
  static constexpr errand::JobOptions options{.queue = "mailers", .retry = 5};
  void perform(std::int64_t user_id, std::string locale) {
    runs().push_back("welcome " + std::to_string(user_id) + " " + locale);
  }
};
ERRAND_JOB(HarnessWelcome);

struct HarnessFlaky {
  static constexpr errand::JobOptions options{.retry = 2};
  void perform(int n) {
    runs().push_back("flaky " + std::to_string(n));
    throw std::runtime_error("boom");
  }
};
ERRAND_JOB(HarnessFlaky);

/// Enqueues itself with n - 1 until 0, through the current harness's client.
struct HarnessCountdown {
  void perform(int n) {
    runs().push_back("countdown " + std::to_string(n));
    if (n > 0) et::client().perform_async<HarnessCountdown>(n - 1).value();
  }
};
ERRAND_JOB(HarnessCountdown);

struct HarnessContext {
  void perform() {
    const auto& job = errand::current_job();
    runs().push_back(job.jid + " " + job.queue + " " + job.job_class);
  }
};
ERRAND_JOB(HarnessContext);

/// Snoozes for a minute on its first run, then succeeds.
struct HarnessSnooze {
  void perform() {
    runs().push_back("snooze");
    if (runs().size() == 1) throw errand::Snooze(60s);
  }
};
ERRAND_JOB(HarnessSnooze);

struct HarnessDiscard {
  void perform() { throw errand::Discard("not needed"); }
};
ERRAND_JOB(HarnessDiscard);

class Around : public errand::ServerMiddleware {
 public:
  void call(const errand::JobContext& job, const std::function<void()>& next) override {
    runs().push_back("before " + job.job_class);
    next();
    runs().push_back("after " + job.job_class);
  }
};

class Tenant : public errand::ClientMiddleware {
 public:
  void call(errand::Json& job, std::string_view, const std::function<void()>& next) override {
    job["tenant"] = "acme";
    next();
  }
};

class Testing : public ::testing::Test {
 protected:
  void SetUp() override { runs().clear(); }
};

TEST_F(Testing, FakeRecordsPushesPerClassWithoutRunningThem) {
  et::Fake fake;
  auto jid = fake.client().perform_async<HarnessWelcome>(42, "en");
  ASSERT_TRUE(jid.ok()) << jid.error().message();
  EXPECT_FALSE(jid->empty());
  const auto jobs = et::jobs<HarnessWelcome>();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].jid, *jid);
  EXPECT_EQ(jobs[0].queue, "mailers");
  EXPECT_EQ(jobs[0].args, errand::Json::parse(R"([42, "en"])"));
  EXPECT_EQ(jobs[0].payload.value("class", ""), "HarnessWelcome");
  EXPECT_FALSE(jobs[0].at.has_value());
  EXPECT_TRUE(et::jobs<HarnessFlaky>().empty());
  EXPECT_TRUE(runs().empty()) << "fake mode runs nothing until drain()";
  EXPECT_ENQUEUED(HarnessWelcome, 42, "en");
  EXPECT_ENQUEUED(HarnessWelcome);
  EXPECT_NOT_ENQUEUED(HarnessWelcome, 43, "en");
  EXPECT_NOT_ENQUEUED(HarnessFlaky);
}

TEST_F(Testing, ExpectEnqueuedSaysWhatWasRecorded) {
  et::Fake fake;
  fake.client().perform_async<HarnessWelcome>(42, "en").value();
  EXPECT_NONFATAL_FAILURE(
      EXPECT_ENQUEUED(HarnessWelcome, 43, "fr"),
      "no HarnessWelcome is enqueued with [43,\"fr\"]; recorded:\n  [42,\"en\"]");
  EXPECT_NONFATAL_FAILURE(EXPECT_ENQUEUED(HarnessFlaky), "none of that class is");
  EXPECT_NONFATAL_FAILURE(EXPECT_NOT_ENQUEUED(HarnessWelcome, 42, "en"),
                          "HarnessWelcome is enqueued with [42,\"en\"]");
}

TEST_F(Testing, ClientMiddlewareRunsOnEveryPush) {
  et::HarnessOptions o;
  o.client_middleware.push_back(std::make_shared<Tenant>());
  et::Fake fake(o);
  fake.client().perform_async<HarnessWelcome>(1, "en").value();
  EXPECT_EQ(et::jobs<HarnessWelcome>().at(0).payload.value("tenant", ""), "acme");
}

TEST_F(Testing, ClearForgetsRecordedJobs) {
  et::Fake fake;
  fake.client().perform_async<HarnessWelcome>(1, "en").value();
  fake.client().perform_async<HarnessFlaky>(2).value();
  EXPECT_EQ(et::jobs().size(), 2u);
  et::clear();
  EXPECT_TRUE(et::jobs().empty());
  EXPECT_EQ(et::drain(), 0u);
  EXPECT_TRUE(runs().empty());
}

TEST_F(Testing, DrainRunsJobsThroughTheServerMiddleware) {
  et::HarnessOptions o;
  o.server_middleware.push_back(std::make_shared<Around>());
  et::Fake fake(o);
  fake.client().perform_async<HarnessWelcome>(42, "en").value();
  EXPECT_EQ(et::drain(), 1u);
  EXPECT_EQ(runs(), (std::vector<std::string>{"before HarnessWelcome", "welcome 42 en",
                                              "after HarnessWelcome"}));
  EXPECT_TRUE(et::jobs().empty());
}

TEST_F(Testing, DrainRunsWhatJobsEnqueueWhileDraining) {
  et::Fake fake;
  fake.client().perform_async<HarnessCountdown>(2).value();
  EXPECT_EQ(et::drain(), 3u);
  EXPECT_EQ(runs(), (std::vector<std::string>{"countdown 2", "countdown 1", "countdown 0"}));
}

TEST_F(Testing, CurrentJobIsTheDrainedJob) {
  et::Fake fake;
  auto jid = fake.client().perform_async<HarnessContext>().value();
  et::drain();
  EXPECT_EQ(runs(), std::vector<std::string>{jid + " default HarnessContext"});
}

TEST_F(Testing, ArgumentsAreCheckedAsAWorkerChecksThem) {
  et::Fake fake;
  fake.client().enqueue("HarnessWelcome", errand::Json::parse(R"(["ada", "en"])")).value();
  try {
    et::drain();
    FAIL() << "drain() should throw";
  } catch (const et::JobFailed& e) {
    EXPECT_NE(e.error_class().find("ArgumentError"), std::string::npos) << e.what();
    EXPECT_EQ(e.job().job_class, "HarnessWelcome");
  }
  EXPECT_TRUE(runs().empty());
}

TEST_F(Testing, WithRetriesDisabledAFailureThrowsJobFailed) {
  et::Fake fake;
  fake.client().perform_async<HarnessFlaky>(7).value();
  fake.client().perform_async<HarnessWelcome>(1, "en").value();
  try {
    et::drain();
    FAIL() << "drain() should throw";
  } catch (const et::JobFailed& e) {
    EXPECT_EQ(e.error_class(), "std::runtime_error");
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos) << e.what();
    EXPECT_EQ(e.job().args, errand::Json::parse("[7]"));
  }
  EXPECT_TRUE(et::jobs<HarnessFlaky>().empty()) << "the failed job is gone";
  EXPECT_EQ(et::jobs<HarnessWelcome>().size(), 1u) << "the rest stay recorded";
}

TEST_F(Testing, SimulatedRetriesFollowTheRetryPolicyOnTheManualClock) {
  et::HarnessOptions o;
  o.retries = et::Retries::simulated;
  o.start = errand::from_epoch(1767225600);  // whole seconds: payload times are doubles
  et::Fake fake(o);
  fake.client().perform_async<HarnessFlaky>(1).value();
  EXPECT_EQ(et::drain(), 1u);
  auto pending = et::jobs<HarnessFlaky>();
  ASSERT_EQ(pending.size(), 1u);
  // Sidekiq's backoff without jitter: 0^4 + 15 s after the failure.
  EXPECT_EQ(pending[0].at, fake.clock().now() + 15s);
  EXPECT_EQ(pending[0].payload.value("retry_count", -1), 0);
  EXPECT_EQ(pending[0].payload.value("error_message", ""), "boom");
  EXPECT_EQ(et::drain(), 0u) << "not due yet";
  fake.advance(15s);
  EXPECT_EQ(et::drain(), 1u);
  EXPECT_TRUE(et::jobs<HarnessFlaky>().at(0).at.has_value());
  fake.advance(1h);
  EXPECT_EQ(et::drain(), 1u);
  EXPECT_TRUE(et::jobs<HarnessFlaky>().empty());
  ASSERT_EQ(fake.dead().size(), 1u) << "retry: 2 means two retries, then the dead set";
  EXPECT_EQ(fake.dead()[0].payload.value("retry_count", -1), 2);
  EXPECT_EQ(runs().size(), 3u);
}

TEST_F(Testing, SnoozeAndDiscardBehaveAsInAWorker) {
  et::Fake fake;
  fake.client().perform_async<HarnessSnooze>().value();
  fake.client().perform_async<HarnessDiscard>().value();
  EXPECT_EQ(et::drain(), 2u);
  auto snoozed = et::jobs<HarnessSnooze>();
  ASSERT_EQ(snoozed.size(), 1u);
  EXPECT_EQ(snoozed[0].at, fake.clock().now() + 60s);
  EXPECT_TRUE(et::jobs<HarnessDiscard>().empty());
  fake.advance(60s);
  EXPECT_EQ(et::drain(), 1u);
  EXPECT_EQ(runs(), (std::vector<std::string>{"snooze", "snooze"}));
  EXPECT_TRUE(et::jobs().empty());
}

TEST_F(Testing, PerformInWaitsForTheManualClock) {
  et::HarnessOptions o;
  o.start = errand::from_epoch(1767225600);  // whole seconds: payload times are doubles
  et::Fake fake(o);
  fake.client().perform_in<HarnessWelcome>(5min, 3, "fr").value();
  ASSERT_EQ(et::jobs<HarnessWelcome>().size(), 1u);
  EXPECT_EQ(et::jobs<HarnessWelcome>()[0].at, fake.clock().now() + 5min);
  EXPECT_EQ(et::drain(), 0u);
  fake.advance(4min);
  EXPECT_EQ(et::drain(), 0u);
  fake.advance(1min);
  EXPECT_EQ(et::drain(), 1u);
  EXPECT_EQ(runs(), std::vector<std::string>{"welcome 3 fr"});
}

TEST_F(Testing, WithTheDefaultClockAScheduledJobIsDueAfterItsDelay) {
  et::Fake fake;  // starts at the current time, in whole seconds
  for (int i = 0; i < 50; ++i)
    fake.client().perform_in<HarnessWelcome>(std::chrono::milliseconds(1234 * i), i, "en").value();
  EXPECT_EQ(et::drain(), 1u) << "only the one due at once";
  for (int i = 1; i < 50; ++i) {
    fake.advance(1234ms);
    EXPECT_EQ(et::drain(), 1u) << "job " << i << " is due exactly after its delay";
  }
}

TEST_F(Testing, AdvanceEnqueuesEachCronTick) {
  et::HarnessOptions o;
  o.start = errand::from_epoch(1767225600);  // 2026-01-01 00:00:00 UTC
  et::Fake fake(o);
  errand::CronEntry nightly;
  nightly.name = "nightly";
  nightly.expression = "0 3 * * *";
  nightly.job_class = "HarnessWelcome";
  nightly.args = errand::Json::parse(R"([1, "en"])");
  fake.add_cron(nightly);
  fake.advance(2h);
  EXPECT_TRUE(et::jobs().empty());
  fake.advance(46h);  // to 2026-01-03 00:00: the ticks of the 1st and the 2nd
  const auto jobs = et::jobs<HarnessWelcome>();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].queue, "mailers") << "the class's queue";
  EXPECT_EQ(jobs[0].payload.value("enqueued_at", 0.0), 1767225600 + 3 * 3600);
  EXPECT_EQ(jobs[1].payload.value("enqueued_at", 0.0), 1767225600 + 27 * 3600);
  EXPECT_EQ(et::drain(), 2u);
  nightly.expression = "61 * * * *";
  EXPECT_THROW(fake.add_cron(nightly), std::invalid_argument);
}

TEST_F(Testing, InlineRunsEachPushAtOnce) {
  et::Inline inl;
  auto jid = inl.client().perform_async<HarnessWelcome>(7, "de");
  ASSERT_TRUE(jid.ok()) << jid.error().message();
  EXPECT_EQ(runs(), std::vector<std::string>{"welcome 7 de"});
  inl.client().perform_in<HarnessWelcome>(1h, 8, "de").value();
  EXPECT_EQ(runs().size(), 2u) << "scheduled jobs run at once too";
  EXPECT_TRUE(et::jobs().empty());
  EXPECT_THROW(inl.client().perform_async<HarnessFlaky>(1), et::JobFailed);
}

TEST_F(Testing, HarnessesNestAndTheFreeFunctionsNeedOne) {
  EXPECT_THROW(et::jobs(), std::logic_error);
  et::Fake outer;
  outer.client().perform_async<HarnessWelcome>(1, "en").value();
  {
    et::Fake inner;
    EXPECT_TRUE(et::jobs().empty()) << "the inner harness is current";
    inner.client().perform_async<HarnessWelcome>(2, "en").value();
    EXPECT_ENQUEUED(HarnessWelcome, 2, "en");
  }
  EXPECT_ENQUEUED(HarnessWelcome, 1, "en");
  EXPECT_NOT_ENQUEUED(HarnessWelcome, 2, "en");
}

}  // namespace
