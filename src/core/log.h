// errand's log lines: Sidekiq's shape (time, pid, tid, context, level,
// message), as plain text or JSON lines, written to stderr through a buffer
// (log_output.h): a line costs its formatting, not a system call.
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "errand/server.h"

namespace errand::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

struct Field {
  std::string_view key;
  std::string_view value;  // viewed, not copied: valid for the write() call that takes it
};

/// Process-wide settings; thread-safe.
void set_format(LogFormat format);
void set_level(Level level);
bool enabled(Level level);

/// Writes one line. Thread-safe.
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
