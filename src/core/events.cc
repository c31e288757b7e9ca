// Job events as JSON (the form every store's channel carries) and
// JobContext::progress, the job's side of progress reports.
#include "errand/events.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "errand/job.h"
#include "errand/payload_limits.h"

namespace errand {

namespace {

constexpr std::array<std::string_view, 8> kKindNames = {
    "enqueued", "started", "progress", "succeeded", "retrying", "dead", "cancelled", "snoozed"};

/// Messages and errors travel whole up to this many bytes (PostgreSQL's
/// NOTIFY payload is at most 8,000 bytes).
constexpr std::size_t kMaxText = 2000;

std::string cut(const std::string& text) {
  if (text.size() <= kMaxText) return text;
  std::size_t n = kMaxText;
  // Not in the middle of a UTF-8 sequence.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n) + "...";
}

std::string text_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string_view to_string(JobEventKind kind) noexcept {
  const auto i = static_cast<std::size_t>(kind);
  return i < kKindNames.size() ? kKindNames[i] : "unknown";
}

std::optional<JobEventKind> job_event_kind_from_string(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kKindNames.size(); ++i)
    if (kKindNames[i] == text) return static_cast<JobEventKind>(i);
  return std::nullopt;
}

std::string encode_event(const JobEvent& e) {
  Json j{{"event", to_string(e.kind)}, {"jid", e.jid}, {"at", e.at}};
  if (!e.job_class.empty()) j["class"] = e.job_class;
  if (!e.queue.empty()) j["queue"] = e.queue;
  if (!e.process.empty()) j["process"] = e.process;
  if (e.progress) j["progress"] = *e.progress;
  if (!e.message.empty()) j["message"] = cut(e.message);
  if (!e.error.empty()) j["error"] = cut(e.error);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<JobEvent> decode_event(std::string_view text) {
  auto doc = payload::parse(text);
  if (!doc || !doc->is_object()) return std::nullopt;
  const Json& j = *doc;
  auto kind = job_event_kind_from_string(text_of(j, "event"));
  if (!kind) return std::nullopt;
  JobEvent e;
  e.kind = *kind;
  e.jid = text_of(j, "jid");
  e.job_class = text_of(j, "class");
  e.queue = text_of(j, "queue");
  e.process = text_of(j, "process");
  e.message = text_of(j, "message");
  e.error = text_of(j, "error");
  if (auto at = j.find("at"); at != j.end() && at->is_number()) e.at = at->get<double>();
  if (auto p = j.find("progress"); p != j.end() && p->is_number()) e.progress = p->get<double>();
  return e;
}

void JobContext::progress(double fraction, std::string_view message) const {
  if (!progress_sink_ || std::isnan(fraction)) return;
  progress_sink_(std::clamp(fraction, 0.0, 1.0), message);
}

}  // namespace errand
