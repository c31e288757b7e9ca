// The SQLite store's worker transitions: push, fetch, ack, requeue, retry,
// kill, promote_due, rescue_orphans, heartbeat, unregister. See schema.cc
// for the tables and sqlite_store_impl.h for the concurrency rules.
#include <algorithm>
#include <set>

#include "store/memory/store_util.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

// ---- enqueue ---------------------------------------------------------------

Status SqliteStore::push(const PushParams& p) {
  if (p.jobs.empty()) return {};
  for (const auto& item : p.jobs)
    if (item.at == 0 && item.queue.empty())
      return fail(Errc::invalid_argument, "push: job " + item.jid + " has an empty queue name");
  auto st = write("push", [&](Conn& conn) -> Status {
    push_on(conn, p.jobs, p.now);
    return {};
  });
  if (st.ok()) wake();
  return st;
}

void SqliteStore::push_on(Conn& conn, std::span<const PushItem> jobs, double now) {
  const std::string* last_queue = nullptr;
  for (const auto& item : jobs) {
    const bool ready = item.at == 0;
    conn.stmt(
            "INSERT INTO jobs (jid, queue, payload, state, score, priority, enqueued_at) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, item.jid)
        .bind(2, item.queue)
        .bind(3, item.payload)
        .bind(4, ready ? "queued" : "scheduled")
        .bind(5, item.at)
        .bind(6, item.priority)
        .bind(7, now)
        .run();
    // Batches usually target one queue: skip the repeat registrations.
    if (ready && (!last_queue || *last_queue != item.queue)) {
      know_queue(conn, item.queue);
      last_queue = &item.queue;
    }
  }
}

// ---- claims ----------------------------------------------------------------

Result<std::vector<Fetched>> SqliteStore::fetch(const FetchParams& p) {
  const std::string owner(p.owner);
  return read("fetch", [&](Conn& conn) -> Result<std::vector<Fetched>> {
    std::vector<Fetched> out;
    if (p.max == 0 || p.queues.empty()) return out;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + p.wait;
    for (;;) {
      const std::uint64_t seen = wake_generation();
      if (any_ready(conn, p.queues)) {
        claim(conn, p.queues, p.max, owner, store_util::advanced(p.now, start), out);
        if (!out.empty()) return out;
        // Another process took them between the probe and the claim: look again.
        continue;
      }
      const auto tick = std::chrono::steady_clock::now();
      if (tick >= deadline) return out;
      wait_for_wake(seen, std::min(deadline, tick + options_.poll_interval));
    }
  });
}

void SqliteStore::claim(Conn& conn, std::span<const std::string> queues, std::size_t max,
                        const std::string& owner, double now, std::vector<Fetched>& out) {
  Txn txn(*this, conn, "fetch");
  for (const auto& queue : queues) {
    if (out.size() >= max) break;
    struct Row {
      std::int64_t priority, id;
      std::string payload;
    };
    std::vector<Row> rows;
    auto s = conn.stmt(
        "UPDATE jobs SET state = 'claimed', owner = ?1, claimed_at = ?2 WHERE id IN ("
        "  SELECT id FROM jobs WHERE queue = ?3 AND state = 'queued'"
        "  ORDER BY priority DESC, id LIMIT ?4) "
        "RETURNING priority, id, payload");
    s.bind(1, owner).bind(2, now).bind(3, queue).bind(4, max - out.size());
    while (s.row()) rows.push_back(Row{s.integer(0), s.integer(1), s.str(2)});
    // RETURNING has no defined order: restore the queue's.
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.id < b.id;
    });
    for (auto& r : rows) out.push_back(Fetched{queue, std::move(r.payload), r.id, owner});
  }
  txn.commit();
}

Status SqliteStore::ack(std::span<const Fetched> jobs) {
  if (jobs.empty()) return {};
  return write("ack", [&](Conn& conn) -> Status {
    ack_on(conn, jobs);
    return {};
  });
}

void SqliteStore::ack_on(Conn& conn, std::span<const Fetched> jobs) {
  for (const auto& job : jobs)
    conn.stmt("DELETE FROM jobs WHERE id = ?1 AND state = 'claimed' AND (?2 = '' OR owner = ?2)")
        .bind(1, job.id)
        .bind(2, job.owner)
        .run();
}

Status SqliteStore::requeue(const RequeueParams& p) {
  if (p.jobs.empty()) return {};
  auto st = write("requeue", [&](Conn& conn) -> Status {
    // Reverse, so that jobs this store never handed out (id 0) and are
    // inserted in front keep the batch's order.
    for (auto it = p.jobs.rbegin(); it != p.jobs.rend(); ++it) {
      if (it->id != 0) {
        // Keeping the row id keeps its place: it runs before anything pushed
        // after it. If the claim is gone (rescued, acked) there is nothing to do.
        conn.stmt(
                "UPDATE jobs SET state = 'queued', owner = NULL, claimed_at = NULL "
                "WHERE id = ?1 AND state = 'claimed'")
            .bind(1, it->id)
            .run();
        continue;
      }
      const std::string jid = jid_of(it->payload);
      conn.stmt(
              "INSERT INTO jobs (id, jid, queue, payload, state, enqueued_at) "
              "VALUES ((SELECT coalesce(min(id), 1) - 1 FROM jobs), ?1, ?2, ?3, 'queued', ?4)")
          .bind(1, jid)
          .bind(2, it->queue)
          .bind(3, it->payload)
          .bind(4, p.now)
          .run();
      know_queue(conn, it->queue);
    }
    return {};
  });
  if (st.ok()) wake();
  return st;
}

Status SqliteStore::retry(const RetryParams& p) {
  return write("retry", [&](Conn& conn) -> Status {
    park(conn, p.job, p.jid, p.payload, "retry", p.at);
    return {};
  });
}

Status SqliteStore::kill(const KillParams& p) {
  return write("kill", [&](Conn& conn) -> Status {
    park(conn, p.job, p.jid, p.payload, "dead", p.now);
    trim_dead(conn, p.now, p.limits);
    return {};
  });
}

// ---- maintenance -----------------------------------------------------------

Result<std::size_t> SqliteStore::promote_due(const PromoteParams& p) {
  auto moved = read("promote_due", [&](Conn& conn) -> Result<std::size_t> {
    // Cheap read first: pollers in every process call this every few
    // seconds, and most calls find nothing due.
    if (p.limit == 0 || (!any_due(conn, "retry", p.now) && !any_due(conn, "scheduled", p.now)))
      return std::size_t{0};
    return in_txn(conn, "promote_due",
                  [&](Conn& c) -> Result<std::size_t> { return promote_rows(c, p.now, p.limit); });
  });
  if (moved.ok() && *moved > 0) wake();
  return moved;
}

std::size_t SqliteStore::promote_rows(Conn& conn, double now, std::size_t limit) {
  std::size_t count = 0;
  // Retries first, then scheduled jobs, as Sidekiq's poller does.
  for (const char* state : {"retry", "scheduled"}) {
    if (count >= limit) break;
    struct Row {
      std::int64_t id;
      std::string jid, payload;
      std::int64_t priority;
    };
    std::vector<Row> rows;
    {
      auto s = conn.stmt(
          "SELECT id, jid, payload, priority FROM jobs "
          "WHERE state = ?1 AND score <= ?2 ORDER BY score, id LIMIT ?3");
      s.bind(1, state).bind(2, now).bind(3, limit - count);
      while (s.row()) rows.push_back(Row{s.integer(0), s.str(1), s.str(2), s.integer(3)});
    }
    for (auto& row : rows) {
      auto promoted = store_util::promote_payload(row.payload, now);
      if (!promoted) {
        // Not a JSON object: park it in the dead set (as Sidekiq does with
        // unparseable jobs) instead of tripping over it on every poll.
        conn.stmt("UPDATE jobs SET state = 'dead', score = ?2 WHERE id = ?1")
            .bind(1, row.id)
            .bind(2, now)
            .run();
        continue;
      }
      // A new row id: the job joins the tail of its queue.
      conn.stmt("DELETE FROM jobs WHERE id = ?1").bind(1, row.id).run();
      conn.stmt(
              "INSERT INTO jobs (jid, queue, payload, state, priority, enqueued_at) "
              "VALUES (?1, ?2, ?3, 'queued', ?4, ?5)")
          .bind(1, row.jid)
          .bind(2, promoted->queue)
          .bind(3, promoted->payload)
          .bind(4, row.priority)
          .bind(5, now)
          .run();
      know_queue(conn, promoted->queue);
      ++count;
    }
  }
  return count;
}

Result<std::size_t> SqliteStore::rescue_orphans(const RescueParams& p) {
  auto moved = read("rescue_orphans", [&](Conn& conn) -> Result<std::size_t> {
    {
      auto probe = conn.stmt("SELECT 1 FROM jobs WHERE state = 'claimed' LIMIT 1");
      if (!probe.row()) return std::size_t{0};
    }
    return in_txn(conn, "rescue_orphans", [&](Conn& c) -> Result<std::size_t> {
      // Orphaned: the owner's heartbeat expired, or the owner never
      // registered (or was pruned) and the claim is older than the grace.
      // Rows keep their id, so rescued jobs run before later pushes.
      // Each rescued payload counts the crash (store_util::count_crash), so
      // that a job which keeps killing its worker becomes a poison pill.
      std::set<std::string> queues;
      std::vector<std::pair<std::int64_t, std::string>> counted;
      {
        auto s = c.stmt(
            "UPDATE jobs SET state = 'queued', owner = NULL, claimed_at = NULL "
            "WHERE state = 'claimed' AND ("
            "  owner IN (SELECT identity FROM processes WHERE beat + ttl < ?1) OR"
            "  ((owner IS NULL OR owner NOT IN (SELECT identity FROM processes))"
            "   AND claimed_at < ?2)) "
            "RETURNING queue, id, payload");
        s.bind(1, p.now).bind(2, p.now - p.grace_seconds);
        while (s.row()) {
          queues.insert(s.str(0));
          counted.emplace_back(s.integer(1), store_util::count_crash(s.text(2)));
        }
      }
      for (const auto& [id, payload] : counted)
        c.stmt("UPDATE jobs SET payload = ?1 WHERE id = ?2").bind(1, payload).bind(2, id).run();
      for (const auto& q : queues) know_queue(c, q);
      return counted.size();
    });
  });
  if (moved.ok() && *moved > 0) wake();
  return moved;
}

// ---- processes -------------------------------------------------------------

namespace {

std::string work_json(const std::vector<WorkRecord>& records) {
  Json work = Json::array();
  for (const auto& w : records)
    work.push_back(
        {{"thread", w.thread}, {"queue", w.queue}, {"payload", w.payload}, {"run_at", w.run_at}});
  return work.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Adds `by` to the lifetime counter `what` and to that day's.
void count(Conn& conn, const char* what, std::int64_t by, const std::string& day) {
  if (!by) return;
  const std::string lifetime = what;
  const std::string daily = lifetime + ":" + day;
  add_counter(conn, lifetime, by);
  add_counter(conn, daily, by);
}

// Takes the signals sent to `identity`, oldest first.
std::vector<std::string> pop_signals(Conn& conn, const std::string& identity) {
  std::vector<std::string> signals;
  {
    auto s = conn.stmt("SELECT signal FROM signals WHERE identity = ?1 ORDER BY id");
    s.bind(1, identity);
    while (s.row()) signals.push_back(s.str(0));
  }
  if (!signals.empty())
    conn.stmt("DELETE FROM signals WHERE identity = ?1").bind(1, identity).run();
  return signals;
}

}  // namespace

Result<std::vector<std::string>> SqliteStore::heartbeat(const ProcessBeat& beat) {
  using Signals = Result<std::vector<std::string>>;
  return guarded("heartbeat", [&]() -> Signals {
    const std::string info = beat.info.dump(-1, ' ', false, Json::error_handler_t::replace);
    const std::string work_text = work_json(beat.work);
    const std::string day = store_util::utc_day(beat.beat);
    return write("heartbeat", [&](Conn& conn) -> Signals {
      conn.stmt(
              "INSERT INTO processes (identity, info, busy, beat, quiet, rss, rtt_us, ttl, work) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
              "ON CONFLICT (identity) DO UPDATE SET info = excluded.info, busy = excluded.busy, "
              "beat = excluded.beat, quiet = excluded.quiet, rss = excluded.rss, "
              "rtt_us = excluded.rtt_us, ttl = excluded.ttl, work = excluded.work")
          .bind(1, beat.identity)
          .bind(2, info)
          .bind(3, beat.busy)
          .bind(4, beat.beat)
          .bind(5, beat.quiet ? 1 : 0)
          .bind(6, beat.rss_kb)
          .bind(7, beat.rtt_us)
          .bind(8, beat.ttl_seconds)
          .bind(9, work_text)
          .run();
      count(conn, "processed", beat.processed, day);
      count(conn, "failed", beat.failed, day);
      return pop_signals(conn, beat.identity);
    });
  });
}

Status SqliteStore::unregister(const std::string& identity) {
  return write("unregister", [&](Conn& conn) -> Status {
    conn.stmt("DELETE FROM processes WHERE identity = ?1").bind(1, identity).run();
    conn.stmt("DELETE FROM signals WHERE identity = ?1").bind(1, identity).run();
    return {};
  });
}

}  // namespace errand::sqlite
