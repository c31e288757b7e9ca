// The SQLite store's flow-control primitives: paused queues and named locks
// (unique jobs, concurrency and rate limits, cron ticks).
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

StoreCapabilities SqliteStore::capabilities() const {
  StoreCapabilities c;
  c.ordering = true;  // ORDER BY priority DESC, id
  c.pause = true;
  c.locks = true;
  c.lock_extend = true;
  c.transactional_push = true;  // push_within()
  // Other processes' pushes are seen at the next poll_interval; pushes
  // through this store object wake its fetchers at once.
  c.listen_notify = false;
  c.status = true;           // the job_status table (status.cc)
  c.batches = true;          // the batches and batch_members tables (batches.cc)
  c.ack_with_status = true;  // one write transaction (status.cc)
  return c;
}

Status SqliteStore::set_paused(const std::string& queue, bool paused) {
  return write("set_paused", [&](Conn& conn) -> Status {
    conn.stmt(
            "INSERT INTO queues (name, paused) VALUES (?1, ?2) "
            "ON CONFLICT (name) DO UPDATE SET paused = excluded.paused")
        .bind(1, queue)
        .bind(2, static_cast<std::int64_t>(paused ? 1 : 0))
        .run();
    return {};
  });
}

Result<std::vector<std::string>> SqliteStore::paused_queues() {
  return read("paused_queues", [&](Conn& conn) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    auto q = conn.stmt("SELECT name FROM queues WHERE paused != 0 ORDER BY name");
    while (q.row()) out.push_back(q.str(0));
    return out;
  });
}

Result<bool> SqliteStore::lock_acquire(const std::string& key, const std::string& holder,
                                       double now, double expires_at) {
  return write("lock_acquire", [&](Conn& conn) -> Result<bool> {
    // One statement under the write lock: insert, or take over an expired lock.
    const int changed =
        conn.stmt(
                "INSERT INTO locks (key, holder, until) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, until = excluded.until "
                "WHERE locks.until <= ?4")
            .bind(1, key)
            .bind(2, holder)
            .bind(3, expires_at)
            .bind(4, now)
            .run();
    return changed > 0;
  });
}

Status SqliteStore::lock_release(const std::string& key, const std::string& holder) {
  return write("lock_release", [&](Conn& conn) -> Status {
    conn.stmt("DELETE FROM locks WHERE key = ?1 AND holder = ?2")
        .bind(1, key)
        .bind(2, holder)
        .run();
    return {};
  });
}

Result<bool> SqliteStore::lock_extend(const std::string& key, const std::string& holder, double,
                                      double expires_at) {
  return write("lock_extend", [&](Conn& conn) -> Result<bool> {
    const int changed = conn.stmt("UPDATE locks SET until = ?3 WHERE key = ?1 AND holder = ?2")
                            .bind(1, key)
                            .bind(2, holder)
                            .bind(3, expires_at)
                            .run();
    return changed > 0;
  });
}

}  // namespace errand::sqlite
