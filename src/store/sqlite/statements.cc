// Statements several of the SQLite store's operations share.
#include <algorithm>
#include <limits>

#include "store/memory/store_util.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

const char* state_name(SetKind kind) {
  switch (kind) {
    case SetKind::scheduled:
      return "scheduled";
    case SetKind::retry:
      return "retry";
    case SetKind::dead:
      return "dead";
  }
  return "?";
}

bool any_ready(Conn& conn, std::span<const std::string> queues) {
  for (const auto& q : queues) {
    auto s = conn.stmt("SELECT 1 FROM jobs WHERE queue = ?1 AND state = 'queued' LIMIT 1");
    s.bind(1, q);
    if (s.row()) return true;
  }
  return false;
}

bool any_due(Conn& conn, const char* state, double now) {
  auto s = conn.stmt("SELECT 1 FROM jobs WHERE state = ?1 AND score <= ?2 LIMIT 1");
  s.bind(1, state).bind(2, now);
  return s.row();
}

void park(Conn& conn, const Fetched& job, const std::string& jid, const std::string& payload,
          const char* state, double score) {
  int n = 0;
  if (job.id != 0)
    n = conn.stmt(
                "UPDATE jobs SET state = ?2, jid = ?3, payload = ?4, score = ?5, owner = NULL, "
                "claimed_at = NULL WHERE id = ?1 AND state IN ('claimed', 'queued')")
            .bind(1, job.id)
            .bind(2, state)
            .bind(3, jid)
            .bind(4, payload)
            .bind(5, score)
            .run();
  if (n == 0)
    conn.stmt("INSERT INTO jobs (jid, queue, payload, state, score) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, jid)
        .bind(2, job.queue)
        .bind(3, payload)
        .bind(4, state)
        .bind(5, score)
        .run();
}

void trim_dead(Conn& conn, double now, const DeadLimits& limits) {
  const double cutoff = now - limits.max_age_seconds;
  conn.stmt("DELETE FROM jobs WHERE state = 'dead' AND score < ?1").bind(1, cutoff).run();
  std::int64_t size = 0;
  {
    auto s = conn.stmt("SELECT count(*) FROM jobs WHERE state = 'dead'");
    if (s.row()) size = s.integer(0);
  }
  const auto max = static_cast<std::int64_t>(
      std::min<std::size_t>(limits.max_jobs, std::numeric_limits<std::int64_t>::max()));
  if (size < max) return;
  const std::int64_t keep = max > 0 ? max - 1 : 0;
  conn.stmt(
          "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'dead' "
          "ORDER BY score, id LIMIT ?1)")
      .bind(1, size - keep)
      .run();
}

std::optional<std::int64_t> find_entry(Conn& conn, SetKind kind, double score,
                                       const std::string& jid) {
  auto q = conn.stmt(
      "SELECT id FROM jobs WHERE jid = ?1 AND state = ?2 AND score BETWEEN ?3 AND ?4 "
      "ORDER BY id LIMIT 1");
  q.bind(1, jid)
      .bind(2, state_name(kind))
      .bind(3, score - kScoreSlack)
      .bind(4, score + kScoreSlack);
  if (!q.row()) return std::nullopt;
  return q.integer(0);
}

void know_queue(Conn& conn, const std::string& queue) {
  conn.stmt("INSERT OR IGNORE INTO queues (name) VALUES (?1)").bind(1, queue).run();
}

void add_counter(Conn& conn, const std::string& key, std::int64_t by) {
  conn.stmt(
          "INSERT INTO stats (key, value) VALUES (?1, ?2) "
          "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value")
      .bind(1, key)
      .bind(2, by)
      .run();
}

std::int64_t counter(Conn& conn, const std::string& key) {
  auto q = conn.stmt("SELECT value FROM stats WHERE key = ?1");
  q.bind(1, key);
  return q.row() ? q.integer(0) : 0;
}

std::int64_t clamp(std::size_t n) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}

std::string jid_of(const std::string& payload) {
  auto doc = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_object())
    if (auto it = doc.find("jid"); it != doc.end() && it->is_string())
      return it->get<std::string>();
  return {};
}

Error not_in_set(SetKind kind, double score, const std::string& jid) {
  return fail(Errc::not_found, "no entry " + store_util::format_score(score) + "-" + jid +
                                   " in the " + std::string(to_string(kind)) + " set");
}

}  // namespace errand::sqlite
