// What the outside harness watches: the store itself, read with its own
// client library (hiredis, sqlite3, libpq), never through the worker under test.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bench {

/// A store being drained. `done()` is true once every job pushed has been
/// acknowledged: nothing waiting in any watched queue and nothing claimed.
class Watch {
 public:
  virtual ~Watch() = default;
  /// One cheap look (called every few milliseconds while the worker runs).
  virtual bool done() = 0;
  /// A cheap reading that changes once the worker has started on the jobs:
  /// Redis, the length of the first queue (a job taken); SQLite, the lowest
  /// row id left (a job acknowledged and deleted).
  virtual std::int64_t progress() = 0;
  /// The store's own footprint: Redis used_memory, or the SQLite file (+ WAL) size.
  virtual std::int64_t bytes() = 0;
  /// The store server's pid, for its CPU time (0: in-process store such as SQLite).
  virtual int server_pid() = 0;
};

/// Redis: the lists `queue:<q>` of `queues`, plus every in-progress list
/// (errand's `errand:inprogress:<owner>:queue:<q>`; Sidekiq 6's basic fetch
/// has none: a job is off the queue once fetched).
std::unique_ptr<Watch> watch_redis(const std::string& host, int port, int db,
                                   std::vector<std::string> queues);

/// SQLite: `table` holds no row (errand: jobs; Delayed Job: delayed_jobs).
std::unique_ptr<Watch> watch_sqlite(const std::string& path, const std::string& table);

/// PostgreSQL (pg_watch.cc): the store's `<schema>.jobs` holds no waiting or
/// claimed row (`table` "jobs"), or another table holds no row (Delayed
/// Job: delayed_jobs); `url` is the store's postgres://…?schema=NAME.
std::unique_ptr<Watch> watch_postgres(const std::string& url, const std::string& table);

/// Parses redis://host:port/db, postgres://… or sqlite://path (with `table`) into a Watch.
std::unique_ptr<Watch> open_watch(const std::string& url, const std::string& table,
                                  std::vector<std::string> queues);

}  // namespace bench
