// The PostgreSQL store's job status: the job_status table (schema v2) for
// what the worker recorded, the jobs table for where a job sits, and
// LISTEN/NOTIFY on status_channel_ for wait_status().
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/memory/status_book.h"
#include "store/memory/store_util.h"
#include "store/postgres/store_impl.h"

namespace errand::pg {

namespace {

std::optional<JobStatus> recorded(Conn& conn, const std::string& jid, double now) {
  auto r = conn.run(kStatusGet, Params().add(jid).add(now));
  if (r.rows() == 0) return std::nullopt;
  JobStatus s;
  s.state = job_state_from_string(r.text(0, 0)).value_or(JobState::unknown);
  s.result = r.str(0, 1);
  s.error = r.str(0, 2);
  s.process = r.str(0, 3);
  s.cancel_requested = r.boolean(0, 4);
  s.updated_at = r.real(0, 5);
  if (!r.null(0, 6)) s.progress = r.real(0, 6);
  s.progress_message = r.str(0, 7);
  return s;
}

std::optional<JobStatus> located(Conn& conn, const std::string& jid) {
  auto r = conn.run(kStatusLocate, Params().add(jid));
  if (r.rows() == 0) return std::nullopt;
  const auto state = r.text(0, 0);
  JobStatus s;
  if (state == "queued") s.state = JobState::queued;
  if (state == "claimed") {
    s.state = JobState::running;
    s.process = r.str(0, 2);  // the claim's owner runs it
  }
  if (state == "scheduled") s.state = JobState::scheduled;
  if (state == "retry" || state == "dead") {
    s.state = state == "retry" ? JobState::retrying : JobState::dead;
    s.error = store_util::payload_error(r.text(0, 1));
  }
  return s;
}

/// kStatusRecord's arrays: one statement, one round trip, for one record or
/// a batch. A jid recorded twice keeps its last update (one statement cannot
/// update a row twice).
Params record_params(std::span<const StatusUpdate> updates, const std::string& channel) {
  std::unordered_map<std::string_view, std::size_t> last;
  for (std::size_t i = 0; i < updates.size(); ++i) last[updates[i].jid] = i;
  std::vector<std::string_view> jids, states, results, errors, processes, notify;
  std::vector<double> at, expires;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    const auto& u = updates[i];
    if (last[u.jid] != i) continue;
    jids.push_back(u.jid);
    states.push_back(to_string(u.state));
    results.push_back(u.result);
    errors.push_back(u.error);
    processes.push_back(u.process);
    at.push_back(u.now);
    expires.push_back(u.now + u.ttl_seconds);
    notify.push_back(is_final(u.state) ? "t" : "f");
  }
  Params p;
  p.add(text_array(jids)).add(text_array(states)).add(text_array(results));
  p.add(text_array(errors)).add(text_array(processes)).add(number_array(at));
  p.add(number_array(expires)).add(channel).add(text_array(notify));
  return p;
}

}  // namespace

Status PgStore::record_status(std::span<const StatusUpdate> updates) {
  if (updates.empty()) return {};
  return guarded("record_status", [&]() -> Status {
    Lease conn = lease();
    write_statuses(*conn, updates);  // one statement (and the purge: independent)
    return {};
  });
}

Status PgStore::ack_with_status(std::span<const Fetched> jobs,
                                std::span<const StatusUpdate> statuses) {
  return guarded("ack_with_status", [&]() -> Status {
    Lease conn = lease();
    Txn txn(*conn);  // one commit for the batch: its fsync is the cost on a durable server
    if (!jobs.empty()) conn->run(kAck, ack_params(jobs));
    if (!statuses.empty()) write_statuses(*conn, statuses);
    txn.commit();
    return {};
  });
}

void PgStore::write_statuses(Conn& conn, std::span<const StatusUpdate> updates) {
  const double now = updates.front().now;
  double last = status_purged_at_.load();
  const bool purge = now - last >= 60 && status_purged_at_.compare_exchange_strong(last, now);
  conn.run(kStatusRecord, record_params(updates, status_channel_));
  if (purge) conn.run(kStatusPurge, Params().add(now));
}

Result<JobStatus> PgStore::job_status(const std::string& jid, double now) {
  return guarded("job_status", [&]() -> Result<JobStatus> {
    Lease conn = lease();
    auto rec = recorded(*conn, jid, now);
    if (rec && is_final(rec->state)) return *rec;
    auto where = located(*conn, jid);
    if (!where) {
      // It may have ended between the two reads.
      if (auto again = recorded(*conn, jid, now)) return *again;
      return JobStatus{};
    }
    return store_util::merge_status(*where, rec);
  });
}

Result<JobStatus> PgStore::wait_status(const std::string& jid, double now,
                                       std::chrono::milliseconds timeout) {
  status_listener_.ensure_started();
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  for (;;) {
    const std::uint64_t seen = status_listener_.generation();
    auto st = job_status(jid, store_util::advanced(now, start));
    if (!st || is_final(st->state)) return st;
    const auto tick = std::chrono::steady_clock::now();
    if (tick >= deadline) return st;
    // Woken by a NOTIFY of any final status (then we look again), or by the
    // listener reconnecting; poll_interval is only the safety net.
    status_listener_.wait(seen, std::min(deadline, tick + options_.poll_interval * 20));
  }
}

Result<JobState> PgStore::cancel_job(const std::string& jid, double now, double ttl) {
  return guarded("cancel_job", [&]() -> Result<JobState> {
    Lease conn = lease();
    Txn txn(*conn);
    JobState out = JobState::unknown;
    if (conn->run(kStatusCancelWaiting, Params().add(jid)).affected() > 0) {
      const StatusUpdate cancelled{jid, JobState::cancelled, {}, {}, {}, now, ttl};
      conn->run(kStatusRecord, record_params(std::span(&cancelled, 1), status_channel_));
      out = JobState::cancelled;
    } else if (auto rec = recorded(*conn, jid, now); rec && is_final(rec->state)) {
      out = rec->state;
    } else {
      auto flagged = conn->run(kStatusFlagCancel, Params().add(jid).add(now).add(now + ttl));
      out = job_state_from_string(flagged.text(0, 0)).value_or(JobState::unknown);
      if (auto where = located(*conn, jid); where && where->state == JobState::running)
        out = JobState::running;
    }
    txn.commit();
    return out;
  });
}

Result<std::vector<std::string>> PgStore::cancel_requests(std::span<const std::string> jids) {
  return guarded("cancel_requests", [&]() -> Result<std::vector<std::string>> {
    Lease conn = lease();
    auto r =
        conn->run(kStatusRequests,
                  Params().add(text_array(std::vector<std::string>(jids.begin(), jids.end()))));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
  });
}

}  // namespace errand::pg
