// The Redis store's batch records (errand/batch_store.h, redis-layout.md
// §11): errand:batch:<bid> (the meta, a string), errand:batch:<bid>:members
// (a hash member → record) and errand:batches (a sorted set of bids by
// creation time). Each batch_update WATCHes the two keys, reads, and applies
// its writes and pushes in one MULTI/EXEC; when another process wrote first
// EXEC is aborted and the step runs again.
#include "errand/batch_store.h"
#include "store/redis/store_impl.h"

namespace errand::redis_store {

namespace {

constexpr int kMaxAttempts = 100;

class RedisBatchTxn final : public BatchTxn {
 public:
  RedisBatchTxn(redis::Connection& conn, const std::string& meta_key,
                const std::string& members_key)
      : conn_(conn), meta_key_(meta_key), members_key_(members_key) {}

 protected:
  Result<std::optional<std::string>> read_meta() override {
    auto r = conn_.command({"GET", meta_key_});
    if (!r) return r.error();
    if (redis::is_error(r->get())) return fail(Errc::internal, std::string(redis::str(r->get())));
    if (redis::is_nil(r->get())) return std::optional<std::string>();
    return std::optional<std::string>(std::string(redis::str(r->get())));
  }
  Result<std::vector<std::optional<std::string>>> read_members(
      const std::vector<std::string>& names) override {
    std::vector<std::optional<std::string>> out(names.size());
    if (names.empty()) return out;
    Argv cmd{"HMGET", members_key_};
    cmd.insert(cmd.end(), names.begin(), names.end());
    auto r = conn_.command(cmd);
    if (!r) return r.error();
    if (redis::is_error(r->get())) return fail(Errc::internal, std::string(redis::str(r->get())));
    for (std::size_t i = 0; i < names.size() && i < redis::size(r->get()); ++i)
      if (!redis::is_nil(redis::at(r->get(), i)))
        out[i] = std::string(redis::str(redis::at(r->get(), i)));
    return out;
  }
  Result<std::vector<std::pair<std::string, std::string>>> read_all_members() override {
    auto r = conn_.command({"HGETALL", members_key_});
    if (!r) return r.error();
    if (redis::is_error(r->get())) return fail(Errc::internal, std::string(redis::str(r->get())));
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t i = 0; i + 1 < redis::size(r->get()); i += 2)
      out.emplace_back(std::string(redis::str(redis::at(r->get(), i))),
                       std::string(redis::str(redis::at(r->get(), i + 1))));
    return out;
  }

 private:
  redis::Connection& conn_;
  const std::string& meta_key_;
  const std::string& members_key_;
};

}  // namespace

Status RedisStore::batch_update(const std::string& bid, double /*now: Redis dates no push*/,
                                const std::function<Status(BatchTxn&)>& fn) {
  const std::string meta_key = key("errand:batch:" + bid);
  const std::string members_key = meta_key + ":members";
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Status inner;
    auto done = client_.watched(
        {meta_key, members_key}, [&](redis::Connection& conn) -> Result<std::vector<Argv>> {
          RedisBatchTxn txn(conn, meta_key, members_key);
          inner = fn(txn);
          if (!inner) return inner.error();
          auto cmds = push_commands(txn.pushes);
          if (!cmds) return cmds.error();
          if (txn.meta_write) {
            cmds->push_back({"SET", meta_key, *txn.meta_write});
            cmds->push_back(
                {"ZADD", key("errand:batches"), "NX", number_text(txn.created_at), bid});
          }
          if (!txn.member_writes.empty()) {
            Argv h{"HSET", members_key};
            for (const auto& [name, rec] : txn.member_writes) {
              h.push_back(name);
              h.push_back(rec);
            }
            cmds->push_back(std::move(h));
          }
          if (txn.expires_at > 0 && (txn.meta_write || !txn.member_writes.empty())) {
            const auto at = std::to_string(static_cast<std::int64_t>(txn.expires_at));
            cmds->push_back({"EXPIREAT", meta_key, at});
            cmds->push_back({"EXPIREAT", members_key, at});
          }
          return cmds;
        });
    if (!done) return inner ? done.status() : inner;
    if (*done) return {};
  }
  return fail(Errc::busy, "batch " + bid + ": still contended after " +
                              std::to_string(kMaxAttempts) + " attempts");
}

Result<BatchRecord> RedisStore::batch_read(const std::string& bid) {
  const std::string meta_key = key("errand:batch:" + bid);
  auto r = client_.pipe({{"GET", meta_key}, {"HGETALL", meta_key + ":members"}});
  if (!r) return r.error();
  if (redis::is_nil((*r)[0].get())) return fail(Errc::not_found, "no batch " + bid);
  BatchRecord out;
  out.meta = std::string(redis::str((*r)[0].get()));
  const redisReply* h = (*r)[1].get();
  for (std::size_t i = 0; i + 1 < redis::size(h); i += 2)
    out.members.emplace_back(std::string(redis::str(redis::at(h, i))),
                             std::string(redis::str(redis::at(h, i + 1))));
  return out;
}

Result<std::vector<std::string>> RedisStore::batch_list(std::size_t offset, std::size_t count,
                                                        double now) {
  // A batch's keys expire on their own; its entry in the index goes once
  // its meta is gone.
  auto r = client_.cmd({"ZREVRANGE", key("errand:batches"), std::to_string(offset),
                        std::to_string(offset + count + 64)});
  if (!r) return r.error();
  std::vector<std::string> bids;
  for (std::size_t i = 0; i < redis::size(r->get()); ++i)
    bids.emplace_back(redis::str(redis::at(r->get(), i)));
  (void)now;
  std::vector<std::string> out;
  if (bids.empty()) return out;
  std::vector<Argv> exists;
  for (const auto& b : bids) exists.push_back({"EXISTS", key("errand:batch:" + b)});
  auto e = client_.pipe(exists);
  if (!e) return e.error();
  Argv gone{"ZREM", key("errand:batches")};
  for (std::size_t i = 0; i < bids.size(); ++i) {
    if (redis::integer((*e)[i].get()) == 0)
      gone.push_back(bids[i]);
    else if (out.size() < count)
      out.push_back(bids[i]);
  }
  if (gone.size() > 2) (void)client_.cmd(gone);
  return out;
}

}  // namespace errand::redis_store
