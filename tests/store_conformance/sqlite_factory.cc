// Runs the conformance suite against the SQLite store: a fresh database file
// per test; second_view opens the same file again, as a second process would.
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "store/sqlite/sqlite_store.h"
#include "store_conformance/conformance.h"

namespace errand::testing {
namespace {

// One temporary directory per test binary, removed at exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "errand-sqlite-XXXXXX").string();
    if (mkdtemp(pattern.data())) dir_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TempDir& temp() {
  static TempDir dir;
  return dir;
}

std::string& current_path() {
  static std::string path;
  return path;
}

std::shared_ptr<Store> open_current() {
  SqliteOptions options;
  options.path = current_path();
  options.poll_interval = std::chrono::milliseconds(10);  // keep waiting tests short
  auto store = open_sqlite_store(options);
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message());
  return store.ok() ? *store : nullptr;
}

std::shared_ptr<Store> open_fresh() {
  static int n = 0;
  current_path() = temp().dir() + "/test-" + std::to_string(++n) + ".db";
  return open_current();
}

std::string why_unavailable() {
  return temp().dir().empty() ? std::string("cannot create a temp directory") : std::string();
}

ERRAND_STORE_CONFORMANCE(sqlite, StoreFactory{.make = open_fresh,
                                              .second_view = open_current,
                                              .unavailable = why_unavailable});

}  // namespace
}  // namespace errand::testing
