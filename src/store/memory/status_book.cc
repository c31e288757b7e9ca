#include "store/memory/status_book.h"

#include <algorithm>

#include "errand/payload_limits.h"

namespace errand::store_util {

void StatusBook::record(const StatusUpdate& u) {
  {
    std::lock_guard lk(mu_);
    purge_locked(u.now);
    Entry& e = entries_[u.jid];
    const bool keep_cancel = u.state == JobState::running && e.status.cancel_requested;
    const bool fresh = e.expires_at < u.now;
    auto progress = fresh ? std::nullopt : e.status.progress;
    auto message = fresh ? std::string() : std::move(e.status.progress_message);
    // Progress reported while it ran is kept with the outcome.
    e.status = JobStatus{
        u.state,           u.result, u.error, u.process, keep_cancel, u.now, std::move(progress),
        std::move(message)};
    e.expires_at = u.now + u.ttl_seconds;
  }
  if (is_final(u.state)) cv_.notify_all();
}

void StatusBook::progress(const ProgressUpdate& u) {
  std::lock_guard lk(mu_);
  purge_locked(u.now);
  auto [it, fresh] = entries_.try_emplace(u.jid);
  Entry& e = it->second;
  if (!fresh && e.expires_at < u.now) e = Entry{};
  e.status.progress = u.fraction;
  e.status.progress_message = u.message;
  e.status.updated_at = u.now;
  e.expires_at = std::max(e.expires_at, u.now + u.ttl_seconds);
}

std::optional<JobStatus> StatusBook::find(const std::string& jid, double now) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(jid);
  if (it == entries_.end() || it->second.expires_at < now) return std::nullopt;
  return it->second.status;
}

JobState StatusBook::request_cancel(const std::string& jid, double now, double ttl_seconds) {
  std::lock_guard lk(mu_);
  auto [it, fresh] = entries_.try_emplace(jid);
  Entry& e = it->second;
  if (!fresh && e.expires_at < now) e = Entry{};
  if (is_final(e.status.state)) return e.status.state;
  e.status.cancel_requested = true;
  e.expires_at = std::max(e.expires_at, now + ttl_seconds);
  return e.status.state;
}

std::vector<std::string> StatusBook::requested(std::span<const std::string> jids) {
  std::vector<std::string> out;
  std::lock_guard lk(mu_);
  for (const auto& jid : jids)
    if (auto it = entries_.find(jid); it != entries_.end() && it->second.status.cancel_requested)
      out.push_back(jid);
  return out;
}

void StatusBook::wait_final(const std::string& jid, std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, timeout, [&] {
    auto it = entries_.find(jid);
    return it != entries_.end() && is_final(it->second.status.state);
  });
}

void StatusBook::purge_locked(double now) {
  if (now - purged_at_ < 60) return;
  purged_at_ = now;
  std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires_at < now; });
}

std::string payload_error(std::string_view payload) {
  auto doc = payload::parse(payload);
  if (!doc || !doc->is_object()) return {};
  auto text = [&](const char* key) {
    auto it = doc->find(key);
    return it != doc->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string cls = text("error_class");
  const std::string msg = text("error_message");
  if (cls.empty() && msg.empty()) return {};
  return cls + ": " + msg;
}

}  // namespace errand::store_util
