// The SQLite store's schema: versioned with PRAGMA user_version, marked as
// errand's with PRAGMA application_id, migrated forward on open.
#pragma once

#include <cstdint>

#include "store/sqlite/sqlite_db.h"

namespace errand::sqlite {

/// The schema version this build writes and understands.
inline constexpr int kSchemaVersion = 3;
/// PRAGMA application_id of an errand database: "ERND".
inline constexpr std::int32_t kApplicationId = 0x45524e44;

/// Creates the schema in an empty file or migrates an older one to
/// kSchemaVersion. Throws Error: corrupt if the file is not an errand database
/// or was written by a newer errand; busy if the write lock cannot be had.
/// Cheap when the file is current (two pragma reads, no write lock).
void migrate(Conn& conn);

}  // namespace errand::sqlite
