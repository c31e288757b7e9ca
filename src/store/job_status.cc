// JobState names, and the Store defaults for stores without
// capabilities().status.
#include "errand/job_status.h"

#include <array>

#include "errand/payload_limits.h"
#include "errand/store.h"
#include "store/status_json.h"

namespace errand {

namespace {
constexpr std::array<std::string_view, 8> kStateNames = {
    "unknown", "queued", "scheduled", "running", "succeeded", "retrying", "dead", "cancelled"};

Error no_status(const Store& store) {
  return Error(Errc::unsupported,
               std::string(store.scheme()) + " store keeps no job status, results or cancellation");
}
}  // namespace

std::string_view to_string(JobState state) noexcept {
  const auto i = static_cast<std::size_t>(state);
  return i < kStateNames.size() ? kStateNames[i] : "unknown";
}

std::optional<JobState> job_state_from_string(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == text) return static_cast<JobState>(i);
  return std::nullopt;
}

Status Store::record_status(std::span<const StatusUpdate>) { return no_status(*this); }
Result<JobStatus> Store::job_status(const std::string&, double) { return no_status(*this); }
Result<JobStatus> Store::wait_status(const std::string&, double, std::chrono::milliseconds) {
  return no_status(*this);
}
Result<JobState> Store::cancel_job(const std::string&, double, double) { return no_status(*this); }
Result<std::vector<std::string>> Store::cancel_requests(std::span<const std::string>) {
  return no_status(*this);
}

Status Store::ack_with_status(std::span<const Fetched>, std::span<const StatusUpdate>) {
  return fail(Errc::unsupported,
              std::string(scheme()) + " store: no ack_with_status (acknowledge, then record)");
}

Status ForwardingStore::record_status(std::span<const StatusUpdate> updates) {
  return inner_->record_status(updates);
}
Status ForwardingStore::ack_with_status(std::span<const Fetched> jobs,
                                        std::span<const StatusUpdate> statuses) {
  return inner_->ack_with_status(jobs, statuses);
}
Result<JobStatus> ForwardingStore::job_status(const std::string& jid, double now) {
  return inner_->job_status(jid, now);
}
Result<JobStatus> ForwardingStore::wait_status(const std::string& jid, double now,
                                               std::chrono::milliseconds timeout) {
  return inner_->wait_status(jid, now, timeout);
}
Result<JobState> ForwardingStore::cancel_job(const std::string& jid, double now,
                                             double ttl_seconds) {
  return inner_->cancel_job(jid, now, ttl_seconds);
}
Result<std::vector<std::string>> ForwardingStore::cancel_requests(
    std::span<const std::string> jids) {
  return inner_->cancel_requests(jids);
}

Json status_json(const std::string& jid, const JobStatus& s) {
  Json out{{"jid", jid}, {"state", to_string(s.state)}};
  if (s.state == JobState::succeeded) {
    auto parsed = payload::parse(s.result);
    out["result"] = parsed ? std::move(parsed).value() : Json(s.result);
  }
  if (!s.error.empty()) out["error"] = s.error;
  if (!s.process.empty()) out["process"] = s.process;
  if (s.cancel_requested) out["cancel_requested"] = true;
  if (s.updated_at > 0) out["updated_at"] = s.updated_at;
  if (s.progress) out["progress"] = *s.progress;
  if (!s.progress_message.empty()) out["progress_message"] = s.progress_message;
  return out;
}

}  // namespace errand
