// The Redis store: opening it, and push (the class and the layout: store_impl.h).
#include "store/redis/redis_store.h"

#include "store/redis/store_impl.h"

namespace errand::redis_store {

StoreCapabilities RedisStore::capabilities() const {
  StoreCapabilities c;
  c.ordering = false;  // Sidekiq's lists: FIFO, priority ignored
  c.pause = true;
  c.locks = true;
  c.lock_extend = true;
  // A waiting fetch blocks in Redis (BRPOPLPUSH) on its first queue and
  // rechecks the others every kMultiQueueSlice.
  c.listen_notify = true;
  c.status = true;           // errand:status:<jid> hashes (status.cc)
  c.ack_with_status = true;  // one script: the LREMs, then the records (status.cc)
  c.batches = true;          // errand:batch:<bid> keys (batches.cc)
  return c;
}

Status RedisStore::push(const PushParams& p) {
  if (p.jobs.empty()) return {};
  auto cmds = push_commands(p.jobs);
  if (!cmds) return cmds.error();
  auto r = client_.multi(*cmds);
  return r ? Status() : r.status();
}

Result<std::vector<Argv>> RedisStore::push_commands(std::span<const PushItem> jobs) const {
  // Ready jobs: one SADD + one multi-value LPUSH per queue, in the order the
  // queues first appear. LPUSH a b c leaves a nearest the tail, so the first
  // job runs first (redis-layout.md §3). Scheduled: one ZADD. The caller
  // sends them in one MULTI, so the batch lands whole.
  std::vector<std::string> order;
  std::map<std::string, Argv> lpush;
  Argv zadd{"ZADD", key("schedule")};
  for (const auto& job : jobs) {
    if (job.at > 0) {
      zadd.push_back(number_text(job.at));
      zadd.push_back(job.payload);
      continue;
    }
    if (job.queue.empty())
      return fail(Errc::invalid_argument, "push: job " + job.jid + " has an empty queue name");
    auto [it, inserted] = lpush.try_emplace(job.queue);
    if (inserted) {
      order.push_back(job.queue);
      it->second = {"LPUSH", queue_key(job.queue)};
    }
    it->second.push_back(job.payload);
  }
  std::vector<Argv> cmds;
  for (const auto& q : order) {
    cmds.push_back({"SADD", key("queues"), q});
    cmds.push_back(std::move(lpush[q]));
  }
  if (zadd.size() > 2) cmds.push_back(std::move(zadd));
  return cmds;
}

}  // namespace errand::redis_store

namespace errand {

using redis_store::RedisStore;

Result<std::shared_ptr<Store>> open_redis_store(const RedisOptions& options) {
  if (options.host.empty()) return fail(Errc::invalid_argument, "redis store: empty host");
  if (options.port < 1 || options.port > 65535)
    return fail(Errc::invalid_argument,
                "redis store: port " + std::to_string(options.port) + " out of range");
  auto store = std::make_shared<RedisStore>(options);
  if (auto st = store->ping(); !st) return st.error();
  return std::shared_ptr<Store>(std::move(store));
}

Result<std::shared_ptr<Store>> open_redis_store(const std::string& url) {
  auto parsed = redis::parse_url(url);
  if (!parsed) return parsed.error();
  RedisOptions o;
  o.host = parsed->endpoint.host;
  o.port = parsed->endpoint.port;
  o.db = parsed->endpoint.db;
  o.username = parsed->endpoint.username;
  o.password = parsed->endpoint.password;
  o.connect_timeout = parsed->endpoint.connect_timeout;
  o.command_timeout = parsed->endpoint.command_timeout;
  o.ns = parsed->ns;
  if (parsed->pool_size) o.pool_size = *parsed->pool_size;
  return open_redis_store(o);
}

}  // namespace errand
