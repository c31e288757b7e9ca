// Small helpers shared by the memory, SQLite and PostgreSQL stores (payload
// edits the store must make itself, dates, status records). Not a public header.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "errand/job_status.h"

namespace errand::store_util {

/// `now` (epoch seconds, the caller's clock) moved on by the steady time
/// passed since `since`: how a store dates what it does after a wait
/// without reading the wall clock itself.
double advanced(double now, std::chrono::steady_clock::time_point since);

/// The UTC date of `epoch` as "YYYY-MM-DD" (the daily counters' suffix).
std::string utc_day(double epoch);

/// The payload's `enqueued_at` in epoch seconds (float seconds, or Sidekiq 8
/// integer milliseconds), or nullopt if absent or the text does not parse.
std::optional<double> enqueued_at(std::string_view payload);

struct Promoted {
  std::string queue;    ///< the payload's `queue`, or "default" when absent
  std::string payload;  ///< the payload with `enqueued_at` set; other fields and their order kept
};

/// What promote_due() does to a scheduled/retry entry. nullopt if the text is
/// not a JSON object.
std::optional<Promoted> promote_payload(std::string_view payload, double now);

/// The key a rescue adds to a payload, always as the object's first member
/// so that every store (Redis in Lua, PostgreSQL in SQL) edits it by a prefix
/// match, without parsing or re-encoding the rest: `{"errand_crashes":N,...`.
inline constexpr std::string_view kCrashesPrefix = R"({"errand_crashes":)";

/// `payload` as a rescue puts it back: its crash count (the workers that died
/// while running it) one higher. A payload that is not an object with at
/// least one member is returned unchanged (the worker dead-sets it anyway).
std::string count_crash(std::string_view payload);

/// A job's status where the database stores keep records beside their jobs:
/// where the job sits (`where`), completed by its record, if any (the last
/// error, the process that runs it, a cancel request, when it was written).
JobStatus merge_status(JobStatus where, const std::optional<JobStatus>& recorded);

/// A score as the Web UI prints it in "<score>-<jid>" names.
std::string format_score(double score);

}  // namespace errand::store_util
