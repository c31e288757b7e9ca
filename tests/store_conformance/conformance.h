// The store conformance suite, as a library any store can run
// (CMake target errand_store_conformance).
//
// A store author writes a factory and one line, in a test binary that links
// errand_store_conformance and GTest::gtest_main:
//
//   #include "store_conformance/conformance.h"
//   ERRAND_STORE_CONFORMANCE(mystore, [] { return std::make_shared<MyStore>(); });
//
// Every case of the suite (tests/store_conformance/*_test.cc) then runs
// against it as Stores/StoreConformance.<Case>/mystore. The name must be a
// C identifier and, unless StoreFactory::scheme says otherwise, the store's
// scheme(). For the cases that need a second process's view of the same data
// (cross-process locks, promote from two pollers), or a reason to skip when a
// server is missing, pass a whole StoreFactory instead of the lambda:
//
//   ERRAND_STORE_CONFORMANCE(mystore, ::errand::testing::StoreFactory{
//       .make = [] { return open_fresh(); },
//       .second_view = [] { return open_again(); },
//       .unavailable = [] { return server_up() ? "" : "no server"; }});
//
// A store is done when the whole suite passes on it. The cases are plain
// TEST_Ps of StoreConformance, so --gtest_filter selects among them.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "errand/store.h"

namespace errand::testing {

struct StoreFactory {
  /// A gtest-safe identifier naming the store in test names (set by
  /// ERRAND_STORE_CONFORMANCE from its first argument).
  std::string name = {};
  /// A fresh, empty store for one test.
  std::function<std::shared_ptr<Store>()> make = {};
  /// While the store make() returned last is alive: another view of the same
  /// data (a second process's). Empty: the cases that need one are skipped.
  std::function<std::shared_ptr<Store>()> second_view = {};
  /// Empty, or returns "" when the store is usable; otherwise the reason to
  /// skip every case (a server that could not start).
  std::function<std::string()> unavailable = {};
  /// What scheme() must answer; empty: the name.
  std::string scheme = {};
};

/// Adds a store to the suite; returns true (for static initialisers). The
/// macro below is the usual way in.
bool register_store(const char* name, StoreFactory factory);
bool register_store(const char* name, std::function<std::shared_ptr<Store>()> make);
/// The same, for a factory whose name is already set.
bool register_store(StoreFactory factory);

/// The stores registered so far.
const std::vector<StoreFactory>& registered_stores();

/// Names the store in gtest's failure messages instead of dumping bytes.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

/// The fixture of every case: a fresh store from the factory.
class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().unavailable) {
      auto why = GetParam().unavailable();
      if (!why.empty()) GTEST_SKIP() << why;
    }
    store = GetParam().make();
    ASSERT_NE(store, nullptr);
  }
  void TearDown() override { store.reset(); }
  std::shared_ptr<Store> store;
};

}  // namespace errand::testing

/// Runs the conformance suite against a store: NAME (an identifier) and
/// either a callable returning a fresh std::shared_ptr<Store> or a whole
/// ::errand::testing::StoreFactory. Use at namespace scope, once per store.
#define ERRAND_STORE_CONFORMANCE(NAME, ...)                            \
  [[maybe_unused]] static const bool errand_store_conformance_##NAME = \
      ::errand::testing::register_store(#NAME, __VA_ARGS__)

/// The older spelling, kept for factories written before the macro above:
/// registers a whole StoreFactory whose name is already set.
#define ERRAND_STORE_FACTORY(VAR, ...) \
  [[maybe_unused]] static const bool VAR = ::errand::testing::register_store(__VA_ARGS__)
