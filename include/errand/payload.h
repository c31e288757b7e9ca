// The job payload: one JSON document per job, with Sidekiq's field names
// (see redis-layout.md §2), the same in every store.
//
// errand keeps the payload as JSON text in stores and as an nlohmann::json
// object in memory. Unknown fields are preserved through every transition.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "errand/status.h"

namespace errand {

using Json = nlohmann::json;

namespace payload {

/// Compact JSON text of `doc`; invalid UTF-8 in strings is replaced (never throws).
std::string dump(const Json& doc);

/// A new job id: 24 lowercase hex characters (12 random bytes), as Sidekiq's.
/// Thread-safe.
std::string new_jid();

/// Reads a payload timestamp. Sidekiq 6/7 write float epoch seconds; Sidekiq 8
/// writes integer epoch milliseconds. Integers above 10^11 are taken as
/// milliseconds; anything else numeric as seconds. Returns nullopt if `v` is
/// not a number.
std::optional<double> timestamp(const Json& v);

/// The payload field `key` as epoch seconds, or nullopt if absent or not numeric.
std::optional<double> timestamp(const Json& doc, std::string_view key);

/// Checks what Sidekiq's client checks before a push (redis-layout.md §3):
/// `class` is a non-empty string, `args` is an array, `queue` (if present) is a
/// non-empty string, `at` (if present) is a number, `tags` (if present) is an
/// array. Returns invalid_argument with a message naming the field.
Status validate(const Json& doc);

/// Parses payload text and validates that it is a JSON object with the fields
/// a worker needs (`class` string, `args` array, `jid` string). Returns
/// corrupt with a message saying what is wrong.
Result<Json> parse_for_work(std::string_view text);

/// The class name to show and log: `wrapped` (ActiveJob) or `display_class`
/// when present, else `class`.
std::string display_class(const Json& doc);

/// The `retry` field in Sidekiq's terms: nullopt if absent or null; false
/// means "no retry, no dead entry"; true means the server default; an integer
/// is a retry count (0 = straight to the dead set on the first failure).
struct RetryField {
  bool present = false;
  bool enabled = false;
  std::optional<int> count;  ///< set when the field is a JSON integer
};
RetryField retry_field(const Json& doc);

}  // namespace payload
}  // namespace errand
