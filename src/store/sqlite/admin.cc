// The SQLite store's admin reads and writes, as the CLI and the dashboard
// use them: stats and history, queues, the three sets, processes, signals.
#include <algorithm>

#include "store/memory/store_util.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

// ---- stats -----------------------------------------------------------------

Result<Stats> SqliteStore::stats(double now) {
  return read("stats", [&](Conn& conn) -> Result<Stats> {
    ReadTxn snapshot(conn);  // one consistent view across the queries
    Stats s;
    s.processed = counter(conn, "processed");
    s.failed = counter(conn, "failed");
    {
      auto q = conn.stmt("SELECT state, count(*) FROM jobs GROUP BY state");
      while (q.row()) {
        const auto state = q.text(0);
        const auto n = static_cast<std::size_t>(q.integer(1));
        if (state == "queued") s.enqueued = n;
        if (state == "scheduled") s.scheduled = n;
        if (state == "retry") s.retries = n;
        if (state == "dead") s.dead = n;
      }
    }
    {
      auto q = conn.stmt(
          "SELECT count(*), coalesce(sum(busy), 0) FROM processes WHERE beat + ttl >= ?1");
      q.bind(1, now);
      if (q.row()) {
        s.processes = static_cast<std::size_t>(q.integer(0));
        s.busy = static_cast<std::size_t>(q.integer(1));
      }
    }
    snapshot.end();
    return s;
  });
}

Result<std::vector<std::int64_t>> SqliteStore::history(std::string_view what, int days,
                                                       double now) {
  if (what != "processed" && what != "failed")
    return fail(Errc::invalid_argument,
                "history: expected \"processed\" or \"failed\", got \"" + std::string(what) + "\"");
  return read("history", [&](Conn& conn) -> Result<std::vector<std::int64_t>> {
    std::vector<std::int64_t> out;
    for (int d = 0; d < days; ++d) {
      const std::string key = std::string(what) + ":" + store_util::utc_day(now - d * 86400.0);
      out.push_back(counter(conn, key));
    }
    return out;
  });
}

Status SqliteStore::reset_stats() {
  return write("reset_stats", [&](Conn& conn) -> Status {
    // As Sidekiq's Stats#reset: the lifetime counters only; the history stays.
    conn.exec("INSERT OR REPLACE INTO stats (key, value) VALUES ('processed', 0), ('failed', 0)");
    return {};
  });
}

// ---- queues ----------------------------------------------------------------

Result<std::vector<QueueInfo>> SqliteStore::queues(double now) {
  return read("queues", [&](Conn& conn) -> Result<std::vector<QueueInfo>> {
    ReadTxn snapshot(conn);
    std::vector<QueueInfo> out;
    {
      auto q = conn.stmt("SELECT name, paused FROM queues ORDER BY name");
      while (q.row()) out.push_back(QueueInfo{q.str(0), 0, 0, q.integer(1) != 0});
    }
    for (auto& info : out) {
      {
        auto q = conn.stmt("SELECT count(*) FROM jobs WHERE queue = ?1 AND state = 'queued'");
        q.bind(1, info.name);
        if (q.row()) info.size = static_cast<std::size_t>(q.integer(0));
      }
      if (info.size == 0) continue;
      auto q = conn.stmt(
          "SELECT payload, enqueued_at FROM jobs WHERE queue = ?1 AND state = 'queued' "
          "ORDER BY priority DESC, id LIMIT 1");
      q.bind(1, info.name);
      if (q.row()) {
        // Sidekiq's latency reads the next job's enqueued_at; the column is
        // the fallback for payloads without one.
        const double enqueued = store_util::enqueued_at(q.text(0)).value_or(q.real(1));
        info.latency = std::max(0.0, now - enqueued);
      }
    }
    snapshot.end();
    return out;
  });
}

Result<std::vector<std::string>> SqliteStore::queue_jobs(const std::string& queue,
                                                         std::size_t offset, std::size_t count) {
  return read("queue_jobs", [&](Conn& conn) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    auto q = conn.stmt(
        "SELECT payload FROM jobs WHERE queue = ?1 AND state = 'queued' "
        "ORDER BY priority DESC, id LIMIT ?2 OFFSET ?3");
    q.bind(1, queue).bind(2, clamp(count)).bind(3, clamp(offset));
    while (q.row()) out.push_back(q.str(0));
    return out;
  });
}

Status SqliteStore::queue_delete(const std::string& queue, const std::string& jid) {
  return write("queue_delete", [&](Conn& conn) -> Status {
    const int n = conn.stmt(
                          "DELETE FROM jobs WHERE id = (SELECT id FROM jobs WHERE jid = ?2 AND "
                          "queue = ?1 AND state = 'queued' ORDER BY id LIMIT 1)")
                      .bind(1, queue)
                      .bind(2, jid)
                      .run();
    if (n == 0) return fail(Errc::not_found, "no job " + jid + " waiting in queue '" + queue + "'");
    return {};
  });
}

Status SqliteStore::clear_queue(const std::string& queue) {
  return write("clear_queue", [&](Conn& conn) -> Status {
    conn.stmt("DELETE FROM jobs WHERE queue = ?1 AND state = 'queued'").bind(1, queue).run();
    conn.stmt("DELETE FROM queues WHERE name = ?1").bind(1, queue).run();
    return {};
  });
}

// ---- sets ------------------------------------------------------------------

Result<std::size_t> SqliteStore::set_size(SetKind kind) {
  return read("set_size", [&](Conn& conn) -> Result<std::size_t> {
    auto q = conn.stmt("SELECT count(*) FROM jobs WHERE state = ?1");
    q.bind(1, state_name(kind));
    return q.row() ? static_cast<std::size_t>(q.integer(0)) : std::size_t{0};
  });
}

Result<std::vector<SetEntry>> SqliteStore::set_range(SetKind kind, std::size_t offset,
                                                     std::size_t count) {
  return read("set_range", [&](Conn& conn) -> Result<std::vector<SetEntry>> {
    std::vector<SetEntry> out;
    // The dead set reads newest first, as Sidekiq's morgue.
    auto q =
        conn.stmt(kind == SetKind::dead ? "SELECT score, jid, payload FROM jobs WHERE state = ?1 "
                                          "ORDER BY score DESC, id DESC LIMIT ?2 OFFSET ?3"
                                        : "SELECT score, jid, payload FROM jobs WHERE state = ?1 "
                                          "ORDER BY score, id LIMIT ?2 OFFSET ?3");
    q.bind(1, state_name(kind)).bind(2, clamp(count)).bind(3, clamp(offset));
    while (q.row()) out.push_back(SetEntry{q.real(0), q.str(1), q.str(2)});
    return out;
  });
}

Result<SetEntry> SqliteStore::set_find(SetKind kind, double score, const std::string& jid) {
  return read("set_find", [&](Conn& conn) -> Result<SetEntry> {
    auto q = conn.stmt(
        "SELECT score, jid, payload FROM jobs WHERE jid = ?1 AND state = ?2 "
        "AND score BETWEEN ?3 AND ?4 ORDER BY id LIMIT 1");
    q.bind(1, jid)
        .bind(2, state_name(kind))
        .bind(3, score - kScoreSlack)
        .bind(4, score + kScoreSlack);
    if (!q.row()) return not_in_set(kind, score, jid);
    return SetEntry{q.real(0), q.str(1), q.str(2)};
  });
}

Status SqliteStore::set_delete(SetKind kind, double score, const std::string& jid) {
  return write("set_delete", [&](Conn& conn) -> Status {
    auto id = find_entry(conn, kind, score, jid);
    if (!id) return not_in_set(kind, score, jid);
    conn.stmt("DELETE FROM jobs WHERE id = ?1").bind(1, *id).run();
    return {};
  });
}

Status SqliteStore::set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                             const std::string& queue, const std::string& new_payload, double now,
                             const DeadLimits& limits) {
  if (to == MoveTo::queue && queue.empty())
    return fail(Errc::invalid_argument, "set_move: empty queue name");
  auto st = write("set_move", [&](Conn& conn) -> Status {
    auto id = find_entry(conn, kind, score, jid);
    if (!id) return not_in_set(kind, score, jid);
    if (to == MoveTo::dead) {
      conn.stmt("UPDATE jobs SET state = 'dead', payload = ?2, score = ?3 WHERE id = ?1")
          .bind(1, *id)
          .bind(2, new_payload)
          .bind(3, now)
          .run();
      trim_dead(conn, now, limits);
      return {};
    }
    // A new row id: the job joins the tail of the queue, as a push would.
    conn.stmt("DELETE FROM jobs WHERE id = ?1").bind(1, *id).run();
    conn.stmt(
            "INSERT INTO jobs (jid, queue, payload, state, enqueued_at) "
            "VALUES (?1, ?2, ?3, 'queued', ?4)")
        .bind(1, jid)
        .bind(2, queue)
        .bind(3, new_payload)
        .bind(4, now)
        .run();
    know_queue(conn, queue);
    return {};
  });
  if (st.ok() && to == MoveTo::queue) wake();
  return st;
}

Status SqliteStore::set_clear(SetKind kind) {
  return write("set_clear", [&](Conn& conn) -> Status {
    conn.stmt("DELETE FROM jobs WHERE state = ?1").bind(1, state_name(kind)).run();
    return {};
  });
}

// ---- processes -------------------------------------------------------------

Result<std::vector<ProcessRecord>> SqliteStore::processes(double now) {
  return read("processes", [&](Conn& conn) -> Result<std::vector<ProcessRecord>> {
    prune(conn, now);
    std::vector<ProcessRecord> out;
    auto q =
        conn.stmt("SELECT identity, info, busy, beat, quiet, rss FROM processes ORDER BY identity");
    while (q.row()) {
      ProcessRecord p;
      p.identity = q.str(0);
      p.info = Json::parse(q.text(1), nullptr, /*allow_exceptions=*/false);
      if (p.info.is_discarded()) p.info = nullptr;
      p.busy = static_cast<std::size_t>(q.integer(2));
      p.beat = q.real(3);
      p.quiet = q.integer(4) != 0;
      p.rss_kb = q.integer(5);
      out.push_back(std::move(p));
    }
    return out;
  });
}

Result<std::vector<WorkRecord>> SqliteStore::workers(double now) {
  return read("workers", [&](Conn& conn) -> Result<std::vector<WorkRecord>> {
    prune(conn, now);
    std::vector<WorkRecord> out;
    auto q = conn.stmt("SELECT identity, work FROM processes ORDER BY identity");
    while (q.row()) {
      auto work = Json::parse(q.text(1), nullptr, /*allow_exceptions=*/false);
      if (!work.is_array()) continue;
      for (const auto& w : work) {
        if (!w.is_object()) continue;
        WorkRecord r;
        r.process = q.str(0);
        r.thread = w.value("thread", "");
        r.queue = w.value("queue", "");
        r.payload = w.value("payload", "");
        r.run_at = w.value("run_at", 0.0);
        out.push_back(std::move(r));
      }
    }
    return out;
  });
}

void SqliteStore::prune(Conn& conn, double now) {
  {
    auto probe = conn.stmt("SELECT 1 FROM processes WHERE beat + ttl < ?1 LIMIT 1");
    probe.bind(1, now);
    if (!probe.row()) return;
  }
  Txn txn(*this, conn, "pruning processes");
  conn.stmt("DELETE FROM processes WHERE beat + ttl < ?1").bind(1, now).run();
  txn.commit();
}

Status SqliteStore::signal(const std::string& identity, const std::string& sig) {
  return write("signal", [&](Conn& conn) -> Status {
    conn.stmt("INSERT INTO signals (identity, signal) VALUES (?1, ?2)")
        .bind(1, identity)
        .bind(2, sig)
        .run();
    return {};
  });
}

}  // namespace errand::sqlite
