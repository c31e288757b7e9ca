// The in-process store: push and the worker side (the class and its layout:
// store_impl.h).
#include "store/memory/memory_store.h"

#include "store/memory/store_impl.h"

namespace errand::memory {

StoreCapabilities MemoryStore::capabilities() const {
  StoreCapabilities c;
  c.ordering = true;  // a FIFO lane per priority, highest first
  c.pause = true;
  c.locks = true;
  c.lock_extend = true;
  c.in_process = true;     // no I/O: the server acks inline
  c.listen_notify = true;  // one process: every push signals the waiting fetchers
  c.status = true;
  c.batches = true;
  return c;
}

Status MemoryStore::push(const PushParams& p) {
  for (const auto& item : p.jobs)
    if (item.at == 0 && item.queue.empty())
      return fail(Errc::invalid_argument, "push: job " + item.jid + " has an empty queue name");
  const double now = p.now;
  bool woke = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& item : p.jobs) {
      if (item.at != 0) {
        sets_[index(SetKind::scheduled)].emplace(SetKey{item.at, item.jid}, item.payload);
      } else {
        enqueue_locked(item.queue, item.priority, Job{next_id_++, item.jid, item.payload, now},
                       false);
        woke = true;
      }
    }
    woke = woke && waiters_ > 0;
  }
  if (woke) cv_.notify_all();
  return {};
}

Result<std::vector<Fetched>> MemoryStore::fetch(const FetchParams& p) {
  const std::string owner(p.owner);
  std::vector<Fetched> out;
  if (p.max == 0 || p.queues.empty()) return out;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + p.wait;
  std::unique_lock lock(mu_);
  for (double now = p.now;; now = store_util::advanced(p.now, start)) {
    take_locked(p.queues, p.max, owner, now, out);
    if (!out.empty()) return out;
    ++waiters_;
    const bool timed_out = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
    --waiters_;
    if (timed_out) {
      take_locked(p.queues, p.max, owner, store_util::advanced(p.now, start), out);
      return out;
    }
  }
}

Status MemoryStore::ack(std::span<const Fetched> jobs) {
  std::lock_guard lock(mu_);
  for (const auto& job : jobs)
    if (auto c = claimed_.find(job.id);
        c != claimed_.end() && (job.owner.empty() || c->second.owner == job.owner))
      claimed_.erase(c);
  return {};
}

Status MemoryStore::requeue(const RequeueParams& p) {
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    // Reverse order with push_front keeps the batch's own order at the head.
    for (auto it = p.jobs.rbegin(); it != p.jobs.rend(); ++it) {
      auto claim = claimed_.find(it->id);
      if (claim != claimed_.end()) {
        Claim c = std::move(claim->second);
        claimed_.erase(claim);
        enqueue_locked(c.queue, c.priority, Job{it->id, std::move(c.jid), it->payload, c.pushed_at},
                       true);
      } else if (it->id == 0) {
        // A job this store never handed out: still honour "runs next".
        enqueue_locked(it->queue, 0, Job{next_id_++, "", it->payload, p.now}, true);
      }
      // Otherwise the claim is gone (rescued, acked): it is already back or done.
    }
    notify = waiters_ > 0;
  }
  if (notify) cv_.notify_all();
  return {};
}

Status MemoryStore::retry(const RetryParams& p) {
  std::lock_guard lock(mu_);
  claimed_.erase(p.job.id);
  sets_[index(SetKind::retry)].emplace(SetKey{p.at, p.jid}, p.payload);
  return {};
}

Status MemoryStore::kill(const KillParams& p) {
  std::lock_guard lock(mu_);
  claimed_.erase(p.job.id);
  add_dead_locked(p.jid, p.payload, p.now, p.limits);
  return {};
}

Result<std::size_t> MemoryStore::promote_due(const PromoteParams& p) {
  std::size_t moved = 0;
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    // Retries first, then scheduled jobs, as Sidekiq's poller does.
    for (SetKind kind : {SetKind::retry, SetKind::scheduled}) {
      auto& set = sets_[index(kind)];
      while (moved < p.limit && !set.empty() && set.begin()->first.first <= p.now) {
        auto node = set.extract(set.begin());
        auto promoted = store_util::promote_payload(node.mapped(), p.now);
        if (!promoted) {
          // Unparseable: park it in the dead set (as Sidekiq does with bad
          // JSON) rather than retrying it on every poll forever.
          add_dead_locked(node.key().second, node.mapped(), p.now, DeadLimits{});
          continue;
        }
        enqueue_locked(
            promoted->queue, 0,
            Job{next_id_++, std::move(node.key().second), std::move(promoted->payload), p.now},
            false);
        ++moved;
      }
    }
    notify = moved > 0 && waiters_ > 0;
  }
  if (notify) cv_.notify_all();
  return moved;
}

Result<std::size_t> MemoryStore::rescue_orphans(const RescueParams& p) {
  std::size_t moved = 0;
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    for (auto it = claimed_.begin(); it != claimed_.end();) {
      if (!orphaned_locked(it->second, p.now, p.grace_seconds)) {
        ++it;
        continue;
      }
      Claim c = std::move(it->second);
      const std::int64_t id = it->first;
      it = claimed_.erase(it);
      enqueue_locked(c.queue, c.priority,
                     Job{id, std::move(c.jid), store_util::count_crash(c.payload), c.pushed_at},
                     true);
      ++moved;
    }
    notify = moved > 0 && waiters_ > 0;
  }
  if (notify) cv_.notify_all();
  return moved;
}

Result<std::vector<std::string>> MemoryStore::heartbeat(const ProcessBeat& beat) {
  std::lock_guard lock(mu_);
  auto& p = processes_[beat.identity];
  p.record.identity = beat.identity;
  p.record.info = beat.info;
  p.record.busy = beat.busy;
  p.record.beat = beat.beat;
  p.record.quiet = beat.quiet;
  p.record.rss_kb = beat.rss_kb;
  p.ttl = beat.ttl_seconds;
  p.work = beat.work;
  for (auto& w : p.work)
    if (w.process.empty()) w.process = beat.identity;
  const std::string day = store_util::utc_day(beat.beat);
  if (beat.processed) {
    counters_["processed"] += beat.processed;
    counters_["processed:" + day] += beat.processed;
  }
  if (beat.failed) {
    counters_["failed"] += beat.failed;
    counters_["failed:" + day] += beat.failed;
  }
  std::vector<std::string> sigs;
  if (auto it = signals_.find(beat.identity); it != signals_.end()) {
    sigs = std::move(it->second);
    signals_.erase(it);
  }
  return sigs;
}

Status MemoryStore::unregister(const std::string& identity) {
  std::lock_guard lock(mu_);
  processes_.erase(identity);
  signals_.erase(identity);
  return {};
}

void MemoryStore::enqueue_locked(const std::string& queue, int priority, Job job, bool front) {
  auto& q = queues_[queue];
  auto& lane = q.lanes[priority];
  if (front)
    lane.push_front(std::move(job));
  else
    lane.push_back(std::move(job));
  ++q.size;
}

// Moves up to `max` jobs (minus those already in `out`) from the queues, in
// strict order, into `out` and the claim table.
void MemoryStore::take_locked(std::span<const std::string> names, std::size_t max,
                              const std::string& owner, double now, std::vector<Fetched>& out) {
  for (const auto& name : names) {
    if (out.size() >= max) return;
    auto qit = queues_.find(name);
    if (qit == queues_.end() || qit->second.size == 0) continue;
    auto& q = qit->second;
    for (auto lit = q.lanes.begin(); lit != q.lanes.end() && out.size() < max;) {
      auto& lane = lit->second;
      while (!lane.empty() && out.size() < max) {
        Job& job = lane.front();
        out.push_back(Fetched{name, job.payload, job.id, owner});
        claimed_.emplace(job.id, Claim{owner, name, std::move(job.jid), std::move(job.payload),
                                       lit->first, now, job.pushed_at});
        lane.pop_front();
        --q.size;
      }
      // Drop empty non-default lanes so the map does not grow without bound.
      if (lane.empty() && lit->first != 0)
        lit = q.lanes.erase(lit);
      else
        ++lit;
    }
  }
}

const Job* MemoryStore::head_locked(const Queue& q) {
  for (const auto& [prio, lane] : q.lanes)
    if (!lane.empty()) return &lane.front();
  return nullptr;
}

bool MemoryStore::orphaned_locked(const Claim& c, double now, double grace) const {
  auto p = processes_.find(c.owner);
  if (p != processes_.end()) return !p->second.live(now);
  return c.claimed_at < now - grace;
}

// Sidekiq's dead-set insert (redis-layout.md §6): add, drop entries older than
// max_age, then keep at most max_jobs - 1 (its ZREMRANGEBYRANK 0 -max).
void MemoryStore::add_dead_locked(const std::string& jid, const std::string& payload, double now,
                                  const DeadLimits& limits) {
  auto& dead = sets_[index(SetKind::dead)];
  dead.emplace(SetKey{now, jid}, payload);
  const double cutoff = now - limits.max_age_seconds;
  while (!dead.empty() && dead.begin()->first.first < cutoff) dead.erase(dead.begin());
  if (dead.size() >= limits.max_jobs) {
    const std::size_t keep = limits.max_jobs > 0 ? limits.max_jobs - 1 : 0;
    while (dead.size() > keep) dead.erase(dead.begin());
  }
}

}  // namespace errand::memory

namespace errand {

using memory::MemoryStore;

std::shared_ptr<Store> memory_store(const std::string& name) {
  if (name.empty()) return std::make_shared<MemoryStore>();
  // Named stores live as long as the process, like a named database: a client
  // may push and let go before the server in the same process opens the name.
  static std::mutex registry_mu;
  static auto* registry =
      new std::unordered_map<std::string, std::shared_ptr<Store>>();  // guarded by registry_mu
  std::lock_guard lock(registry_mu);
  auto& slot = (*registry)[name];
  if (!slot) slot = std::make_shared<MemoryStore>();
  return slot;
}

}  // namespace errand
