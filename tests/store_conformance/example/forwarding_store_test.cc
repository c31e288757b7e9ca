// The shape of a third-party store's conformance test: a store defined
// outside errand's tree, built only on the public headers, run through the
// exported errand_store_conformance library with one line. The store here
// is a ForwardingStore decorator over a private memory store (its scheme()
// is therefore "memory"), which also checks that ForwardingStore forwards
// every call, capabilities() included.
#include <atomic>
#include <memory>

#include "errand/store.h"
#include "store_conformance/conformance.h"

namespace {

// Counts the jobs pushed through it; everything else goes to the inner store.
class CountingStore final : public errand::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  errand::Status push(const errand::PushParams& p) override {
    pushed_ += p.jobs.size();
    return ForwardingStore::push(p);
  }
  std::size_t pushed() const { return pushed_.load(); }

 private:
  std::atomic<std::size_t> pushed_{0};
};

std::weak_ptr<errand::Store>& inner() {
  static std::weak_ptr<errand::Store> store;
  return store;
}

std::shared_ptr<errand::Store> fresh() {
  auto store = errand::open_store("memory://");  // an empty name: a private store
  if (!store.ok()) return nullptr;
  inner() = *store;
  return std::make_shared<CountingStore>(*store);
}

std::shared_ptr<errand::Store> again() {
  auto store = inner().lock();
  return store ? std::make_shared<CountingStore>(store) : nullptr;
}

}  // namespace

ERRAND_STORE_CONFORMANCE(counting, ::errand::testing::StoreFactory{
                                       .make = fresh, .second_view = again, .scheme = "memory"});
