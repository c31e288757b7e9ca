// The PostgreSQL store's versioned schema, migrated at open.
#pragma once

#include <string>

#include "store/postgres/pg_conn.h"

namespace errand::pg {

/// The schema version this build writes and reads.
constexpr int kSchemaVersion = 3;

/// Refuses a server that cannot take writes (a hot standby, or
/// default_transaction_read_only = on) with a clear Errc::unavailable.
void check_writable(Conn& conn);

/// Creates `schema` and its tables, or brings them up to kSchemaVersion.
/// Several processes may open the store at once: the migration runs under
/// a transaction-level advisory lock, and each re-reads the version under
/// it. Throws Error: corrupt if the schema is newer than this build (or holds
/// tables that are not errand's).
void migrate(Conn& conn, const std::string& schema);

}  // namespace errand::pg
