// The embedded default store: one SQLite file (WAL), usable by several
// processes at once.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "errand/store.h"

namespace errand {
struct SqliteOptions {
  std::string path;                               ///< the database file
  std::chrono::milliseconds busy_timeout{5'000};  ///< wait this long for a lock, then Errc::busy
  bool create = true;                             ///< create the file if missing
  std::chrono::milliseconds poll_interval{50};    ///< fetch polls this often while waiting
};
/// Opens (and creates or migrates) the database. `spec` is the part of the
/// URL after "sqlite://", optionally with ?busy_timeout=MS&create=0.
Result<std::shared_ptr<Store>> open_sqlite_store(const std::string& spec);
Result<std::shared_ptr<Store>> open_sqlite_store(const SqliteOptions& options);
}  // namespace errand
