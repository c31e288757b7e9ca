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

ERRAND_STORE_FACTORY(memory_factory,
                     StoreFactory{"memory",
                                  [] {
                                    auto store = memory_store("");
                                    current() = store;
                                    return store;
                                  },
                                  [] { return current().lock(); }, nullptr});

}  // namespace
}  // namespace errand::testing
