#include "store/sqlite/schema.h"

#include <string>

namespace errand::sqlite {
namespace {

// Version 1. Every job is one row whose `state` says where it is; Sidekiq's
// lists and sorted sets become indexes over that column:
//   jobs_ready  the queues, next-to-run first (partial: waiting rows only)
//   jobs_state  the sorted sets by score, and the claimed rows for rescue
//   jobs_jid    admin lookups by jid
// Requeued and rescued jobs keep their id, so they run before anything
// pushed after them; promoted jobs get a new id (they join the tail).
constexpr const char* kV1[] = {
    R"(CREATE TABLE jobs (
         id          INTEGER PRIMARY KEY,
         jid         TEXT NOT NULL,
         queue       TEXT NOT NULL,
         payload     TEXT NOT NULL,
         state       TEXT NOT NULL
                     CHECK (state IN ('queued', 'claimed', 'scheduled', 'retry', 'dead')),
         score       REAL NOT NULL DEFAULT 0,
         priority    INTEGER NOT NULL DEFAULT 0,
         owner       TEXT,
         claimed_at  REAL,
         enqueued_at REAL))",
    "CREATE INDEX jobs_ready ON jobs (queue, priority DESC, id) WHERE state = 'queued'",
    "CREATE INDEX jobs_state ON jobs (state, score)",
    "CREATE INDEX jobs_jid ON jobs (jid)",
    R"(CREATE TABLE queues (
         name   TEXT PRIMARY KEY,
         paused INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID)",
    R"(CREATE TABLE processes (
         identity TEXT PRIMARY KEY,
         info     TEXT NOT NULL,
         busy     INTEGER NOT NULL DEFAULT 0,
         beat     REAL NOT NULL,
         quiet    INTEGER NOT NULL DEFAULT 0,
         rss      INTEGER NOT NULL DEFAULT 0,
         rtt_us   INTEGER NOT NULL DEFAULT 0,
         ttl      REAL NOT NULL DEFAULT 60,
         work     TEXT NOT NULL DEFAULT '[]'))",
    R"(CREATE TABLE signals (
         id       INTEGER PRIMARY KEY,
         identity TEXT NOT NULL,
         signal   TEXT NOT NULL))",
    "CREATE INDEX signals_identity ON signals (identity, id)",
    R"(CREATE TABLE stats (
         key   TEXT PRIMARY KEY,
         value INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID)",
    // Named locks (unique jobs, limits, cron ticks): free once `until` passed.
    R"(CREATE TABLE locks (
         key    TEXT PRIMARY KEY,
         holder TEXT NOT NULL,
         until  REAL NOT NULL) WITHOUT ROWID)",
};

// Version 2: job status and results (Store::record_status). One row per jid
// the worker recorded; `cancel` is a pending cancel request. Rows past
// `expires` are ignored and purged by record_status.
constexpr const char* kV2[] = {
    R"(CREATE TABLE job_status (
         jid        TEXT PRIMARY KEY,
         state      TEXT NOT NULL,
         result     TEXT,
         error      TEXT,
         process    TEXT,
         cancel     INTEGER NOT NULL DEFAULT 0,
         updated_at REAL NOT NULL,
         expires    REAL NOT NULL) WITHOUT ROWID)",
    "CREATE INDEX job_status_expires ON job_status (expires)",
};

// Version 3: a running job's progress (Store::record_progress), kept in its
// status record beside the state; batches and workflows
// (Store::batch_update): a batch's meta and its members' records
// (src/batch/logic.h), dropped after `expires`.
constexpr const char* kV3[] = {
    "ALTER TABLE job_status ADD COLUMN progress REAL",
    "ALTER TABLE job_status ADD COLUMN progress_message TEXT",
    R"(CREATE TABLE batches (
         bid        TEXT PRIMARY KEY,
         meta       TEXT NOT NULL,
         created_at REAL NOT NULL,
         expires    REAL NOT NULL) WITHOUT ROWID)",
    "CREATE INDEX batches_created ON batches (created_at)",
    R"(CREATE TABLE batch_members (
         bid    TEXT NOT NULL,
         member TEXT NOT NULL,
         record TEXT NOT NULL,
         PRIMARY KEY (bid, member)) WITHOUT ROWID)",
};

std::int64_t read_int(Conn& conn, const char* sql) {
  auto s = conn.stmt(sql);
  return s.row() ? s.integer(0) : 0;
}

void check_ours(Conn& conn, std::int64_t version, std::int64_t app_id) {
  const auto& path = conn.options().path;
  if (app_id != 0 && app_id != kApplicationId)
    throw fail(Errc::corrupt, "SQLite database '" + path +
                                  "' is not an errand database (application_id " +
                                  std::to_string(app_id) + ")");
  if (version > kSchemaVersion)
    throw fail(Errc::corrupt, "SQLite database '" + path + "' has errand schema version " +
                                  std::to_string(version) + ", newer than this build knows (" +
                                  std::to_string(kSchemaVersion) + "): upgrade errand");
}

}  // namespace

void migrate(Conn& conn) {
  auto version = read_int(conn, "PRAGMA user_version");
  auto app_id = read_int(conn, "PRAGMA application_id");
  check_ours(conn, version, app_id);
  if (version == kSchemaVersion && app_id == kApplicationId) return;

  // Another process may be migrating the same file: decide again under the
  // write lock.
  conn.exec("BEGIN IMMEDIATE");
  try {
    version = read_int(conn, "PRAGMA user_version");
    app_id = read_int(conn, "PRAGMA application_id");
    check_ours(conn, version, app_id);
    if (version == 0 && app_id != kApplicationId &&
        read_int(conn, "SELECT count(*) FROM sqlite_schema") > 0)
      throw fail(Errc::corrupt, "SQLite database '" + conn.options().path +
                                    "' is not an errand database (it has tables but no errand "
                                    "schema version)");
    if (version < 1)
      for (const char* sql : kV1) conn.exec(sql);
    if (version < 2)
      for (const char* sql : kV2) conn.exec(sql);
    if (version < 3)
      for (const char* sql : kV3) conn.exec(sql);
    // Later versions: `if (version < 4) { ALTER TABLE ... }` and so on.
    conn.exec("PRAGMA user_version = 3");
    static_assert(kSchemaVersion == 3, "set user_version to the new version above");
    conn.exec("PRAGMA application_id = 1163021892");  // kApplicationId
    static_assert(kApplicationId == 1163021892);
    conn.exec("COMMIT");
  } catch (...) {
    try {
      if (conn.in_transaction()) conn.exec("ROLLBACK");
    } catch (...) {  // the original error is the one worth reporting
    }
    throw;
  }
}

}  // namespace errand::sqlite
