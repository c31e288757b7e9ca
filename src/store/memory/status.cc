// The in-process store: where a job is (status) and cancelling it (see
// store_impl.h; the records in status_book.cc).
#include "store/memory/store_impl.h"

namespace errand::memory {

Result<JobStatus> MemoryStore::job_status(const std::string& jid, double now) {
  auto rec = book_.find(jid, now);
  if (rec && is_final(rec->state)) return *rec;
  std::optional<JobStatus> where;
  {
    std::lock_guard lock(mu_);
    where = locate_locked(jid);
  }
  if (!where) return rec.value_or(JobStatus{});
  return store_util::merge_status(*where, rec);
}

Result<JobState> MemoryStore::cancel_job(const std::string& jid, double now, double ttl) {
  bool removed = false;
  {
    std::lock_guard lock(mu_);
    removed = remove_waiting_locked(jid);
  }
  if (!removed) {
    const JobState recorded = book_.request_cancel(jid, now, ttl);
    if (is_final(recorded)) return recorded;
    // Running is read from the claim, never recorded (as the other stores do).
    std::lock_guard lock(mu_);
    auto where = locate_locked(jid);
    return where && where->state == JobState::running ? JobState::running : recorded;
  }
  book_.record(StatusUpdate{jid, JobState::cancelled, {}, {}, {}, now, ttl});
  return JobState::cancelled;
}

// Where `jid` sits (a linear scan: the memory store is for tests and
// single processes), or nullopt.
std::optional<JobStatus> MemoryStore::locate_locked(const std::string& jid) const {
  auto at = [](JobState state, std::string error = {}) {
    JobStatus s;
    s.state = state;
    s.error = std::move(error);
    return s;
  };
  for (const auto& [name, q] : queues_)
    for (const auto& [prio, lane] : q.lanes)
      for (const auto& job : lane)
        if (job.jid == jid) return at(JobState::queued);
  for (const auto& [id, c] : claimed_)
    if (c.jid == jid) {
      JobStatus s = at(JobState::running);
      s.process = c.owner;  // the claim's owner runs it
      return s;
    }
  const std::pair<SetKind, JobState> sets[] = {{SetKind::scheduled, JobState::scheduled},
                                               {SetKind::retry, JobState::retrying},
                                               {SetKind::dead, JobState::dead}};
  for (const auto& [kind, state] : sets)
    for (const auto& [key, payload] : sets_[index(kind)])
      if (key.second == jid)
        return at(state,
                  kind == SetKind::scheduled ? std::string() : store_util::payload_error(payload));
  return std::nullopt;
}

// Removes `jid` from its queue, the scheduled or the retry set; whether it was there.
bool MemoryStore::remove_waiting_locked(const std::string& jid) {
  for (auto& [name, q] : queues_)
    for (auto& [prio, lane] : q.lanes)
      for (auto j = lane.begin(); j != lane.end(); ++j)
        if (j->jid == jid) {
          lane.erase(j);
          --q.size;
          return true;
        }
  for (SetKind kind : {SetKind::scheduled, SetKind::retry}) {
    auto& set = sets_[index(kind)];
    for (auto it = set.begin(); it != set.end(); ++it)
      if (it->first.second == jid) {
        set.erase(it);
        return true;
      }
  }
  return false;
}

}  // namespace errand::memory
