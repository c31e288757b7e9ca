// Reading a stored payload to show it (dashboard and CLI), whatever it holds.
#pragma once

#include <cstddef>
#include <string_view>

#include "errand/payload.h"

namespace errand {

/// The nesting the dashboard and the admin API walk in a job's payload:
/// deeper payloads are shown cut at this depth and are not re-encoded.
inline constexpr std::size_t kMaxAdminDepth = 256;

/// The deepest nesting of arrays and objects in JSON text (strings skipped),
/// found without recursion and without parsing.
std::size_t json_nesting_depth(std::string_view json);

/// Parses a payload to show it (a discarded value if it is not JSON); one
/// that nests deeper than kMaxAdminDepth is cut there (`*cut` set), so that
/// the copies and dumps that follow cannot recurse as deep as the payload.
Json parse_for_display(std::string_view payload, bool* cut = nullptr);

}  // namespace errand
