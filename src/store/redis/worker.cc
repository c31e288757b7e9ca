// The Redis store, worker side: fetch, ack, requeue, retry, kill, promote,
// rescue, heartbeat, and the claims handed out (see store_impl.h).
#include "store/memory/store_util.h"
#include "store/redis/store_impl.h"

namespace errand::redis_store {

Result<std::vector<Fetched>> RedisStore::fetch(const FetchParams& p) {
  const std::string owner(p.owner);
  std::vector<Fetched> out;
  if (p.queues.empty() || p.max == 0) return out;
  if (owner.empty()) return fail(Errc::invalid_argument, "fetch: empty owner");
  // Strict order: drop repeated names (weighted lists shuffled by the caller).
  std::vector<std::string> qs;
  for (const auto& q : p.queues)
    if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
  const std::int64_t id = owner_id(owner);
  if (auto st = reconcile_claims(owner); !st) return st.error();
  // Reconciling waits for fetches in flight: their claims are not tracked yet.
  std::shared_lock in_flight(fetch_rw_);
  const auto start = steady_clock::now();
  const auto deadline = start + p.wait;

  Argv keys{key("errand:inprogress"), owner_set_key(owner)};
  Argv args{owner, float_text(p.now), std::to_string(p.max)};
  for (const auto& q : qs) {
    keys.push_back(queue_key(q));
    keys.push_back(claim_key(owner, q));
    args.push_back(q);
  }
  bool registered = false;
  for (;;) {
    args[1] = float_text(store_util::advanced(p.now, start));
    auto r = client_.eval(fetch_, keys, args);
    if (!r) {
      mark_suspect(owner);  // the script may have run: claims without a reply
      return r.error();
    }
    const redisReply* reply = r->get();
    if (redis::size(reply) > 0) {
      for (std::size_t i = 0; i + 1 < redis::size(reply); i += 2) {
        auto qi = static_cast<std::size_t>(redis::integer(redis::at(reply, i)));
        if (qi < 1 || qi > qs.size())
          return fail(Errc::internal,
                      "redis fetch script returned queue index " + std::to_string(qi));
        out.push_back(
            Fetched{qs[qi - 1], std::string(redis::str(redis::at(reply, i + 1))), id, owner});
      }
      track_claims(owner, out);
      return out;
    }
    auto remaining = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (remaining.count() <= 0) return out;

    // Nothing ready: wait on the first queue with BRPOPLPUSH straight into
    // the in-progress list. The owner is registered for that queue first, so
    // a crash right after the move still leaves the job rescuable.
    const std::string& q = qs.front();
    if (!registered) {
      auto reg = client_.pipe(
          {{"SADD", owner_set_key(owner), q}, {"HSET", key("errand:inprogress"), owner, args[1]}});
      if (!reg) return reg.error();
      registered = true;
    }
    auto block = qs.size() == 1 ? remaining : std::min(remaining, kMultiQueueSlice);
    block = std::max(block, milliseconds(1));
    char timeout[32];
    std::snprintf(timeout, sizeof timeout, "%.3f", static_cast<double>(block.count()) / 1000.0);
    auto got = client_.blocking({"BRPOPLPUSH", queue_key(q), claim_key(owner, q), timeout}, block);
    if (!got) {
      mark_suspect(owner);  // BRPOPLPUSH may have moved a job before the cut
      return got.error();
    }
    if (!redis::is_nil(got->get())) {
      out.push_back(Fetched{q, std::string(redis::str(got->get())), id, owner});
      track_claims(owner, out);
      return out;
    }
  }
}

Status RedisStore::ack(std::span<const Fetched> jobs) {
  // LREM -1 searches from the tail, where the oldest claims are (the fetch
  // pushes new ones at the head), so a finished job is found in a few steps.
  std::vector<Argv> cmds;
  for (const auto& job : jobs) {
    auto k = claim_key_of(job);
    if (!k) return k.status();
    if (!k->empty()) cmds.push_back({"LREM", *k, "-1", job.payload});
  }
  auto r = client_.pipe(cmds);
  if (!r) return r.status();
  settle_claims(jobs);
  return {};
}

Status RedisStore::ack_with_status(std::span<const Fetched> jobs,
                                   std::span<const StatusUpdate> statuses) {
  // A batch's jobs mostly share their in-progress list: its name is built
  // once per run of jobs from the same owner and queue.
  std::vector<std::string> lists;
  lists.reserve(jobs.size());  // never reallocated: the claims point into it
  std::vector<redis::StatusKeeper::Claim> claims;
  claims.reserve(jobs.size());
  const Fetched* last = nullptr;
  for (const auto& job : jobs) {
    if (last == nullptr || last->id <= 0 || job.id != last->id || job.queue != last->queue) {
      auto k = claim_key_of(job);
      if (!k) return k.status();
      lists.push_back(std::move(*k));
      last = &job;
    }
    if (!lists.back().empty()) claims.push_back({lists.back(), &job.payload});
  }
  if (auto st = status_.ack_and_record(claims, statuses); !st) return st;
  settle_claims(jobs);
  return {};
}

Status RedisStore::requeue(const RequeueParams& p) {
  // RPUSH puts a job at the tail, next to run; pushing the batch in reverse
  // leaves the first job of `p.jobs` running first.
  std::vector<std::pair<Argv, Argv>> calls;
  for (auto it = p.jobs.rbegin(); it != p.jobs.rend(); ++it) {
    auto k = claim_key_of(*it);
    if (!k) return k.status();
    if (k->empty()) continue;  // no claim any more: already back in a queue
    calls.push_back({{*k, queue_key(it->queue), key("queues")}, {it->payload, it->queue}});
  }
  auto r = client_.eval_many(requeue_, calls);
  if (!r) return r.status();
  settle_claims(p.jobs);
  return {};
}

Status RedisStore::retry(const RetryParams& p) {
  auto k = claim_key_of(p.job);
  if (!k) return k.status();
  std::vector<Argv> cmds;
  if (!k->empty()) cmds.push_back({"LREM", *k, "-1", p.job.payload});
  cmds.push_back({"ZADD", key("retry"), number_text(p.at), p.payload});
  auto r = client_.multi(cmds);
  if (!r) return r.status();
  settle_claim(p.job);
  return {};
}

Status RedisStore::kill(const KillParams& p) {
  auto k = claim_key_of(p.job);
  if (!k) return k.status();
  std::vector<Argv> cmds;
  if (!k->empty()) cmds.push_back({"LREM", *k, "-1", p.job.payload});
  append_dead(cmds, p.payload, p.now, p.limits);
  auto r = client_.multi(cmds);
  if (!r) return r.status();
  settle_claim(p.job);
  return {};
}

Result<std::size_t> RedisStore::promote_due(const PromoteParams& p) {
  std::size_t total = 0;
  const std::string stamp = float_text(p.now);
  while (total < p.limit) {
    std::size_t chunk = std::min(kPromoteChunk, p.limit - total);
    auto r = client_.eval(promote_, {key("retry"), key("schedule"), key("queues")},
                          {number_text(p.now), std::to_string(chunk), stamp, prefix_});
    if (!r) return r.error();
    auto moved = static_cast<std::size_t>(redis::integer(r->get()));
    total += moved;
    if (moved < chunk) break;
  }
  return total;
}

Result<std::size_t> RedisStore::rescue_orphans(const RescueParams& p) {
  auto r = client_.eval(rescue_, {key("errand:inprogress"), key("errand:alive"), key("queues")},
                        {number_text(p.now), number_text(p.grace_seconds), prefix_});
  if (!r) return r.error();
  return static_cast<std::size_t>(redis::integer(r->get()));
}

Result<std::vector<std::string>> RedisStore::heartbeat(const ProcessBeat& beat) {
  const std::string& id = beat.identity;
  if (id.empty()) return fail(Errc::invalid_argument, "heartbeat: empty identity");
  const std::string date = utc_date(beat.beat);
  // Transaction 1 (redis-layout.md §7): counters, then the running-jobs hash under
  // both names (6.4 reads :workers, 6.5+ reads :work).
  std::vector<Argv> tx1;
  for (auto [what, n] : {std::pair<const char*, std::int64_t>{"processed", beat.processed},
                         {"failed", beat.failed}}) {
    std::string lifetime = key(std::string("stat:") + what);
    tx1.push_back({"INCRBY", lifetime, std::to_string(n)});
    tx1.push_back({"INCRBY", lifetime + ":" + date, std::to_string(n)});
    tx1.push_back({"EXPIRE", lifetime + ":" + date, std::to_string(kDailyStatTtl)});
  }
  Argv hset_workers{"HSET", key(id + ":workers")};
  for (const auto& w : beat.work) {
    // Sidekiq writes run_at as integer seconds (redis-layout.md §7); the exact
    // start time goes in an extra field that Sidekiq's readers ignore.
    Json entry{{"queue", w.queue},
               {"payload", w.payload},
               {"run_at", static_cast<std::int64_t>(std::floor(w.run_at))},
               {"errand_run_at", w.run_at}};
    hset_workers.push_back(w.thread);
    hset_workers.push_back(entry.dump());
  }
  for (const char* suffix : {":workers", ":work"}) {
    std::string k = key(id + suffix);
    tx1.push_back({"UNLINK", k});
    if (!beat.work.empty()) {
      Argv h = hset_workers;
      h[1] = k;
      tx1.push_back(std::move(h));
    }
    tx1.push_back({"EXPIRE", k, std::to_string(kWorkersTtl)});
  }
  auto r1 = client_.multi(tx1);
  if (!r1) return r1.error();

  std::int64_t rtt = beat.rtt_us;
  if (rtt == 0) {
    auto t0 = steady_clock::now();
    auto pong = client_.cmd({"PING"});
    if (!pong) return pong.error();
    rtt = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t0).count();
  }
  const std::string ttl = std::to_string(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(beat.ttl_seconds))));
  const std::string signals = key(id + "-signals");
  // Transaction 2: registry and hash. All pending signals are taken at once
  // (LRANGE + DEL) instead of Sidekiq's one RPOP per beat.
  std::vector<Argv> tx2{
      {"SADD", key("processes"), id},
      {"EXISTS", key(id)},
      {"HMSET", key(id), "info", beat.info.dump(), "busy", std::to_string(beat.busy), "beat",
       float_text(beat.beat), "rtt_us", std::to_string(rtt), "quiet", beat.quiet ? "true" : "false",
       "rss", std::to_string(beat.rss_kb)},
      {"EXPIRE", key(id), ttl},
      {"LRANGE", signals, "0", "-1"},
      {"DEL", signals},
      {"HSET", key("errand:alive"), id, number_text(beat.beat + beat.ttl_seconds)},
  };
  auto r2 = client_.multi(tx2);
  if (!r2) return r2.error();
  const redisReply* sigs = redis::at(r2->get(), 4);
  std::vector<std::string> out;
  for (std::size_t i = redis::size(sigs); i > 0; --i)  // LPUSHed: oldest at the tail
    out.emplace_back(redis::str(redis::at(sigs, i - 1)));
  return out;
}

Status RedisStore::unregister(const std::string& identity) {
  auto r = client_.pipe({{"SREM", key("processes"), identity},
                         {"UNLINK", key(identity + ":workers"), key(identity + ":work")},
                         {"HDEL", key("errand:alive"), identity}});
  return r ? Status() : r.status();
}

std::int64_t RedisStore::owner_id(const std::string& owner) {
  std::lock_guard lock(owners_mu_);
  auto [it, inserted] =
      owner_ids_.try_emplace(owner, static_cast<std::int64_t>(owner_names_.size()) + 1);
  if (inserted) owner_names_.push_back(owner);
  return it->second;
}

void RedisStore::track_claims(const std::string& owner, const std::vector<Fetched>& jobs) {
  std::lock_guard lock(claims_mu_);
  auto& mine = claims_[owner];
  for (const auto& j : jobs) ++mine[claim_key(owner, j.queue)][j.payload];
}

// Forgets a claim once the store settled it (the job left the in-progress list).
void RedisStore::settle_claim(const Fetched& job) { settle_claims(std::span(&job, 1)); }

void RedisStore::settle_claims(std::span<const Fetched> jobs) {
  std::lock_guard owners(owners_mu_);
  std::lock_guard lock(claims_mu_);
  const Fetched* last = nullptr;  // the job whose list `payloads` is
  std::unordered_map<std::string, int>* payloads = nullptr;
  for (const auto& job : jobs) {
    if (job.id <= 0 || static_cast<std::size_t>(job.id) > owner_names_.size()) continue;
    if (last == nullptr || job.id != last->id || job.queue != last->queue) {
      last = &job;
      payloads = nullptr;
      const std::string& owner = owner_names_[static_cast<std::size_t>(job.id - 1)];
      auto o = claims_.find(owner);
      if (o == claims_.end()) continue;
      auto l = o->second.find(claim_key(owner, job.queue));
      if (l != o->second.end()) payloads = &l->second;
    }
    if (payloads == nullptr) continue;
    auto p = payloads->find(job.payload);
    if (p == payloads->end()) continue;
    if (--p->second <= 0) payloads->erase(p);
  }
}

// After a fetch failed on the connection: every job in the owner's
// in-progress lists beyond what this store handed out goes back to the
// tail of its queue, where it runs next.
Status RedisStore::reconcile_claims(const std::string& owner) {
  {
    std::lock_guard lock(claims_mu_);
    if (!suspect_.contains(owner)) return {};
  }
  std::unique_lock no_fetch_in_flight(fetch_rw_);
  auto qs = client_.cmd({"SMEMBERS", owner_set_key(owner)});
  if (!qs) return qs.status();
  std::vector<std::string> queues;
  for (std::size_t i = 0; i < redis::size(qs->get()); ++i)
    queues.emplace_back(redis::str(redis::at(qs->get(), i)));
  std::vector<Argv> reads;
  for (const auto& q : queues) reads.push_back({"LRANGE", claim_key(owner, q), "0", "-1"});
  auto lists = client_.pipe(reads);
  if (!lists) return lists.status();
  std::vector<std::pair<Argv, Argv>> calls;
  {
    std::lock_guard lock(claims_mu_);
    auto& mine = claims_[owner];
    for (std::size_t i = 0; i < queues.size(); ++i) {
      const std::string list = claim_key(owner, queues[i]);
      std::unordered_map<std::string, int> known = mine[list];  // a copy to count down
      const redisReply* a = (*lists)[i].get();
      for (std::size_t j = 0; j < redis::size(a); ++j) {
        std::string payload(redis::str(redis::at(a, j)));
        auto it = known.find(payload);
        if (it != known.end() && it->second > 0) {
          --it->second;
          continue;
        }
        calls.push_back({{list, queue_key(queues[i]), key("queues")}, {payload, queues[i]}});
      }
    }
  }
  if (!calls.empty()) {
    auto r = client_.eval_many(requeue_, calls);
    if (!r) return r.status();
  }
  std::lock_guard lock(claims_mu_);
  suspect_.erase(owner);
  return {};
}

// The in-progress list holding `job`'s claim; "" if no owner holds it.
Result<std::string> RedisStore::claim_key_of(const Fetched& job) {
  {
    std::lock_guard lock(owners_mu_);
    if (job.id > 0 && static_cast<std::size_t>(job.id) <= owner_names_.size())
      return claim_key(owner_names_[static_cast<std::size_t>(job.id - 1)], job.queue);
  }
  auto r = client_.eval(find_claim_, {key("errand:inprogress")}, {prefix_, job.queue, job.payload});
  if (!r) return r.error();
  if (redis::is_nil(r->get())) return std::string();
  return claim_key(std::string(redis::str(r->get())), job.queue);
}

void RedisStore::append_dead(std::vector<Argv>& cmds, const std::string& payload, double now,
                             const DeadLimits& limits) const {
  // redis-layout.md §6, including Sidekiq's rank arithmetic (it keeps max_jobs - 1).
  cmds.push_back({"ZADD", key("dead"), number_text(now), payload});
  cmds.push_back(
      {"ZREMRANGEBYSCORE", key("dead"), "-inf", number_text(now - limits.max_age_seconds)});
  cmds.push_back({"ZREMRANGEBYRANK", key("dead"), "0",
                  std::to_string(-static_cast<std::int64_t>(limits.max_jobs))});
}

}  // namespace errand::redis_store
