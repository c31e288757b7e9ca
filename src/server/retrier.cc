#include "server/retrier.h"

#include <cmath>
#include <random>

namespace errand {

namespace {

constexpr std::size_t kMaxMessage = 10'000;  // Sidekiq truncates error_message here

int thread_random_digit() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return std::uniform_int_distribution<int>(0, 9)(gen);
}

}  // namespace

double default_backoff_seconds(int count) {
  double c = count;
  return c * c * c * c + 15.0;
}

FailureOutcome plan_failure(Json& doc, const FailureInput& in) {
  FailureOutcome out;
  // Which retry setting applies: the payload's, else the class's (written
  // back into the payload, as Sidekiq does), else nothing (drop).
  auto field = payload::retry_field(doc);
  if (!field.present && in.job) {
    const Retry& r = in.job->retry;
    if (!r.enabled())
      doc["retry"] = false;
    else if (r.is_default())
      doc["retry"] = true;
    else
      doc["retry"] = r.count;
    field = payload::retry_field(doc);
  }

  std::string message = in.error_message;
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  doc["error_message"] = message;
  doc["error_class"] = in.error_class;

  if (in.action == ErrorAction::discard) {
    out.kind = FailureOutcome::Kind::drop;
    return out;
  }
  if (!field.present || !field.enabled) {
    // retry: false (or unset with an unknown class): death handlers run, the
    // job goes to neither the retry nor the dead set.
    out.kind = FailureOutcome::Kind::drop;
    out.run_death_handlers = true;
    return out;
  }

  auto rq = doc.find("retry_queue");
  if (rq != doc.end() && rq->is_string() && !rq->get_ref<const std::string&>().empty())
    doc["queue"] = rq->get<std::string>();
  else if (!in.fetched_queue.empty())
    doc["queue"] = in.fetched_queue;

  int count = 0;
  auto rc = doc.find("retry_count");
  if (rc != doc.end() && rc->is_number_integer()) {
    doc["retried_at"] = in.now;
    count = rc->get<int>() + 1;
  } else {
    doc["failed_at"] = in.now;
    count = 0;
  }
  doc["retry_count"] = count;
  out.count = count;

  const int max = field.count ? *field.count : in.max_retries;
  if (in.action != ErrorAction::dead && count < max) {
    double delay = default_backoff_seconds(count);
    if (in.job && in.job->retry_in) {
      auto custom = in.job->retry_in(count);
      if (custom && custom->count() > 0) delay = static_cast<double>(custom->count());
    }
    int digit = in.random_digit ? in.random_digit() : thread_random_digit();
    delay += static_cast<double>(digit) * (count + 1);
    out.kind = FailureOutcome::Kind::retry;
    out.at = in.now + delay;
    return out;
  }

  out.run_death_handlers = true;
  auto dead = doc.find("dead");
  if (dead != doc.end() && dead->is_boolean() && !dead->get<bool>())
    out.kind = FailureOutcome::Kind::drop;
  else
    out.kind = FailureOutcome::Kind::dead;
  return out;
}

}  // namespace errand
