// errand/testing.h, used as an application's test would use it.
#include "errand/testing.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

#include "errand/errand.h"

namespace {

using namespace std::chrono_literals;

std::atomic<int> g_welcomed{0};
std::atomic<int> g_flaky_runs{0};

struct WelcomeUser {
  static constexpr errand::JobOptions options{.queue = "mailers", .retry = 3};
  void perform(std::int64_t user_id, std::string locale) {
    if (locale.empty()) throw std::invalid_argument("no locale");
    g_welcomed += static_cast<int>(user_id > 0);
  }
};
ERRAND_JOB(WelcomeUser);

struct FlakySync {
  static constexpr errand::JobOptions options{.retry = 2};
  void perform() {
    if (g_flaky_runs.fetch_add(1) == 0) throw std::runtime_error("gateway timeout");
  }
};
ERRAND_JOB(FlakySync);

/// Pushes a follow-up job: drain() runs jobs enqueued by jobs.
struct SignupFlow {
  void perform(std::int64_t user_id) {
    auto client = errand::Client::open(errand::testing::Fake::current()->url()).value();
    client.perform_async<WelcomeUser>(user_id, std::string("en")).value();
  }
};
ERRAND_JOB(SignupFlow);

/// Counts the jobs it wraps: the real server middleware runs in drain().
struct CountingMiddleware : errand::ServerMiddleware {
  std::atomic<int> calls{0};
  void call(const errand::JobContext&, const std::function<void()>& next) override {
    ++calls;
    next();
  }
};

TEST(ErrandTesting, FakeRecordsPushesPerClass) {
  errand::testing::Fake fake;
  auto& client = fake.client();
  ASSERT_TRUE(client.perform_async<WelcomeUser>(42, "en").ok());
  ASSERT_TRUE(client.perform_in<WelcomeUser>(5min, 43, "fr").ok());
  ASSERT_TRUE(client.perform_async<FlakySync>().ok());

  auto welcomes = errand::testing::jobs<WelcomeUser>();
  ASSERT_EQ(welcomes.size(), 2u);
  EXPECT_EQ(welcomes[0].args, errand::Json::array({42, "en"}));
  EXPECT_EQ(welcomes[0].queue, "mailers");
  EXPECT_FALSE(welcomes[0].at.has_value());
  ASSERT_TRUE(welcomes[1].at.has_value()) << "perform_in is scheduled";
  EXPECT_EQ(std::chrono::round<std::chrono::seconds>(*welcomes[1].at - fake.clock().now()), 5min);
  EXPECT_ENQUEUED(WelcomeUser, 42, "en");
  EXPECT_ENQUEUED(FlakySync);
  EXPECT_NOT_ENQUEUED(WelcomeUser, 42, "de");
  EXPECT_ENQUEUED_COUNT(WelcomeUser, 2);
  EXPECT_NONFATAL_FAILURE(EXPECT_ENQUEUED(WelcomeUser, 7, "en"),
                          "WelcomeUser[7,\"en\"] is not enqueued; waiting: WelcomeUser[42,\"en\"]");

  errand::testing::clear();
  EXPECT_TRUE(fake.jobs().empty());
  EXPECT_ENQUEUED_COUNT(WelcomeUser, 0);
}

TEST(ErrandTesting, CodeThatOpensItsOwnClientPushesIntoTheFake) {
  errand::testing::Fake fake;
  auto client = errand::Client::open(fake.url()).value();
  ASSERT_TRUE(client.perform_async<WelcomeUser>(1, "en").ok());
  EXPECT_ENQUEUED(WelcomeUser, 1, "en");
}

TEST(ErrandTesting, DrainRunsDueJobsThroughTheMiddlewareAndFollowUps) {
  auto counting = std::make_shared<CountingMiddleware>();
  errand::testing::Fake fake({.middleware = {counting}});
  g_welcomed = 0;
  ASSERT_TRUE(fake.client().perform_async<SignupFlow>(7).ok());
  ASSERT_TRUE(fake.client().perform_in<WelcomeUser>(1h, 8, "en").ok());

  auto r = errand::testing::drain();
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->processed, 2) << "SignupFlow and the WelcomeUser it enqueued";
  EXPECT_EQ(counting->calls.load(), 2);
  EXPECT_EQ(g_welcomed.load(), 1);
  EXPECT_ENQUEUED_COUNT(WelcomeUser, 1) << "the scheduled one waits for the clock";

  fake.clock().advance(61min);
  r = fake.drain();
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->processed, 1);
  EXPECT_EQ(g_welcomed.load(), 2);
  EXPECT_TRUE(fake.jobs().empty());
}

TEST(ErrandTesting, FailuresWaitInRetriesUntilTheClockMoves) {
  errand::testing::Fake fake;
  g_flaky_runs = 0;
  ASSERT_TRUE(fake.client().perform_async<FlakySync>().ok());
  auto r = fake.drain();
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->failed, 1);
  ASSERT_EQ(fake.retries().size(), 1u);
  EXPECT_EQ(fake.retries()[0].payload["error_message"], "gateway timeout");

  r = fake.drain();  // not due yet: nothing runs
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->processed, 0);
  fake.clock().advance(1h);
  r = fake.drain();
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->processed, 1);
  EXPECT_EQ(r->failed, 0);
  EXPECT_TRUE(fake.retries().empty());
  EXPECT_EQ(g_flaky_runs.load(), 2);
}

TEST(ErrandTesting, InlineModeRunsAtOnceAndRethrows) {
  auto counting = std::make_shared<CountingMiddleware>();
  errand::testing::Fake fake({.middleware = {counting}, .inline_mode = true});
  g_welcomed = 0;
  auto jid = fake.client().perform_async<WelcomeUser>(5, "en");
  ASSERT_TRUE(jid.ok());
  EXPECT_EQ(g_welcomed.load(), 1);
  EXPECT_EQ(counting->calls.load(), 1);
  EXPECT_TRUE(fake.jobs().empty()) << "nothing is enqueued in inline mode";
  EXPECT_THROW((void)fake.client().perform_async<WelcomeUser>(6, ""), std::invalid_argument);
}

}  // namespace
