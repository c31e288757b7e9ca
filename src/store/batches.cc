// The Store defaults for stores without capabilities().batches.
#include "errand/batch_store.h"
#include "errand/store.h"

namespace errand {

namespace {
Error no_batches(const Store& store) {
  return Error(Errc::unsupported, std::string(store.scheme()) + " store keeps no batches");
}
}  // namespace

Status Store::batch_update(const std::string&, double, const std::function<Status(BatchTxn&)>&) {
  return no_batches(*this);
}
Result<BatchRecord> Store::batch_read(const std::string&) { return no_batches(*this); }
Result<std::vector<std::string>> Store::batch_list(std::size_t, std::size_t, double) {
  return no_batches(*this);
}

}  // namespace errand
