// errand's own log calls. The public side (levels, format, stream, a host's
// handler) is include/errand/log.h; this adds what the engine writes with.
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "errand/log.h"

namespace errand::log {

using Level = LogLevel;
using Field = LogField;

inline void set_format(LogFormat format) { set_log_format(format); }
inline void set_level(Level level) { set_log_level(level); }
bool enabled(Level level);

/// Writes one line; `elapsed_seconds` joins the context as elapsed=0.123.
/// Thread-safe.
void write(Level level, std::string_view message, std::initializer_list<Field> context = {},
           std::optional<double> elapsed_seconds = std::nullopt);
void write(Level level, std::string_view message, std::span<const Field> context,
           std::optional<double> elapsed_seconds = std::nullopt);

inline void info(std::string_view m, std::initializer_list<Field> c = {}) {
  write(Level::info, m, c);
}
inline void warn(std::string_view m, std::initializer_list<Field> c = {}) {
  write(Level::warn, m, c);
}
inline void error(std::string_view m, std::initializer_list<Field> c = {}) {
  write(Level::error, m, c);
}
inline void debug(std::string_view m, std::initializer_list<Field> c = {}) {
  write(Level::debug, m, c);
}

/// A short id for the calling thread, as Sidekiq's `tid`.
std::string thread_id();

}  // namespace errand::log
