// Every SQL statement the PostgreSQL store runs, prepared once per
// connection. Texts name their tables through the store's schema (the `@`
// placeholder below becomes the quoted schema name), so the store never
// depends on a connection's search_path, and the same texts run on an
// application's own connection for transactional enqueue.
#pragma once

#include <cstddef>
#include <string>

#include "store/postgres/pg_conn.h"

namespace errand::pg {

enum S : std::size_t {
  // worker transitions (worker.cc)
  kPush,
  kClaim,
  kAck,
  kRequeueClaimed,
  kRequeueFront,
  kPark,
  kTrimDead,
  kPromoteProbe,
  kPromoteSelect,
  kPromoteApply,
  kPromoteDead,
  kRescueProbe,
  kRescue,
  kNotify,
  // processes, signals, counters (registry.cc)
  kHeartbeat,
  kUnregister,
  kPrune,
  kProcesses,
  kWorkers,
  kSignal,
  kStats,
  kCounters,
  kResetStats,
  // flow control (registry.cc)
  kSetPaused,
  kPausedQueues,
  kLockAcquire,
  kLockRelease,
  kLockExtend,
  // admin (admin.cc)
  kQueues,
  kQueueJobs,
  kQueueDelete,
  kClearQueue,
  kSetSize,
  kSetRangeAsc,
  kSetRangeDesc,
  kSetFind,
  kSetDelete,
  kSetMoveQueue,
  kSetMoveDead,
  kSetClear,
  // job status, results, cancellation (status.cc)
  kStatusRecord,
  kStatusGet,
  kStatusLocate,
  kStatusCancelWaiting,
  kStatusFlagCancel,
  kStatusRequests,
  kStatusPurge,
  // progress and job events (progress_events.cc)
  kProgressRecord,
  kEventsNotify,
  kStatementCount
};

/// The statements with `schema` (an unquoted identifier) substituted.
Statements make_statements(const std::string& schema);

/// `"name"`: the identifier quoted for SQL.
std::string quote_ident(const std::string& name);

/// Replaces each `@` in `sql` with the quoted schema name.
std::string in_schema(const char* sql, const std::string& schema);

}  // namespace errand::pg
