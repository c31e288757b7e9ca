// errand's log lines, and how a host application takes them over.
//
// errand writes Sidekiq's log lines: time, pid, tid, the job's context
// (class, jid, elapsed, ...), level and message, as text or as JSON lines
// with the field names of Sidekiq's JSON formatter (ts, pid, tid, lvl, msg,
// ctx). They go to stdout by default, as Sidekiq's do.
//
//   errand::set_log_level(errand::LogLevel::warn);   // no per-job start/done lines
//   errand::set_log_handler([&](const errand::LogRecord& r) {
//     my_logger.log(to_my_level(r.level), r.line);    // or r.message and r.context
//   });
//
// Every function here is thread-safe and process-wide.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace errand {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };
enum class LogFormat { text, json };

/// One context entry of a line: class=SendWelcomeEmail, jid=..., elapsed=0.012.
struct LogField {
  std::string_view key;
  std::string value;
};

/// What a log handler receives. Every view is valid only during the call.
struct LogRecord {
  LogLevel level = LogLevel::info;
  std::string_view message;
  std::span<const LogField> context;
  std::optional<double> elapsed;  ///< seconds a job ran, on its done/fail lines
  std::string_view line;  ///< the whole line as errand would write it (text or JSON), no newline
};
/// Called from errand's threads, possibly at the same time: must be thread-safe.
using LogHandler = std::function<void(const LogRecord&)>;

/// Lines below `level` are dropped (default: info). `warn` silences the
/// per-job start/done lines and keeps failures.
void set_log_level(LogLevel level);
LogLevel log_level();
/// "debug", "info", "warn" (or "warning"), "error"; nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view name);

/// Text (default) or JSON lines.
void set_log_format(LogFormat format);

/// Where lines are written when no handler is set: stdout by default. The
/// stream must stay open while errand runs.
void set_log_stream(std::FILE* stream);

/// Hands every line to `handler` instead of writing it; an empty handler goes
/// back to the stream.
void set_log_handler(LogHandler handler);

}  // namespace errand
