#include "core/log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace errand::log {

namespace {

std::atomic<LogFormat> g_format{LogFormat::text};
std::atomic<int> g_level{static_cast<int>(Level::info)};

spdlog::logger& sink() {
  // One stderr logger, created on first use; spdlog's _mt sink serialises lines.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("errand",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::debug:
      return "DEBUG";
    case Level::info:
      return "INFO";
    case Level::warn:
      return "WARN";
    case Level::error:
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
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        else
          out += c;
    }
  }
  out += '"';
}

}  // namespace

void set_format(LogFormat format) { g_format.store(format); }
void set_level(Level level) { g_level.store(static_cast<int>(level)); }
bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

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
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  std::string line;
  if (g_format.load() == LogFormat::json) {
    line = fmt::format(
        "{{\"ts\":\"{:%Y-%m-%dT%H:%M:%S}Z\",\"pid\":{},\"tid\":\"{}\",\"lvl\":\"{}\",\"msg\":", ms,
        ::getpid(), thread_id(), level_name(level));
    append_json_string(line, message);
    if (context.size() > 0) {
      line += ",\"ctx\":{";
      bool first = true;
      for (const auto& f : context) {
        if (!first) line += ',';
        first = false;
        append_json_string(line, f.key);
        line += ':';
        append_json_string(line, f.value);
      }
      line += '}';
    }
    if (elapsed) line += fmt::format(",\"elapsed\":{:.3f}", *elapsed);
    line += '}';
  } else {
    line = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z pid={} tid={}", ms, ::getpid(), thread_id());
    for (const auto& f : context) line += fmt::format(" {}={}", f.key, f.value);
    line += fmt::format(" {}: {}", level_name(level), message);
    if (elapsed) line += fmt::format(" elapsed={:.3f}", *elapsed);
  }
  sink().info(line);
}

}  // namespace errand::log
