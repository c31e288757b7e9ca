#include "store/memory/store_util.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "errand/payload.h"
#include "errand/payload_limits.h"

namespace errand::store_util {

double advanced(double now, std::chrono::steady_clock::time_point since) {
  return now + std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

std::string utc_day(double epoch) {
  const auto t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::optional<double> enqueued_at(std::string_view payload) {
  if (!payload::check_limits(payload).ok()) return std::nullopt;
  auto doc = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find("enqueued_at");
  if (it == doc.end()) return std::nullopt;
  // Sidekiq 8 writes integer milliseconds; 6/7 write float seconds (redis-layout.md §11).
  if (it->is_number_integer() || it->is_number_unsigned()) {
    const double v = it->get<double>();
    return v > 1e11 ? v / 1000.0 : v;
  }
  if (it->is_number_float()) return it->get<double>();
  return std::nullopt;
}

std::optional<Promoted> promote_payload(std::string_view payload, double now) {
  // ordered_json keeps the producer's key order, so only enqueued_at changes.
  // A payload over the limits is not built (dumping it would recurse once per
  // level): the callers park it in the dead set as they do unparsable text.
  if (!payload::check_limits(payload).ok()) return std::nullopt;
  auto doc = nlohmann::ordered_json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  Promoted out;
  auto q = doc.find("queue");
  out.queue = (q != doc.end() && q->is_string() && !q->get_ref<const std::string&>().empty())
                  ? q->get<std::string>()
                  : std::string("default");
  doc["enqueued_at"] = now;
  out.payload = doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return out;
}

std::string format_score(double score) {
  // As "%.6f", without printf's cost (it was 4 % of a worker's CPU: one
  // per status record and per timestamp).
  char buf[400];  // DBL_MAX in fixed notation: 309 digits, the point and 6 more
  const auto r = std::to_chars(buf, buf + sizeof buf, score, std::chars_format::fixed, 6);
  return std::string(buf, r.ptr);
}

std::string count_crash(std::string_view payload) {
  if (payload.starts_with(kCrashesPrefix)) {
    const std::string_view rest = payload.substr(kCrashesPrefix.size());
    std::size_t digits = 0;
    while (digits < rest.size() && digits < 9 && rest[digits] >= '0' && rest[digits] <= '9')
      ++digits;
    if (digits > 0 && digits < rest.size() && rest[digits] == ',') {
      const long n = std::stol(std::string(rest.substr(0, digits)));
      return std::string(kCrashesPrefix) + std::to_string(n + 1) + std::string(rest.substr(digits));
    }
  }
  if (!payload.starts_with("{\"")) return std::string(payload);
  return std::string(kCrashesPrefix) + "1," + std::string(payload.substr(1));
}

JobStatus merge_status(JobStatus where, const std::optional<JobStatus>& recorded) {
  if (!recorded) return where;
  if (where.error.empty()) where.error = recorded->error;
  if (where.state == JobState::running && where.process.empty()) where.process = recorded->process;
  where.cancel_requested = recorded->cancel_requested;
  where.updated_at = recorded->updated_at;
  where.progress = recorded->progress;
  where.progress_message = recorded->progress_message;
  return where;
}

}  // namespace errand::store_util
