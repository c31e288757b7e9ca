// errand's log lines: Sidekiq's shape (time, pid, tid, context, level,
// message), as plain text or JSON lines, written to stderr or stdout through
// a buffer (log_output.h; a line costs its formatting, not a system call) or
// handed to the application's sink (errand/log.h).
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "errand/log.h"
#include "errand/server.h"

namespace errand::log {

struct Field {
  std::string_view key;
  std::string_view value;  // viewed, not copied: valid for the write() call that takes it
};

/// Whether lines of `level` are written (set_level in errand/log.h). Thread-safe.
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
