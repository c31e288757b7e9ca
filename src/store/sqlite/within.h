// Transactional enqueue on SQLite: the push runs on the application's own
// sqlite3 connection, inside its BEGIN, on the store's database file.
#pragma once

#include <span>
#include <string>

#include "errand/store.h"

namespace errand::sqlite {

/// Store::push_within for the SQLite store whose file is `store_path`.
Status push_within(const std::string& store_path, const AppTransaction& txn, const PushParams& p);
/// Store::lock_acquire_within for the SQLite store whose file is `store_path`.
Result<bool> lock_acquire_within(const std::string& store_path, const AppTransaction& txn,
                                 const std::string& key, const std::string& holder, double now,
                                 double expires_at);

}  // namespace errand::sqlite
