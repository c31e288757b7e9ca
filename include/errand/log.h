// errand's log lines, for the host application: their level, their format,
// where they go. By default they are written to stderr by a background
// thread (the `errand worker` command writes them to stdout, as Sidekiq
// does); a sink hands every line to the application's own logger instead.
//
//   errand::log::set_sink([](errand::log::Level level, std::string_view line) {
//     spdlog::log(level >= errand::log::Level::warn ? spdlog::level::warn
//                                                   : spdlog::level::info, "{}", line);
//   });
//
// Each line is formatted as text or JSON first (set_format), as Sidekiq's
// formatters do:
//   text: 2026-12-03T07:00:00Z pid=12 tid=1a2b class=SendWelcomeEmail jid=... INFO: done
//   elapsed=0.012 json:
//   {"ts":"2026-12-03T07:00:00Z","pid":12,"tid":"1a2b","lvl":"INFO","msg":"done",
//          "ctx":{"class":"SendWelcomeEmail","jid":"...","elapsed":0.012}}
//
// Thread safety: every function may be called from any thread at any time.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "errand/server.h"  // LogFormat

namespace errand::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

/// "debug", "info", "warn" (or "warning"), "error" → Level; nullopt otherwise.
inline std::optional<Level> level_from_string(std::string_view s) {
  if (s == "debug") return Level::debug;
  if (s == "info") return Level::info;
  if (s == "warn" || s == "warning") return Level::warn;
  if (s == "error") return Level::error;
  return std::nullopt;
}

/// Lines below `level` are not formatted at all (default: info; warn
/// silences the worker's per-job start/done lines).
void set_level(Level level);
/// Text (default) or JSON lines.
void set_format(LogFormat format);

/// Receives each line (without its newline) on the thread that logged it,
/// before the logging call returns; `line` is valid only during the call.
/// Must be thread-safe and must not log through errand.
using Sink = std::function<void(Level level, std::string_view line)>;
/// Sends every line to `sink` instead of the output file descriptor; an
/// empty sink restores the file descriptor. Lines already buffered for the
/// descriptor are written out first.
void set_sink(Sink sink);

/// Where lines go without a sink: 2 (stderr, the default) or 1 (stdout).
void set_output_fd(int fd);

}  // namespace errand::log
