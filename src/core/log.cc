#include "core/log.h"

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/log_output.h"

namespace errand::log {

namespace {

std::atomic<LogFormat> g_format{LogFormat::text};
std::atomic<int> g_level{static_cast<int>(Level::info)};
// getpid() is a system call; the pid is read once (and again in a forked child).
std::atomic<int> g_pid{0};

int pid() {
  int p = g_pid.load(std::memory_order_relaxed);
  if (p == 0) {
    static std::once_flag once;
    std::call_once(once, [] { ::pthread_atfork(nullptr, nullptr, [] { g_pid.store(0); }); });
    p = static_cast<int>(::getpid());
    g_pid.store(p, std::memory_order_relaxed);
  }
  return p;
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

bool needs_escape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  while (!s.empty()) {
    std::size_t plain = 0;
    while (plain < s.size() && !needs_escape(s[plain])) ++plain;
    out.append(s.data(), plain);  // runs of plain characters are copied whole
    if (plain == s.size()) break;
    switch (const char c = s[plain]) {
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
        out += fmt::format("\\u{:04x}", static_cast<int>(c));
    }
    s.remove_prefix(plain + 1);
  }
  out += '"';
}

}  // namespace

void set_format(LogFormat format) { g_format.store(format); }
void set_level(Level level) { g_level.store(static_cast<int>(level)); }
bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

namespace {

// The application's sink (errand/log.h); g_has_sink spares the lock when none is set.
std::mutex g_sink_mu;
std::shared_ptr<const Sink> g_sink;  // guarded by g_sink_mu
std::atomic<bool> g_has_sink{false};

std::shared_ptr<const Sink> current_sink() {
  if (!g_has_sink.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard lk(g_sink_mu);
  return g_sink;
}

}  // namespace

void set_sink(Sink sink) {
  output::flush();  // lines logged before keep their place
  std::lock_guard lk(g_sink_mu);
  g_sink = sink ? std::make_shared<const Sink>(std::move(sink)) : nullptr;
  g_has_sink.store(g_sink != nullptr, std::memory_order_release);
}

void set_output_fd(int fd) { output::set_fd(fd); }

namespace {

/// Everything a thread keeps for its lines, in one thread_local (each
/// thread_local of a shared library costs a __tls_get_addr call).
struct ThreadState {
  std::string line;  // the line being formatted; its capacity is kept
  std::string tid;   // Sidekiq's short thread id
  std::string ids;   // " pid=1 tid=ab" or ",\"pid\":1,\"tid\":\"ab\"" for this pid and format
  int ids_pid = 0;
  LogFormat ids_format = LogFormat::text;
  std::time_t second = -1;  // the second `ts` shows
  char ts[32] = {};
  std::size_t ts_len = 0;
};

ThreadState* new_state() {
  // Owned by a thread_local (freed when the thread ends); reached through the
  // plain pointer below, which costs one %fs-relative load instead of a
  // __tls_get_addr call and an initialization guard per line.
  thread_local std::unique_ptr<ThreadState> owner = [] {
    auto s = std::make_unique<ThreadState>();
    auto h = std::hash<std::thread::id>{}(std::this_thread::get_id());
    s->tid = fmt::format("{:x}", (h ^ (h >> 29)) & 0xffffff);
    s->line.reserve(256);
    return s;
  }();
  return owner.get();
}

ThreadState& state() {
  static thread_local ThreadState* t __attribute__((tls_model("initial-exec"))) = nullptr;
  if (t == nullptr) t = new_state();
  return *t;
}

/// "2026-12-02T13:31:21Z" (UTC), formatted once per second per thread.
std::string_view timestamp(ThreadState& t) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (now != t.second) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    t.ts_len = std::strftime(t.ts, sizeof t.ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    t.second = now;
  }
  return {t.ts, t.ts_len};
}

/// The pid and tid part of a line, formatted once per thread (and again after fork).
const std::string& ids(ThreadState& t, LogFormat format) {
  const int p = pid();
  if (t.ids.empty() || t.ids_pid != p || t.ids_format != format) {
    t.ids = format == LogFormat::json ? fmt::format(",\"pid\":{},\"tid\":\"{}\"", p, t.tid)
                                      : fmt::format(" pid={} tid={}", p, t.tid);
    t.ids_pid = p;
    t.ids_format = format;
  }
  return t.ids;
}

void append_elapsed(std::string& line, std::string_view prefix, double elapsed) {
  char text[64];
  auto r = std::to_chars(text, text + sizeof text, elapsed, std::chars_format::fixed, 3);
  line += prefix;
  line.append(text, r.ptr);
}

void format_json(ThreadState& t, Level level, std::string_view message,
                 std::span<const Field> context, std::optional<double> elapsed) {
  std::string& line = t.line;
  line += "{\"ts\":\"";
  line += timestamp(t);
  line += '"';
  line += ids(t, LogFormat::json);
  line += ",\"lvl\":\"";
  line += level_name(level);
  line += "\",\"msg\":";
  append_json_string(line, message);
  // Sidekiq's JSON formatter: the job's class, jid and elapsed are in ctx.
  if (!context.empty() || elapsed) {
    line += ",\"ctx\":{";
    bool first = true;
    for (const auto& f : context) {
      if (!first) line += ',';
      first = false;
      append_json_string(line, f.key);
      line += ':';
      append_json_string(line, f.value);
    }
    if (elapsed) append_elapsed(line, first ? "\"elapsed\":" : ",\"elapsed\":", *elapsed);
    line += '}';
  }
  line += '}';
}

void format_text(ThreadState& t, Level level, std::string_view message,
                 std::span<const Field> context, std::optional<double> elapsed) {
  std::string& line = t.line;
  line += timestamp(t);
  line += ids(t, LogFormat::text);
  for (const auto& f : context) {
    line += ' ';
    line += f.key;
    line += '=';
    line += f.value;
  }
  line += ' ';
  line += level_name(level);
  line += ": ";
  line += message;
  if (elapsed) append_elapsed(line, " elapsed=", *elapsed);
}

}  // namespace

std::string thread_id() { return state().tid; }

void write(Level level, std::string_view message, std::initializer_list<Field> context,
           std::optional<double> elapsed) {
  write(level, message, std::span<const Field>(context.begin(), context.size()), elapsed);
}

void write(Level level, std::string_view message, std::span<const Field> context,
           std::optional<double> elapsed) {
  if (!enabled(level)) return;
  // Formatted into this thread's buffer (its capacity kept from line to
  // line), then appended whole to the output buffer; the write(2) happens on
  // the output's own thread (log_output.h).
  ThreadState& t = state();
  t.line.clear();
  if (g_format.load(std::memory_order_relaxed) == LogFormat::json)
    format_json(t, level, message, context, elapsed);
  else
    format_text(t, level, message, context, elapsed);
  if (auto sink = current_sink()) {
    (*sink)(level, t.line);
    return;
  }
  t.line += '\n';
  output::append(t.line, level >= Level::warn);
}

}  // namespace errand::log
