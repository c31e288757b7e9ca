// libFuzzer target: the cron expression parser and its next-tick search.
// The first line is the expression; a second line, if any, a time zone.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errand/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view zone;
  if (auto nl = text.find('\n'); nl != std::string_view::npos) {
    zone = text.substr(nl + 1);
    text = text.substr(0, nl);
  }
  auto expr = errand::CronExpression::parse(text);
  if (!expr.ok()) return 0;
  // 2026-12-02T12:00:00Z, then a moment just before a DST change in Europe.
  for (std::int64_t t : {1796212800LL, 1774745999LL}) {
    const errand::SystemTime after{std::chrono::seconds(t)};
    auto next = expr->next(after, zone.size() < 64 ? zone : std::string_view());
    if (next.ok() && next->has_value() && **next <= after) __builtin_trap();
  }
  return 0;
}
