// Small exact text parsers the stores share for their URLs and replies:
// the whole input or nothing, no locale, no exceptions.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace errand::text {

/// The number `s` spells, all of it ("12" yes; "", "12x", " 12" no).
template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

/// `s` with each %XX replaced by its byte; nullopt on a short or non-hex escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace errand::text
