// Keeping secrets and control characters out of what errand prints.
#pragma once

#include <string>
#include <string_view>

namespace errand {

/// A URL as it may be logged: the password of its userinfo replaced by
/// "***" ("redis://:s3cret@host:6379/0" → "redis://:***@host:6379/0",
/// "redis://user:pw@h" → "redis://user:***@h"), and so the value of any
/// `password=` / `token=` query parameter. Other text is returned as is.
std::string redact_url(std::string_view url);

/// Text safe to print on a terminal: control characters (C0, DEL, C1) and
/// bytes that are not valid UTF-8 are shown as \xNN, so that a name cannot
/// move the cursor, retitle the window or hide what follows.
std::string terminal_safe(std::string_view text);

}  // namespace errand
