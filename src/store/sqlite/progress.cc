// The SQLite store's progress records: the progress columns of job_status
// (schema v3), set without touching the record's state.
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

namespace {

// A new record starts in state unknown (where the job sits says running);
// an expired one starts over.
constexpr const char* kProgress = R"(
  INSERT INTO job_status (jid, state, cancel, updated_at, expires, progress, progress_message)
  VALUES (?1, 'unknown', 0, ?2, ?3, ?4, ?5)
  ON CONFLICT (jid) DO UPDATE SET
    state = CASE WHEN expires >= excluded.updated_at THEN state ELSE 'unknown' END,
    result = CASE WHEN expires >= excluded.updated_at THEN result END,
    error = CASE WHEN expires >= excluded.updated_at THEN error END,
    cancel = CASE WHEN expires >= excluded.updated_at THEN cancel ELSE 0 END,
    updated_at = excluded.updated_at, expires = max(expires, excluded.expires),
    progress = excluded.progress, progress_message = excluded.progress_message)";

}  // namespace

Status SqliteStore::record_progress(std::span<const ProgressUpdate> updates) {
  if (updates.empty()) return {};
  return write("record_progress", [&](Conn& conn) -> Status {
    for (const auto& u : updates)
      conn.stmt(kProgress)
          .bind(1, u.jid)
          .bind(2, u.now)
          .bind(3, u.now + u.ttl_seconds)
          .bind(4, u.fraction)
          .bind(5, u.message)
          .run();
    return {};
  });
}

}  // namespace errand::sqlite
