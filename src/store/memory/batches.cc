// The memory store's batch records (errand/batch_store.h): a map under
// batch_mu_, which also makes each batch_update one atomic step.
#include <algorithm>

#include "errand/batch_store.h"
#include "store/memory/store_impl.h"

namespace errand::memory {

namespace {

class MemoryBatchTxn final : public BatchTxn {
 public:
  explicit MemoryBatchTxn(const std::string* meta,
                          const std::unordered_map<std::string, std::string>* members)
      : stored_meta_(meta), stored_members_(members) {}

 protected:
  Result<std::optional<std::string>> read_meta() override {
    if (!stored_meta_) return std::optional<std::string>();
    return std::optional<std::string>(*stored_meta_);
  }
  Result<std::vector<std::optional<std::string>>> read_members(
      const std::vector<std::string>& names) override {
    std::vector<std::optional<std::string>> out(names.size());
    if (!stored_members_) return out;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (auto it = stored_members_->find(names[i]); it != stored_members_->end())
        out[i] = it->second;
    return out;
  }
  Result<std::vector<std::pair<std::string, std::string>>> read_all_members() override {
    std::vector<std::pair<std::string, std::string>> out;
    if (stored_members_) out.assign(stored_members_->begin(), stored_members_->end());
    return out;
  }

 private:
  const std::string* stored_meta_;
  const std::unordered_map<std::string, std::string>* stored_members_;
};

}  // namespace

Status MemoryStore::batch_update(const std::string& bid, double now,
                                 const std::function<Status(BatchTxn&)>& fn) {
  std::lock_guard lock(batch_mu_);
  auto it = batches_.find(bid);
  const bool exists = it != batches_.end();
  MemoryBatchTxn txn(exists ? &it->second.meta : nullptr, exists ? &it->second.members : nullptr);
  if (auto st = fn(txn); !st) return st;
  // Pushes first: they are the only step here that can fail.
  if (!txn.pushes.empty())
    if (auto st = push({.jobs = txn.pushes, .now = now}); !st) return st;
  if (!txn.meta_write && txn.member_writes.empty()) return {};
  BatchEntry& e = batches_[bid];
  if (txn.meta_write) e.meta = std::move(*txn.meta_write);
  for (auto& [name, rec] : txn.member_writes) e.members[name] = std::move(rec);
  if (!exists) e.created_at = txn.created_at;
  e.expires_at = txn.expires_at;
  return {};
}

Result<BatchRecord> MemoryStore::batch_read(const std::string& bid) {
  std::lock_guard lock(batch_mu_);
  auto it = batches_.find(bid);
  if (it == batches_.end() || it->second.meta.empty())
    return fail(Errc::not_found, "no batch " + bid);
  BatchRecord r;
  r.meta = it->second.meta;
  r.members.assign(it->second.members.begin(), it->second.members.end());
  return r;
}

Result<std::vector<std::string>> MemoryStore::batch_list(std::size_t offset, std::size_t count,
                                                         double now) {
  std::lock_guard lock(batch_mu_);
  std::erase_if(batches_, [now](const auto& kv) {
    return kv.second.expires_at > 0 && kv.second.expires_at < now;
  });
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [bid, e] : batches_) order.emplace_back(e.created_at, bid);
  std::sort(order.begin(), order.end(), std::greater<>());
  std::vector<std::string> out;
  for (std::size_t i = offset; i < order.size() && out.size() < count; ++i)
    out.push_back(order[i].second);
  return out;
}

}  // namespace errand::memory
