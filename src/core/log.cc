// The log writer: one line per call, formatted into a per-thread buffer
// (no allocation once the buffer has grown), then written to the stream with
// one fwrite, or handed to the host's handler.
#include "core/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <thread>

namespace errand {

namespace {

std::atomic<LogFormat> g_format{LogFormat::text};
std::atomic<int> g_level{static_cast<int>(LogLevel::info)};
std::atomic<std::FILE*> g_stream{nullptr};  // nullptr: stdout
std::atomic<bool> g_has_handler{false};
std::mutex g_handler_mu;
std::shared_ptr<const LogHandler> g_handler;  // guarded by g_handler_mu

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug:
      return "DEBUG";
    case LogLevel::info:
      return "INFO";
    case LogLevel::warn:
      return "WARN";
    case LogLevel::error:
      return "ERROR";
  }
  return "INFO";
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<int>(c));
        else
          out += c;
    }
  }
  out += '"';
}

// Sidekiq's JSON formatter: {"ts","pid","tid","lvl","msg","ctx"}; elapsed is
// a context entry, as Sidekiq's job logger adds it.
void format_json(std::string& line, const LogRecord& r, std::string_view ts, std::string_view tid) {
  fmt::format_to(std::back_inserter(line),
                 "{{\"ts\":\"{}\",\"pid\":{},\"tid\":\"{}\",\"lvl\":\"{}\",\"msg\":", ts,
                 ::getpid(), tid, level_name(r.level));
  append_json_string(line, r.message);
  if (!r.context.empty() || r.elapsed) {
    line += ",\"ctx\":{";
    bool first = true;
    for (const auto& f : r.context) {
      if (!first) line += ',';
      first = false;
      append_json_string(line, f.key);
      line += ':';
      append_json_string(line, f.value);
    }
    if (r.elapsed)
      fmt::format_to(std::back_inserter(line), "{}\"elapsed\":\"{:.3f}\"", first ? "" : ",",
                     *r.elapsed);
    line += '}';
  }
  line += '}';
}

// Sidekiq's text formatter: TIME pid=P tid=T key=value... LEVEL: message
void format_text(std::string& line, const LogRecord& r, std::string_view ts, std::string_view tid) {
  fmt::format_to(std::back_inserter(line), "{} pid={} tid={}", ts, ::getpid(), tid);
  for (const auto& f : r.context)
    fmt::format_to(std::back_inserter(line), " {}={}", f.key, f.value);
  if (r.elapsed) fmt::format_to(std::back_inserter(line), " elapsed={:.3f}", *r.elapsed);
  fmt::format_to(std::back_inserter(line), " {}: {}", level_name(r.level), r.message);
}

void emit(const LogRecord& record) {
  if (g_has_handler.load(std::memory_order_acquire)) {
    std::shared_ptr<const LogHandler> handler;
    {
      std::lock_guard lk(g_handler_mu);
      handler = g_handler;
    }
    if (handler) {
      (*handler)(record);
      return;
    }
  }
  std::FILE* out = g_stream.load(std::memory_order_relaxed);
  if (out == nullptr) out = stdout;
  // One locked write per line: lines of concurrent threads never interleave.
  ::flockfile(out);
  ::fwrite_unlocked(record.line.data(), 1, record.line.size(), out);
  ::fputc_unlocked('\n', out);
  ::fflush_unlocked(out);
  ::funlockfile(out);
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }
void set_log_format(LogFormat format) { g_format.store(format); }
void set_log_stream(std::FILE* stream) { g_stream.store(stream); }

void set_log_handler(LogHandler handler) {
  std::lock_guard lk(g_handler_mu);
  g_handler = handler ? std::make_shared<const LogHandler>(std::move(handler)) : nullptr;
  g_has_handler.store(g_handler != nullptr, std::memory_order_release);
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::debug;
  if (name == "info") return LogLevel::info;
  if (name == "warn" || name == "warning") return LogLevel::warn;
  if (name == "error") return LogLevel::error;
  return std::nullopt;
}

namespace log {

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

std::string thread_id() {
  thread_local std::string id = [] {
    auto h = std::hash<std::thread::id>{}(std::this_thread::get_id());
    return fmt::format("{:x}", (h ^ (h >> 29)) & 0xffffff);
  }();
  return id;
}

void write(Level level, std::string_view message, std::initializer_list<Field> context,
           std::optional<double> elapsed) {
  write(level, message, std::span<const Field>(context.begin(), context.size()), elapsed);
}

void write(Level level, std::string_view message, std::span<const Field> context,
           std::optional<double> elapsed) {
  if (!enabled(level)) return;
  // Reused by every line of this thread: no allocation once it has grown.
  thread_local std::string line;
  thread_local std::string tid = thread_id();
  line.clear();
  char ts[40];
  auto ms =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto end = fmt::format_to_n(ts, sizeof ts - 1, "{:%Y-%m-%dT%H:%M:%S}Z", ms).out;
  const std::string_view stamp(ts, static_cast<std::size_t>(end - ts));
  LogRecord record{level, message, context, elapsed, {}};
  if (g_format.load(std::memory_order_relaxed) == LogFormat::json)
    format_json(line, record, stamp, tid);
  else
    format_text(line, record, stamp, tid);
  record.line = line;
  emit(record);
}

}  // namespace log

}  // namespace errand
