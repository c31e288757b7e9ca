// What a payload may be, checked before any code walks it: a hostile or
// broken payload must never crash a worker, a client or the CLI.
//
// nlohmann's parser keeps its own stack and its destructor is iterative, but
// copying, dumping and comparing a document recurse once per nesting level:
// a payload 100,000 levels deep overflows a thread's stack. So every reader
// of text from a store or a user checks the limits first (check_limits, a
// linear pre-scan) and builds only documents within them (parse).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "errand/payload.h"
#include "errand/status.h"

namespace errand::payload {

/// At most `max_depth` arrays/objects nested in one another and `max_bytes`
/// of text. A payload over a limit is refused with a message naming that
/// limit; a worker parks it in the dead set as errand::BadPayload.
struct Limits {
  std::size_t max_depth = 256;        ///< nesting levels; `[]` is 1, `{"a":[]}` is 2
  std::size_t max_bytes = 16u << 20;  ///< 16 MiB of JSON text
};

/// Above this depth nlohmann's copy and dump could exhaust a thread's stack:
/// set_limits clamps max_depth to it.
inline constexpr std::size_t kMaxDepthCeiling = 4096;

/// The process-wide limits, read by every parse below. Thread-safe.
Limits limits();

/// Replaces the process-wide limits (a 0 field keeps its default; max_depth is
/// clamped to kMaxDepthCeiling). Thread-safe; takes effect for later parses.
void set_limits(const Limits& limits);

/// Checks JSON text against `limits` without building anything: its length,
/// then the nesting of brackets outside strings, in one linear pass with no
/// recursion and no allocation. Says nothing about validity otherwise.
/// Returns corrupt with a message naming the limit it breaks.
Status check_limits(std::string_view text, const Limits& limits);
Status check_limits(std::string_view text);

/// The nesting depth of an in-memory document (0 for a scalar), found without
/// recursion; stops counting once past `stop_after`.
std::size_t depth(const Json& doc, std::size_t stop_after = SIZE_MAX);

/// Parses JSON text after check_limits. Returns corrupt naming the limit, or
/// "payload is not valid JSON". Use this, never Json::parse, for text from a
/// store or a user: a document within the limits is safe to copy, dump and
/// compare. (parse_for_work checks the limits the same way.)
Result<Json> parse(std::string_view text);

/// The top-level "jid" string of a payload object, read by a streaming pass
/// that builds nothing (so it works on payloads over the limits); empty when
/// there is none.
std::string jid_of(std::string_view text);

}  // namespace errand::payload
