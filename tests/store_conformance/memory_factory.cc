// Runs the conformance suite against the memory store.
#include "store/memory/memory_store.h"
#include "store_conformance/conformance.h"

namespace errand::testing {
namespace {

// second_view returns the store the last make() created: a memory store is
// shared by name within a process, so the "second process" is the same object.
std::weak_ptr<Store>& current() {
  static std::weak_ptr<Store> store;
  return store;
}

ERRAND_STORE_CONFORMANCE(memory, StoreFactory{.make =
                                                  [] {
                                                    auto store = memory_store("");
                                                    current() = store;
                                                    return store;
                                                  },
                                              .second_view = [] { return current().lock(); }});

}  // namespace
}  // namespace errand::testing

namespace errand::testing {
namespace {

TEST(MemoryStore, SameNameIsSameStoreEmptyNameIsPrivate) {
  EXPECT_EQ(memory_store("shared-name-test"), memory_store("shared-name-test"));
  EXPECT_NE(memory_store(""), memory_store(""));
  auto via_url = open_store("memory://shared-name-test");
  ASSERT_TRUE(via_url.ok());
  EXPECT_EQ(via_url->get(), memory_store("shared-name-test").get());
}

}  // namespace
}  // namespace errand::testing
