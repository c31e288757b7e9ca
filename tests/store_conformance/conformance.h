// The store conformance suite: the same cases run against every store.
//
// A backend's test file registers a factory with ERRAND_STORE_FACTORY; every
// TEST_P in this folder then runs against it. A store is done when the whole
// suite passes on it.
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
  std::string name;  ///< a gtest-safe identifier: memory, sqlite, redis
  /// A fresh, empty store for one test; a second call while the first store
  /// is alive must return a store sharing the same data (a second process's
  /// view) when `shared_view` is true.
  std::function<std::shared_ptr<Store>()> make;
  std::function<std::shared_ptr<Store>()> second_view;  ///< may be empty
  /// Empty or returns "" when usable; otherwise the reason to skip.
  std::function<std::string()> unavailable;
};

std::vector<StoreFactory>& store_factories();

/// Names the store in gtest's failure messages instead of dumping bytes.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

struct FactoryRegistration {
  explicit FactoryRegistration(StoreFactory f) { store_factories().push_back(std::move(f)); }
};

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

#define ERRAND_STORE_FACTORY(VAR, ...) \
  static ::errand::testing::FactoryRegistration VAR { __VA_ARGS__ }
