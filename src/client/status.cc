// Client::status / result_json / wait / cancel: the stores that keep status,
// asked in QueueMap::stores() order.
#include <vector>

#include "errand/client.h"
#include "errand/payload_limits.h"

namespace errand {

namespace {

/// How long a cancel request for a job nobody has seen yet is kept.
constexpr double kCancelTtl = 86'400;

std::vector<std::shared_ptr<Store>> status_stores(const QueueMap& queues) {
  std::vector<std::shared_ptr<Store>> out;
  for (auto& s : queues.stores())
    if (s->capabilities().status) out.push_back(s);
  return out;
}

Error no_status_store() {
  return Error(Errc::unsupported,
               "none of this client's stores keeps job status (memory, sqlite, redis and "
               "postgres stores do)");
}

}  // namespace

Result<JobStatus> Client::status(const std::string& jid) const {
  auto stores = status_stores(*queues_);
  if (stores.empty()) return no_status_store();
  JobStatus unknown;
  for (auto& s : stores) {
    auto st = s->job_status(jid, to_epoch(now()));
    if (!st) return st.error();
    if (st->state != JobState::unknown) return st;
  }
  return unknown;
}

Result<Json> Client::result_json(const std::string& jid) const {
  auto st = status(jid);
  if (!st) return st.error();
  if (st->state != JobState::succeeded) {
    std::string why = "job " + jid + " has no result: it is " + std::string(to_string(st->state));
    if (!st->error.empty()) why += " (" + st->error + ")";
    return Error(Errc::not_found, why);
  }
  auto parsed = payload::parse(st->result);
  if (!parsed)
    return Error(Errc::corrupt, "job " + jid + " has a stored result that is not valid JSON: " +
                                    parsed.error().message());
  return std::move(parsed).value();
}

Result<JobStatus> Client::wait(const std::string& jid, std::chrono::milliseconds timeout) const {
  auto stores = status_stores(*queues_);
  if (stores.empty()) return no_status_store();
  // The store that knows the job waits; a jid nobody knows yet (pushed
  // through another client a moment ago) is waited for on the first.
  std::shared_ptr<Store> which = stores.front();
  if (stores.size() > 1) {
    for (auto& s : stores) {
      auto st = s->job_status(jid, to_epoch(now()));
      if (!st) return st.error();
      if (st->state != JobState::unknown) {
        which = s;
        break;
      }
    }
  }
  return which->wait_status(jid, to_epoch(now()), timeout);
}

Result<JobState> Client::cancel(const std::string& jid) const {
  auto stores = status_stores(*queues_);
  if (stores.empty()) return no_status_store();
  for (auto& s : stores) {
    auto st = s->cancel_job(jid, to_epoch(now()), kCancelTtl);
    if (!st) return st.error();
    if (*st != JobState::unknown) return st;
  }
  return JobState::unknown;
}

}  // namespace errand
