#include "server/retrier.h"

#include <gtest/gtest.h>

#include "errand/job.h"

namespace errand {
namespace {

FailureInput input(double now, const JobDescriptor* job = nullptr, int digit = 0) {
  FailureInput in;
  in.error_class = "Boom";
  in.error_message = "it broke";
  in.fetched_queue = "default";
  in.job = job;
  in.now = now;
  in.random_digit = [digit] { return digit; };
  return in;
}

TEST(Retrier, SidekiqBackoffTable) {
  EXPECT_DOUBLE_EQ(default_backoff_seconds(0), 15);
  EXPECT_DOUBLE_EQ(default_backoff_seconds(1), 16);
  EXPECT_DOUBLE_EQ(default_backoff_seconds(5), 640);
  EXPECT_DOUBLE_EQ(default_backoff_seconds(10), 10015);
  EXPECT_DOUBLE_EQ(default_backoff_seconds(24), 331791);
}

TEST(Retrier, FirstFailureSetsFailedAtAndCountZero) {
  Json doc = {{"class", "A"},  {"args", Json::array()}, {"jid", "j"},
              {"retry", true}, {"queue", "q"},          {"custom", "kept"}};
  auto out = plan_failure(doc, input(1000, nullptr, 9));
  EXPECT_EQ(out.kind, FailureOutcome::Kind::retry);
  EXPECT_DOUBLE_EQ(out.at, 1000 + 15 + 9);  // jitter = 9 * (0 + 1)
  EXPECT_EQ(doc["retry_count"], 0);
  EXPECT_DOUBLE_EQ(doc["failed_at"].get<double>(), 1000);
  EXPECT_FALSE(doc.contains("retried_at"));
  EXPECT_EQ(doc["error_class"], "Boom");
  EXPECT_EQ(doc["error_message"], "it broke");
  EXPECT_EQ(doc["queue"], "default");  // the queue it was fetched from
  EXPECT_EQ(doc["custom"], "kept");
}

TEST(Retrier, LaterFailuresSetRetriedAtAndJitterScalesWithCount) {
  Json doc = {{"retry", true}, {"retry_count", 4}, {"failed_at", 1.0}};
  auto out = plan_failure(doc, input(2000, nullptr, 3));
  EXPECT_EQ(doc["retry_count"], 5);
  EXPECT_DOUBLE_EQ(doc["retried_at"].get<double>(), 2000);
  EXPECT_DOUBLE_EQ(doc["failed_at"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(out.at, 2000 + 640 + 3 * 6);
}

TEST(Retrier, RetryZeroGoesStraightToDead) {
  Json doc = {{"retry", 0}};
  auto out = plan_failure(doc, input(1));
  EXPECT_EQ(out.kind, FailureOutcome::Kind::dead);
  EXPECT_TRUE(out.run_death_handlers);
}

TEST(Retrier, RetryFalseDropsAndRunsDeathHandlers) {
  Json doc = {{"retry", false}};
  auto out = plan_failure(doc, input(1));
  EXPECT_EQ(out.kind, FailureOutcome::Kind::drop);
  EXPECT_TRUE(out.run_death_handlers);
}

TEST(Retrier, ExhaustedGoesToDeadUnlessDeadFalse) {
  Json doc = {{"retry", 2}, {"retry_count", 1}};
  EXPECT_EQ(plan_failure(doc, input(1)).kind, FailureOutcome::Kind::dead);
  Json keep = {{"retry", 2}, {"retry_count", 1}, {"dead", false}};
  auto out = plan_failure(keep, input(1));
  EXPECT_EQ(out.kind, FailureOutcome::Kind::drop);
  EXPECT_TRUE(out.run_death_handlers);
}

TEST(Retrier, MaxRetriesAppliesToRetryTrueAndFloats) {
  Json doc = {{"retry", true}, {"retry_count", 24}};
  EXPECT_EQ(plan_failure(doc, input(1)).kind, FailureOutcome::Kind::dead);  // 25 < 25 is false
  Json f = {{"retry", 5.0}, {"retry_count", 10}};
  EXPECT_EQ(plan_failure(f, input(1)).kind, FailureOutcome::Kind::retry);  // float → default 25
}

TEST(Retrier, ClassOptionFillsAMissingRetryField) {
  JobDescriptor d;
  d.retry = Retry(1);
  Json doc = Json::object();
  auto out = plan_failure(doc, input(1, &d));
  EXPECT_EQ(doc["retry"], 1);
  EXPECT_EQ(out.kind, FailureOutcome::Kind::retry);
  // Unknown class and no retry field: dropped (Sidekiq).
  Json none = Json::object();
  EXPECT_EQ(plan_failure(none, input(1)).kind, FailureOutcome::Kind::drop);
}

TEST(Retrier, CustomBackoffAndRetryQueue) {
  JobDescriptor d;
  d.retry_in = [](int count) { return std::optional(std::chrono::seconds(100 * (count + 1))); };
  Json doc = {{"retry", true}, {"retry_queue", "slow"}};
  auto out = plan_failure(doc, input(0, &d, 2));
  EXPECT_DOUBLE_EQ(out.at, 100 + 2);
  EXPECT_EQ(doc["queue"], "slow");
  // A custom backoff of zero falls back to the default formula.
  JobDescriptor z;
  z.retry_in = [](int) { return std::optional(std::chrono::seconds(0)); };
  Json doc2 = {{"retry", true}};
  EXPECT_DOUBLE_EQ(plan_failure(doc2, input(0, &z, 0)).at, 15);
}

TEST(Retrier, ActionsOverrideTheCount) {
  Json doc = {{"retry", 10}};
  auto in = input(1);
  in.action = ErrorAction::dead;
  EXPECT_EQ(plan_failure(doc, in).kind, FailureOutcome::Kind::dead);
  Json doc2 = {{"retry", 10}};
  in.action = ErrorAction::discard;
  auto out = plan_failure(doc2, in);
  EXPECT_EQ(out.kind, FailureOutcome::Kind::drop);
  EXPECT_FALSE(out.run_death_handlers);
}

TEST(Retrier, LongMessagesAreTruncated) {
  Json doc = {{"retry", true}};
  auto in = input(1);
  in.error_message = std::string(20000, 'x');
  plan_failure(doc, in);
  EXPECT_EQ(doc["error_message"].get<std::string>().size(), 10000u);
}

}  // namespace
}  // namespace errand
