// The SQLite store's job status: the job_status table (schema v2) for what
// the worker recorded, the jobs table for where a job sits.
#include <algorithm>

#include "store/memory/status_book.h"
#include "store/memory/store_util.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

namespace {

constexpr const char* kUpsert = R"(
  INSERT INTO job_status (jid, state, result, error, process, cancel, updated_at, expires)
  VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)
  ON CONFLICT (jid) DO UPDATE SET
    state = excluded.state, result = excluded.result, error = excluded.error,
    process = excluded.process, updated_at = excluded.updated_at, expires = excluded.expires,
    cancel = CASE WHEN excluded.state = 'running' AND expires >= excluded.updated_at
                  THEN cancel ELSE 0 END,
    progress = CASE WHEN expires >= excluded.updated_at THEN progress END,
    progress_message = CASE WHEN expires >= excluded.updated_at THEN progress_message END)";

void upsert(Conn& conn, const StatusUpdate& u) {
  const std::string state(to_string(u.state));
  conn.stmt(kUpsert)
      .bind(1, u.jid)
      .bind(2, state)
      .bind(3, u.result)
      .bind(4, u.error)
      .bind(5, u.process)
      .bind(6, u.now)
      .bind(7, u.now + u.ttl_seconds)
      .run();
}

std::optional<JobStatus> recorded(Conn& conn, const std::string& jid, double now) {
  auto q = conn.stmt(
      "SELECT state, result, error, process, cancel, updated_at, progress, progress_message "
      "FROM job_status WHERE jid = ?1 AND expires >= ?2");
  q.bind(1, jid).bind(2, now);
  if (!q.row()) return std::nullopt;
  JobStatus s;
  s.state = job_state_from_string(q.text(0)).value_or(JobState::unknown);
  s.result = q.str(1);
  s.error = q.str(2);
  s.process = q.str(3);
  s.cancel_requested = q.integer(4) != 0;
  s.updated_at = q.real(5);
  if (!q.is_null(6)) s.progress = q.real(6);
  s.progress_message = q.str(7);
  return s;
}

std::optional<JobStatus> located(Conn& conn, const std::string& jid) {
  auto q =
      conn.stmt("SELECT state, payload, owner FROM jobs WHERE jid = ?1 ORDER BY id DESC LIMIT 1");
  q.bind(1, jid);
  if (!q.row()) return std::nullopt;
  const auto state = q.text(0);
  JobStatus s;
  if (state == "queued") s.state = JobState::queued;
  if (state == "claimed") {
    s.state = JobState::running;
    s.process = q.str(2);  // the claim's owner runs it
  }
  if (state == "scheduled") s.state = JobState::scheduled;
  if (state == "retry" || state == "dead") {
    s.state = state == "retry" ? JobState::retrying : JobState::dead;
    s.error = store_util::payload_error(q.text(1));
  }
  return s;
}

}  // namespace

void SqliteStore::status_changed() {
  {
    std::lock_guard lk(status_mu_);
    ++status_gen_;
  }
  status_cv_.notify_all();
}

Status SqliteStore::record_status(std::span<const StatusUpdate> updates) {
  return ack_with_status({}, updates);
}

Status SqliteStore::ack_with_status(std::span<const Fetched> jobs,
                                    std::span<const StatusUpdate> updates) {
  if (jobs.empty() && updates.empty()) return {};
  const double now = updates.empty() ? 0 : updates.front().now;
  bool purge = false;
  if (!updates.empty()) {
    std::lock_guard lk(status_mu_);
    if (now - status_purged_at_ >= 60) {
      purge = true;
      status_purged_at_ = now;
    }
  }
  // One write transaction: on a durable file, one commit for the batch.
  Status st = write(jobs.empty() ? "record_status" : "ack_with_status", [&](Conn& conn) -> Status {
    ack_on(conn, jobs);
    for (const auto& u : updates) upsert(conn, u);
    if (purge) conn.stmt("DELETE FROM job_status WHERE expires < ?1").bind(1, now).run();
    return {};
  });
  if (st.ok() && std::any_of(updates.begin(), updates.end(),
                             [](const StatusUpdate& u) { return is_final(u.state); }))
    status_changed();
  return st;
}

Result<JobStatus> SqliteStore::job_status(const std::string& jid, double now) {
  return read("job_status", [&](Conn& conn) -> Result<JobStatus> {
    ReadTxn snapshot(conn);
    auto rec = recorded(conn, jid, now);
    if (rec && is_final(rec->state)) return *rec;
    auto where = located(conn, jid);
    snapshot.end();
    if (!where) return rec.value_or(JobStatus{});
    return store_util::merge_status(*where, rec);
  });
}

Result<JobStatus> SqliteStore::wait_status(const std::string& jid, double now,
                                           std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lk(status_mu_);
      seen = status_gen_;
    }
    auto st = job_status(jid, store_util::advanced(now, start));
    if (!st || is_final(st->state)) return st;
    const auto tick = std::chrono::steady_clock::now();
    if (tick >= deadline) return st;
    // Records made through this object wake us at once; other processes'
    // are seen at the next poll_interval.
    std::unique_lock lk(status_mu_);
    status_cv_.wait_until(lk, std::min(deadline, tick + options_.poll_interval),
                          [&] { return status_gen_ != seen; });
  }
}

Result<JobState> SqliteStore::cancel_job(const std::string& jid, double now, double ttl) {
  auto out = write("cancel_job", [&](Conn& conn) -> Result<JobState> {
    const int removed = conn.stmt(
                                "DELETE FROM jobs WHERE jid = ?1 AND state IN ('queued', "
                                "'scheduled', 'retry')")
                            .bind(1, jid)
                            .run();
    if (removed > 0) {
      upsert(conn, StatusUpdate{jid, JobState::cancelled, {}, {}, {}, now, ttl});
      return JobState::cancelled;
    }
    auto rec = recorded(conn, jid, now);
    if (rec && is_final(rec->state)) return rec->state;
    if (!rec) upsert(conn, StatusUpdate{jid, JobState::unknown, {}, {}, {}, now, ttl});
    conn.stmt("UPDATE job_status SET cancel = 1 WHERE jid = ?1").bind(1, jid).run();
    auto where = located(conn, jid);
    if (where && where->state == JobState::running) return JobState::running;
    return rec ? rec->state : JobState::unknown;
  });
  if (out.ok() && *out == JobState::cancelled) status_changed();
  return out;
}

Result<std::vector<std::string>> SqliteStore::cancel_requests(std::span<const std::string> jids) {
  return read("cancel_requests", [&](Conn& conn) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const auto& jid : jids) {
      auto q = conn.stmt("SELECT 1 FROM job_status WHERE jid = ?1 AND cancel = 1");
      q.bind(1, jid);
      if (q.row()) out.push_back(jid);
    }
    return out;
  });
}

}  // namespace errand::sqlite
