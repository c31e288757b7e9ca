// The SQLite store: one file in WAL mode, shared by any number of threads and
// processes. See schema.cc for the tables.
//
// Concurrency:
//  - Connections come from a small pool (one per concurrently-calling thread);
//    a connection is never shared by two threads at once, and no store lock is
//    held while a call waits (fetch's poll sleeps hold nothing).
//  - Every write is one BEGIN IMMEDIATE transaction. Within this process the
//    writers first queue on write_mu_ (a timed mutex bounded by busy_timeout),
//    so threads of one process never fight through SQLite's sleeping busy
//    handler; across processes SQLite's own lock and busy_timeout decide.
//  - Reads (admin queries, fetch's "anything there?" probe) run without the
//    write lock, on WAL's snapshot isolation.
//  - fetch() waits by polling every poll_interval; a push, requeue or promote
//    made through this store object wakes this object's fetchers at once.
#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "store/memory/store_util.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/sqlite_db.h"

namespace errand {
namespace {

using sqlite::Conn;
using sqlite::Stmt;
using store_util::wall_now;

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

// Scores come back from the UI as text ("<score>-<jid>"); match within a
// millisecond rather than bit-for-bit.
constexpr double kScoreSlack = 1e-3;

// Runs `body`, turning the internal Error exceptions into the returned value.
template <class F>
auto guarded(std::string_view op, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return fail(Errc::internal, "sqlite store: " + std::string(op) + ": " + e.what());
  }
}

class SqliteStore;

// A pooled connection, returned to the pool when the lease ends.
class Lease {
 public:
  Lease(SqliteStore* store, std::unique_ptr<Conn> conn) : store_(store), conn_(std::move(conn)) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();
  Conn* operator->() { return conn_.get(); }
  Conn& operator*() { return *conn_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<Conn> conn_;
};

class SqliteStore final : public Store, public std::enable_shared_from_this<SqliteStore> {
 public:
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

  // Opens the first connection and brings the schema up to date.
  // Two processes opening a new file at once race on the switch to WAL and
  // on the schema; SQLite does not call its busy handler for those steps, so
  // retry them here, within the busy timeout.
  void init() {
    const auto deadline = std::chrono::steady_clock::now() + options_.busy_timeout;
    for (int attempt = 1;; ++attempt) {
      try {
        auto conn = open_conn();
        sqlite::migrate(*conn);
        give_back(std::move(conn));
        return;
      } catch (const Error& e) {
        if (e.code() != Errc::busy || std::chrono::steady_clock::now() >= deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 * attempt, 100)));
      }
    }
  }

  std::string_view scheme() const override { return "sqlite"; }

  // ---- enqueue -----------------------------------------------------------

  Status push(std::span<const PushItem> jobs) override {
    if (jobs.empty()) return {};
    for (const auto& item : jobs)
      if (item.at == 0 && item.queue.empty())
        return fail(Errc::invalid_argument, "push: job " + item.jid + " has an empty queue name");
    auto st = guarded("push", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "push");
      const double now = wall_now();
      const std::string* last_queue = nullptr;
      for (const auto& item : jobs) {
        const bool ready = item.at == 0;
        conn->stmt(
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
          know_queue(*conn, item.queue);
          last_queue = &item.queue;
        }
      }
      txn.commit();
      return {};
    });
    if (st.ok()) wake();
    return st;
  }

  // ---- worker side -------------------------------------------------------

  Result<std::vector<Fetched>> fetch(std::span<const std::string> queues, std::size_t max,
                                     std::chrono::milliseconds wait,
                                     const std::string& owner) override {
    return guarded("fetch", [&]() -> Result<std::vector<Fetched>> {
      std::vector<Fetched> out;
      if (max == 0 || queues.empty()) return out;
      const auto deadline = std::chrono::steady_clock::now() + wait;
      Lease conn = lease();
      for (;;) {
        const std::uint64_t seen = wake_generation();
        if (any_ready(*conn, queues)) {
          claim(*conn, queues, max, owner, out);
          if (!out.empty()) return out;
          // Another process took them between the probe and the claim: look again.
          continue;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return out;
        wait_for_wake(seen, std::min(deadline, now + options_.poll_interval));
      }
    });
  }

  Status ack(std::span<const Fetched> jobs) override {
    if (jobs.empty()) return {};
    return guarded("ack", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "ack");
      for (const auto& job : jobs)
        conn->stmt(
                "DELETE FROM jobs WHERE id = ?1 AND state = 'claimed' AND (?2 = '' OR owner = ?2)")
            .bind(1, job.id)
            .bind(2, job.owner)
            .run();
      txn.commit();
      return {};
    });
  }

  Status requeue(std::span<const Fetched> jobs) override {
    if (jobs.empty()) return {};
    auto st = guarded("requeue", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "requeue");
      // Reverse, so that jobs this store never handed out (id 0) and are
      // inserted in front keep the batch's order.
      for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
        if (it->id != 0) {
          // Keeping the row id keeps its place: it runs before anything pushed
          // after it. If the claim is gone (rescued, acked) there is nothing to do.
          conn->stmt(
                  "UPDATE jobs SET state = 'queued', owner = NULL, claimed_at = NULL "
                  "WHERE id = ?1 AND state = 'claimed'")
              .bind(1, it->id)
              .run();
          continue;
        }
        const std::string jid = jid_of(it->payload);
        const double now = wall_now();
        conn->stmt(
                "INSERT INTO jobs (id, jid, queue, payload, state, enqueued_at) "
                "VALUES ((SELECT coalesce(min(id), 1) - 1 FROM jobs), ?1, ?2, ?3, 'queued', ?4)")
            .bind(1, jid)
            .bind(2, it->queue)
            .bind(3, it->payload)
            .bind(4, now)
            .run();
        know_queue(*conn, it->queue);
      }
      txn.commit();
      return {};
    });
    if (st.ok()) wake();
    return st;
  }

  Status retry(const Fetched& job, const std::string& jid, const std::string& payload,
               double at) override {
    return guarded("retry", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "retry");
      park(*conn, job, jid, payload, "retry", at);
      txn.commit();
      return {};
    });
  }

  Status kill(const Fetched& job, const std::string& jid, const std::string& payload, double now,
              const DeadLimits& limits) override {
    return guarded("kill", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "kill");
      park(*conn, job, jid, payload, "dead", now);
      trim_dead(*conn, now, limits);
      txn.commit();
      return {};
    });
  }

  Result<std::size_t> promote_due(double now, std::size_t limit) override {
    auto moved = guarded("promote_due", [&]() -> Result<std::size_t> {
      Lease conn = lease();
      // Cheap read first: pollers in every process call this every few
      // seconds, and most calls find nothing due.
      if (limit == 0 || (!any_due(*conn, "retry", now) && !any_due(*conn, "scheduled", now)))
        return std::size_t{0};
      Txn txn(*this, *conn, "promote_due");
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
          auto s = conn->stmt(
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
            conn->stmt("UPDATE jobs SET state = 'dead', score = ?2 WHERE id = ?1")
                .bind(1, row.id)
                .bind(2, now)
                .run();
            continue;
          }
          // A new row id: the job joins the tail of its queue.
          conn->stmt("DELETE FROM jobs WHERE id = ?1").bind(1, row.id).run();
          conn->stmt(
                  "INSERT INTO jobs (jid, queue, payload, state, priority, enqueued_at) "
                  "VALUES (?1, ?2, ?3, 'queued', ?4, ?5)")
              .bind(1, row.jid)
              .bind(2, promoted->queue)
              .bind(3, promoted->payload)
              .bind(4, row.priority)
              .bind(5, now)
              .run();
          know_queue(*conn, promoted->queue);
          ++count;
        }
      }
      txn.commit();
      return count;
    });
    if (moved.ok() && *moved > 0) wake();
    return moved;
  }

  Result<std::size_t> rescue_orphans(double now, double grace_seconds) override {
    auto moved = guarded("rescue_orphans", [&]() -> Result<std::size_t> {
      Lease conn = lease();
      {
        auto probe = conn->stmt("SELECT 1 FROM jobs WHERE state = 'claimed' LIMIT 1");
        if (!probe.row()) return std::size_t{0};
      }
      Txn txn(*this, *conn, "rescue_orphans");
      // Orphaned: the owner's heartbeat expired, or the owner never
      // registered (or was pruned) and the claim is older than the grace.
      // Rows keep their id, so rescued jobs run before later pushes.
      std::set<std::string> queues;
      std::size_t count = 0;
      {
        auto s = conn->stmt(
            "UPDATE jobs SET state = 'queued', owner = NULL, claimed_at = NULL "
            "WHERE state = 'claimed' AND ("
            "  owner IN (SELECT identity FROM processes WHERE beat + ttl < ?1) OR"
            "  ((owner IS NULL OR owner NOT IN (SELECT identity FROM processes))"
            "   AND claimed_at < ?2)) "
            "RETURNING queue");
        s.bind(1, now).bind(2, now - grace_seconds);
        while (s.row()) {
          queues.insert(s.str(0));
          ++count;
        }
      }
      for (const auto& q : queues) know_queue(*conn, q);
      txn.commit();
      return count;
    });
    if (moved.ok() && *moved > 0) wake();
    return moved;
  }

  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override {
    return guarded("heartbeat", [&]() -> Result<std::vector<std::string>> {
      const std::string info = beat.info.dump(-1, ' ', false, Json::error_handler_t::replace);
      Json work = Json::array();
      for (const auto& w : beat.work)
        work.push_back({{"thread", w.thread},
                        {"queue", w.queue},
                        {"payload", w.payload},
                        {"run_at", w.run_at}});
      const std::string work_text = work.dump(-1, ' ', false, Json::error_handler_t::replace);
      const std::string day = store_util::utc_day(beat.beat);
      Lease conn = lease();
      Txn txn(*this, *conn, "heartbeat");
      conn->stmt(
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
      if (beat.processed) {
        const std::string daily = "processed:" + day;
        add_counter(*conn, "processed", beat.processed);
        add_counter(*conn, daily, beat.processed);
      }
      if (beat.failed) {
        const std::string daily = "failed:" + day;
        add_counter(*conn, "failed", beat.failed);
        add_counter(*conn, daily, beat.failed);
      }
      std::vector<std::string> signals;
      {
        auto s = conn->stmt("SELECT signal FROM signals WHERE identity = ?1 ORDER BY id");
        s.bind(1, beat.identity);
        while (s.row()) signals.push_back(s.str(0));
      }
      if (!signals.empty())
        conn->stmt("DELETE FROM signals WHERE identity = ?1").bind(1, beat.identity).run();
      txn.commit();
      return signals;
    });
  }

  Status unregister(const std::string& identity) override {
    return guarded("unregister", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "unregister");
      conn->stmt("DELETE FROM processes WHERE identity = ?1").bind(1, identity).run();
      conn->stmt("DELETE FROM signals WHERE identity = ?1").bind(1, identity).run();
      txn.commit();
      return {};
    });
  }

  // ---- admin -------------------------------------------------------------

  Result<Stats> stats() override {
    return guarded("stats", [&]() -> Result<Stats> {
      Lease conn = lease();
      ReadTxn snapshot(*conn);  // one consistent view across the queries
      Stats s;
      s.processed = counter(*conn, "processed");
      s.failed = counter(*conn, "failed");
      {
        auto q = conn->stmt("SELECT state, count(*) FROM jobs GROUP BY state");
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
        auto q = conn->stmt(
            "SELECT count(*), coalesce(sum(busy), 0) FROM processes WHERE beat + ttl >= ?1");
        q.bind(1, wall_now());
        if (q.row()) {
          s.processes = static_cast<std::size_t>(q.integer(0));
          s.busy = static_cast<std::size_t>(q.integer(1));
        }
      }
      snapshot.end();
      return s;
    });
  }

  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override {
    if (what != "processed" && what != "failed")
      return fail(Errc::invalid_argument, "history: expected \"processed\" or \"failed\", got \"" +
                                              std::string(what) + "\"");
    return guarded("history", [&]() -> Result<std::vector<std::int64_t>> {
      std::vector<std::int64_t> out;
      Lease conn = lease();
      for (int d = 0; d < days; ++d) {
        const std::string key = std::string(what) + ":" + store_util::utc_day(now - d * 86400.0);
        out.push_back(counter(*conn, key));
      }
      return out;
    });
  }

  Status reset_stats() override {
    return guarded("reset_stats", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "reset_stats");
      // As Sidekiq's Stats#reset: the lifetime counters only; the history stays.
      conn->exec(
          "INSERT OR REPLACE INTO stats (key, value) VALUES ('processed', 0), ('failed', 0)");
      txn.commit();
      return {};
    });
  }

  Result<std::vector<QueueInfo>> queues() override {
    return guarded("queues", [&]() -> Result<std::vector<QueueInfo>> {
      Lease conn = lease();
      ReadTxn snapshot(*conn);
      std::vector<QueueInfo> out;
      {
        auto q = conn->stmt("SELECT name, paused FROM queues ORDER BY name");
        while (q.row()) out.push_back(QueueInfo{q.str(0), 0, 0, q.integer(1) != 0});
      }
      const double now = wall_now();
      for (auto& info : out) {
        {
          auto q = conn->stmt("SELECT count(*) FROM jobs WHERE queue = ?1 AND state = 'queued'");
          q.bind(1, info.name);
          if (q.row()) info.size = static_cast<std::size_t>(q.integer(0));
        }
        if (info.size == 0) continue;
        auto q = conn->stmt(
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

  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) override {
    return guarded("queue_jobs", [&]() -> Result<std::vector<std::string>> {
      Lease conn = lease();
      std::vector<std::string> out;
      auto q = conn->stmt(
          "SELECT payload FROM jobs WHERE queue = ?1 AND state = 'queued' "
          "ORDER BY priority DESC, id LIMIT ?2 OFFSET ?3");
      q.bind(1, queue).bind(2, clamp(count)).bind(3, clamp(offset));
      while (q.row()) out.push_back(q.str(0));
      return out;
    });
  }

  Status queue_delete(const std::string& queue, const std::string& jid) override {
    return guarded("queue_delete", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "queue_delete");
      const int n = conn->stmt(
                            "DELETE FROM jobs WHERE id = (SELECT id FROM jobs WHERE jid = ?2 AND "
                            "queue = ?1 AND state = 'queued' ORDER BY id LIMIT 1)")
                        .bind(1, queue)
                        .bind(2, jid)
                        .run();
      if (n == 0)
        return fail(Errc::not_found, "no job " + jid + " waiting in queue '" + queue + "'");
      txn.commit();
      return {};
    });
  }

  Status clear_queue(const std::string& queue) override {
    return guarded("clear_queue", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "clear_queue");
      conn->stmt("DELETE FROM jobs WHERE queue = ?1 AND state = 'queued'").bind(1, queue).run();
      conn->stmt("DELETE FROM queues WHERE name = ?1").bind(1, queue).run();
      txn.commit();
      return {};
    });
  }

  Result<std::size_t> set_size(SetKind kind) override {
    return guarded("set_size", [&]() -> Result<std::size_t> {
      Lease conn = lease();
      auto q = conn->stmt("SELECT count(*) FROM jobs WHERE state = ?1");
      q.bind(1, state_name(kind));
      return q.row() ? static_cast<std::size_t>(q.integer(0)) : std::size_t{0};
    });
  }

  Result<std::vector<SetEntry>> set_range(SetKind kind, std::size_t offset,
                                          std::size_t count) override {
    return guarded("set_range", [&]() -> Result<std::vector<SetEntry>> {
      Lease conn = lease();
      std::vector<SetEntry> out;
      // The dead set reads newest first, as Sidekiq's morgue.
      auto q = conn->stmt(kind == SetKind::dead
                              ? "SELECT score, jid, payload FROM jobs WHERE state = ?1 "
                                "ORDER BY score DESC, id DESC LIMIT ?2 OFFSET ?3"
                              : "SELECT score, jid, payload FROM jobs WHERE state = ?1 "
                                "ORDER BY score, id LIMIT ?2 OFFSET ?3");
      q.bind(1, state_name(kind)).bind(2, clamp(count)).bind(3, clamp(offset));
      while (q.row()) out.push_back(SetEntry{q.real(0), q.str(1), q.str(2)});
      return out;
    });
  }

  Result<SetEntry> set_find(SetKind kind, double score, const std::string& jid) override {
    return guarded("set_find", [&]() -> Result<SetEntry> {
      Lease conn = lease();
      auto q = conn->stmt(
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

  Status set_delete(SetKind kind, double score, const std::string& jid) override {
    return guarded("set_delete", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "set_delete");
      auto id = find_entry(*conn, kind, score, jid);
      if (!id) return not_in_set(kind, score, jid);
      conn->stmt("DELETE FROM jobs WHERE id = ?1").bind(1, *id).run();
      txn.commit();
      return {};
    });
  }

  Status set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                  const std::string& queue, const std::string& new_payload, double now,
                  const DeadLimits& limits) override {
    if (to == MoveTo::queue && queue.empty())
      return fail(Errc::invalid_argument, "set_move: empty queue name");
    auto st = guarded("set_move", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "set_move");
      auto id = find_entry(*conn, kind, score, jid);
      if (!id) return not_in_set(kind, score, jid);
      if (to == MoveTo::dead) {
        conn->stmt("UPDATE jobs SET state = 'dead', payload = ?2, score = ?3 WHERE id = ?1")
            .bind(1, *id)
            .bind(2, new_payload)
            .bind(3, now)
            .run();
        trim_dead(*conn, now, limits);
      } else {
        // A new row id: the job joins the tail of the queue, as a push would.
        conn->stmt("DELETE FROM jobs WHERE id = ?1").bind(1, *id).run();
        const double wall = wall_now();
        conn->stmt(
                "INSERT INTO jobs (jid, queue, payload, state, enqueued_at) "
                "VALUES (?1, ?2, ?3, 'queued', ?4)")
            .bind(1, jid)
            .bind(2, queue)
            .bind(3, new_payload)
            .bind(4, wall)
            .run();
        know_queue(*conn, queue);
      }
      txn.commit();
      return {};
    });
    if (st.ok() && to == MoveTo::queue) wake();
    return st;
  }

  Status set_clear(SetKind kind) override {
    return guarded("set_clear", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "set_clear");
      conn->stmt("DELETE FROM jobs WHERE state = ?1").bind(1, state_name(kind)).run();
      txn.commit();
      return {};
    });
  }

  Result<std::vector<ProcessRecord>> processes(double now) override {
    return guarded("processes", [&]() -> Result<std::vector<ProcessRecord>> {
      Lease conn = lease();
      prune(*conn, now);
      std::vector<ProcessRecord> out;
      auto q = conn->stmt(
          "SELECT identity, info, busy, beat, quiet, rss FROM processes ORDER BY identity");
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

  Result<std::vector<WorkRecord>> workers(double now) override {
    return guarded("workers", [&]() -> Result<std::vector<WorkRecord>> {
      Lease conn = lease();
      prune(*conn, now);
      std::vector<WorkRecord> out;
      auto q = conn->stmt("SELECT identity, work FROM processes ORDER BY identity");
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

  // ---- flow control ------------------------------------------------------

  Status set_paused(const std::string& queue, bool paused) override {
    return guarded("set_paused", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "set_paused");
      conn->stmt(
              "INSERT INTO queues (name, paused) VALUES (?1, ?2) "
              "ON CONFLICT (name) DO UPDATE SET paused = excluded.paused")
          .bind(1, queue)
          .bind(2, static_cast<std::int64_t>(paused ? 1 : 0))
          .run();
      txn.commit();
      return {};
    });
  }

  Result<std::vector<std::string>> paused_queues() override {
    return guarded("paused_queues", [&]() -> Result<std::vector<std::string>> {
      Lease conn = lease();
      std::vector<std::string> out;
      auto q = conn->stmt("SELECT name FROM queues WHERE paused != 0 ORDER BY name");
      while (q.row()) out.push_back(q.str(0));
      return out;
    });
  }

  Result<bool> lock_acquire(const std::string& key, const std::string& holder, double now,
                            double expires_at) override {
    return guarded("lock_acquire", [&]() -> Result<bool> {
      Lease conn = lease();
      Txn txn(*this, *conn, "lock_acquire");
      // One statement under the write lock: insert, or take over an expired lock.
      auto st = conn->stmt(
          "INSERT INTO locks (key, holder, until) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, until = excluded.until "
          "WHERE locks.until <= ?4");
      st.bind(1, key).bind(2, holder).bind(3, expires_at).bind(4, now).run();
      const bool taken = sqlite3_changes(conn->handle()) > 0;
      txn.commit();
      return taken;
    });
  }

  Status lock_release(const std::string& key, const std::string& holder) override {
    return guarded("lock_release", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "lock_release");
      conn->stmt("DELETE FROM locks WHERE key = ?1 AND holder = ?2")
          .bind(1, key)
          .bind(2, holder)
          .run();
      txn.commit();
      return {};
    });
  }

  Result<bool> lock_extend(const std::string& key, const std::string& holder,
                           double expires_at) override {
    return guarded("lock_extend", [&]() -> Result<bool> {
      Lease conn = lease();
      Txn txn(*this, *conn, "lock_extend");
      conn->stmt("UPDATE locks SET until = ?3 WHERE key = ?1 AND holder = ?2")
          .bind(1, key)
          .bind(2, holder)
          .bind(3, expires_at)
          .run();
      const bool held = sqlite3_changes(conn->handle()) > 0;
      txn.commit();
      return held;
    });
  }

  Status signal(const std::string& identity, const std::string& sig) override {
    return guarded("signal", [&]() -> Status {
      Lease conn = lease();
      Txn txn(*this, *conn, "signal");
      conn->stmt("INSERT INTO signals (identity, signal) VALUES (?1, ?2)")
          .bind(1, identity)
          .bind(2, sig)
          .run();
      txn.commit();
      return {};
    });
  }

  // ---- pool --------------------------------------------------------------

  void give_back(std::unique_ptr<Conn> conn) {
    // A connection left inside a transaction (a bug or an exception in
    // flight) must not be reused as is.
    if (conn->in_transaction()) {
      try {
        conn->exec("ROLLBACK");
      } catch (...) {
        return;  // drop it
      }
    }
    std::lock_guard lock(pool_mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(conn));
  }

 private:
  static constexpr std::size_t kMaxIdle = 16;

  // A write transaction: this process's writers take turns on write_mu_
  // (bounded by busy_timeout), then BEGIN IMMEDIATE takes SQLite's lock.
  // Rolls back unless committed.
  class Txn {
   public:
    Txn(SqliteStore& store, Conn& conn, const char* what) : store_(store), conn_(conn) {
      if (!store_.write_mu_.try_lock_for(store_.options_.busy_timeout))
        throw fail(Errc::busy, "SQLite database '" + store_.options_.path + "' is busy: " + what +
                                   " waited " +
                                   std::to_string(store_.options_.busy_timeout.count()) +
                                   " ms for this process's other writers");
      try {
        conn_.exec("BEGIN IMMEDIATE");
      } catch (...) {
        store_.write_mu_.unlock();
        throw;
      }
    }
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    ~Txn() {
      if (!done_) {
        try {
          conn_.exec("ROLLBACK");
        } catch (...) {  // nothing more to do; the pool drops a conn still in a transaction
        }
      }
      store_.write_mu_.unlock();
    }
    void commit() {
      conn_.exec("COMMIT");
      done_ = true;
    }

   private:
    SqliteStore& store_;
    Conn& conn_;
    bool done_ = false;
  };

  // A read transaction, for admin reads that must agree with themselves.
  class ReadTxn {
   public:
    explicit ReadTxn(Conn& conn) : conn_(conn) { conn_.exec("BEGIN"); }
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;
    ~ReadTxn() {
      if (open_) {
        try {
          conn_.exec("ROLLBACK");
        } catch (...) {
        }
      }
    }
    void end() {
      conn_.exec("COMMIT");
      open_ = false;
    }

   private:
    Conn& conn_;
    bool open_ = true;
  };

  std::unique_ptr<Conn> open_conn() {
    return Conn::open(Conn::Options{options_.path, options_.create, options_.busy_timeout});
  }

  Lease lease() {
    {
      std::lock_guard lock(pool_mu_);
      if (!idle_.empty()) {
        auto conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
    }
    return Lease(this, open_conn());  // opened outside the pool lock
  }

  // ---- wake-ups within this process --------------------------------------

  std::uint64_t wake_generation() {
    std::lock_guard lock(wake_mu_);
    return wake_gen_;
  }
  void wake() {
    {
      std::lock_guard lock(wake_mu_);
      ++wake_gen_;
    }
    wake_cv_.notify_all();
  }
  void wait_for_wake(std::uint64_t seen, std::chrono::steady_clock::time_point until) {
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_until(lock, until, [&] { return wake_gen_ != seen; });
  }

  // ---- statements shared by several operations ---------------------------

  static bool any_ready(Conn& conn, std::span<const std::string> queues) {
    for (const auto& q : queues) {
      auto s = conn.stmt("SELECT 1 FROM jobs WHERE queue = ?1 AND state = 'queued' LIMIT 1");
      s.bind(1, q);
      if (s.row()) return true;
    }
    return false;
  }

  static bool any_due(Conn& conn, const char* state, double now) {
    auto s = conn.stmt("SELECT 1 FROM jobs WHERE state = ?1 AND score <= ?2 LIMIT 1");
    s.bind(1, state).bind(2, now);
    return s.row();
  }

  // Claims up to `max` jobs across `queues` in order, in one transaction.
  void claim(Conn& conn, std::span<const std::string> queues, std::size_t max,
             const std::string& owner, std::vector<Fetched>& out) {
    Txn txn(*this, conn, "fetch");
    const double now = wall_now();
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

  // retry()/kill(): the claimed row becomes a set entry in place. If the
  // claim is gone (or this store never handed the job out) the entry is
  // added anew, so the failure is never lost.
  static void park(Conn& conn, const Fetched& job, const std::string& jid,
                   const std::string& payload, const char* state, double score) {
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

  // Sidekiq's dead-set trim (redis-layout.md §6): drop entries older than max_age,
  // then keep at most max_jobs - 1 (its ZREMRANGEBYRANK dead 0 -max).
  static void trim_dead(Conn& conn, double now, const DeadLimits& limits) {
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

  static std::optional<std::int64_t> find_entry(Conn& conn, SetKind kind, double score,
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

  static void know_queue(Conn& conn, const std::string& queue) {
    conn.stmt("INSERT OR IGNORE INTO queues (name) VALUES (?1)").bind(1, queue).run();
  }

  static void add_counter(Conn& conn, const std::string& key, std::int64_t by) {
    conn.stmt(
            "INSERT INTO stats (key, value) VALUES (?1, ?2) "
            "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value")
        .bind(1, key)
        .bind(2, by)
        .run();
  }

  static std::int64_t counter(Conn& conn, const std::string& key) {
    auto q = conn.stmt("SELECT value FROM stats WHERE key = ?1");
    q.bind(1, key);
    return q.row() ? q.integer(0) : 0;
  }

  // Drops processes whose heartbeat expired; takes the write lock only when
  // there is something to drop.
  void prune(Conn& conn, double now) {
    {
      auto probe = conn.stmt("SELECT 1 FROM processes WHERE beat + ttl < ?1 LIMIT 1");
      probe.bind(1, now);
      if (!probe.row()) return;
    }
    Txn txn(*this, conn, "pruning processes");
    conn.stmt("DELETE FROM processes WHERE beat + ttl < ?1").bind(1, now).run();
    txn.commit();
  }

  static std::int64_t clamp(std::size_t n) {
    return static_cast<std::int64_t>(
        std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
  }

  static std::string jid_of(const std::string& payload) {
    auto doc = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object())
      if (auto it = doc.find("jid"); it != doc.end() && it->is_string())
        return it->get<std::string>();
    return {};
  }

  static Error not_in_set(SetKind kind, double score, const std::string& jid) {
    return fail(Errc::not_found, "no entry " + store_util::format_score(score) + "-" + jid +
                                     " in the " + std::string(to_string(kind)) + " set");
  }

  const SqliteOptions options_;

  std::timed_mutex write_mu_;  // serializes this process's write transactions

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by pool_mu_

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;  // fetchers wait here; guarded by wake_mu_
  std::uint64_t wake_gen_ = 0;       // bumped on every push/requeue/promote; guarded by wake_mu_
};

Lease::~Lease() {
  if (conn_) store_->give_back(std::move(conn_));
}

Result<SqliteOptions> parse_spec(const std::string& spec) {
  SqliteOptions options;
  const auto q = spec.find('?');
  options.path = spec.substr(0, q);
  if (q == std::string::npos) return options;
  std::string_view rest(spec);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto number = [&]() -> std::optional<std::int64_t> {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || end != value.data() + value.size() || v < 0) return std::nullopt;
      return v;
    };
    auto bad = [&] {
      return fail(Errc::invalid_argument, "sqlite store URL option '" + std::string(pair) +
                                              "' is malformed in '" + spec + "'");
    };
    if (key == "busy_timeout") {
      auto v = number();
      if (!v) return bad();
      options.busy_timeout = std::chrono::milliseconds(*v);
    } else if (key == "poll_interval") {
      auto v = number();
      if (!v || *v == 0) return bad();
      options.poll_interval = std::chrono::milliseconds(*v);
    } else if (key == "create") {
      if (value == "0" || value == "false")
        options.create = false;
      else if (value == "1" || value == "true")
        options.create = true;
      else
        return bad();
    } else {
      return fail(Errc::invalid_argument, "unknown sqlite store URL option '" + std::string(key) +
                                              "' in '" + spec +
                                              "': expected busy_timeout, create or poll_interval");
    }
  }
  return options;
}

}  // namespace

Result<std::shared_ptr<Store>> open_sqlite_store(const std::string& spec) {
  auto options = parse_spec(spec);
  if (!options.ok()) return options.error();
  return open_sqlite_store(*options);
}

Result<std::shared_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  namespace fs = std::filesystem;
  const auto& path = options.path;
  if (path.empty())
    return fail(Errc::invalid_argument, "sqlite store: no database path given (sqlite://PATH)");
  if (path == ":memory:" || path.rfind("file:", 0) == 0)
    return fail(Errc::invalid_argument,
                "sqlite store: '" + path +
                    "' is not a file path (each connection would see its own database); "
                    "use memory://NAME for an in-process store");
  if (options.poll_interval.count() <= 0)
    return fail(Errc::invalid_argument, "sqlite store: poll_interval must be positive");
  // Check what SQLite would only report as "unable to open database file".
  std::error_code ec;
  const fs::path p(path);
  const fs::path dir = p.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec))
    return fail(Errc::io, "cannot open SQLite database '" + path + "': directory '" + dir.string() +
                              "' does not exist");
  if (!options.create && !fs::exists(p, ec))
    return fail(Errc::io, "cannot open SQLite database '" + path +
                              "': the file does not exist (and create=0)");
  return guarded("open", [&]() -> Result<std::shared_ptr<Store>> {
    auto store = std::make_shared<SqliteStore>(options);
    store->init();
    return std::shared_ptr<Store>(std::move(store));
  });
}

}  // namespace errand
