// The in-process store: every structure lives behind one mutex.
//
// Layout (all guarded by MemoryStore::mu_):
//   queues_     name → Queue: FIFO deques, one per priority (highest first)
//   claimed_    job id → Claim: the jobs handed out by fetch() and not yet
//               acked/retried/killed/requeued, with their owner (the lease)
//   sets_[3]    scheduled / retry / dead: multimap keyed by (score, jid)
//   processes_  identity → Process (heartbeat registry, work records)
//   signals_    identity → pending signals, oldest first
//   counters_   "processed", "failed", "processed:YYYY-MM-DD", ...
//
// One mutex is enough: every operation is a few pointer moves, so the lock
// is held for well under a microsecond per job, and fetch() takes a whole
// batch under one acquisition. fetch() waits on a condition variable that
// push/requeue/promote/rescue/set_move notify (after unlocking, and only
// when a fetcher is waiting, so the hot path pays nothing for it).
#include "store/memory/memory_store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "store/memory/status_book.h"
#include "store/memory/store_util.h"

namespace errand {
namespace {

using SetKey = std::pair<double, std::string>;  // (score, jid)
using SortedSet = std::multimap<SetKey, std::string>;

struct Job {
  std::int64_t id = 0;
  std::string jid;
  std::string payload;
  double pushed_at = 0;  // wall clock at push: latency fallback when the payload has no enqueued_at
};

struct Queue {
  // Priority → FIFO. Almost always a single bucket (priority 0).
  std::map<int, std::deque<Job>, std::greater<>> lanes;
  std::size_t size = 0;
};

struct Claim {
  std::string owner;
  std::string queue;
  std::string jid;
  std::string payload;  // kept so rescue_orphans() can put the job back
  int priority = 0;
  double claimed_at = 0;
  double pushed_at = 0;
};

struct Process {
  ProcessRecord record;
  double ttl = 60;
  std::vector<WorkRecord> work;
  bool live(double now) const { return record.beat + ttl >= now; }
};

class MemoryStore final : public Store {
 public:
  std::string_view scheme() const override { return "memory"; }

  StoreCapabilities capabilities() const override {
    StoreCapabilities c;
    c.ordering = true;  // a FIFO lane per priority, highest first
    c.pause = true;
    c.locks = true;
    c.lock_extend = true;
    c.in_process = true;     // no I/O: the server acks inline
    c.listen_notify = true;  // one process: every push signals the waiting fetchers
    c.status = true;
    return c;
  }

  Status push(std::span<const PushItem> jobs) override {
    for (const auto& item : jobs)
      if (item.at == 0 && item.queue.empty())
        return fail(Errc::invalid_argument, "push: job " + item.jid + " has an empty queue name");
    const double now = store_util::wall_now();
    bool woke = false;
    {
      std::lock_guard lock(mu_);
      for (const auto& item : jobs) {
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

  Result<std::vector<Fetched>> fetch(std::span<const std::string> queues, std::size_t max,
                                     std::chrono::milliseconds wait,
                                     const std::string& owner) override {
    std::vector<Fetched> out;
    if (max == 0 || queues.empty()) return out;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    std::unique_lock lock(mu_);
    for (;;) {
      take_locked(queues, max, owner, out);
      if (!out.empty()) return out;
      ++waiters_;
      const bool timed_out = cv_.wait_until(lock, deadline) == std::cv_status::timeout;
      --waiters_;
      if (timed_out) {
        take_locked(queues, max, owner, out);
        return out;
      }
    }
  }

  Status ack(std::span<const Fetched> jobs) override {
    std::lock_guard lock(mu_);
    for (const auto& job : jobs)
      if (auto c = claimed_.find(job.id);
          c != claimed_.end() && (job.owner.empty() || c->second.owner == job.owner))
        claimed_.erase(c);
    return {};
  }

  Status requeue(std::span<const Fetched> jobs) override {
    bool notify = false;
    {
      std::lock_guard lock(mu_);
      // Reverse order with push_front keeps the batch's own order at the head.
      for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
        auto claim = claimed_.find(it->id);
        if (claim != claimed_.end()) {
          Claim c = std::move(claim->second);
          claimed_.erase(claim);
          enqueue_locked(c.queue, c.priority,
                         Job{it->id, std::move(c.jid), it->payload, c.pushed_at}, true);
        } else if (it->id == 0) {
          // A job this store never handed out: still honour "runs next".
          enqueue_locked(it->queue, 0, Job{next_id_++, "", it->payload, store_util::wall_now()},
                         true);
        }
        // Otherwise the claim is gone (rescued, acked): it is already back or done.
      }
      notify = waiters_ > 0;
    }
    if (notify) cv_.notify_all();
    return {};
  }

  Status retry(const Fetched& job, const std::string& jid, const std::string& payload,
               double at) override {
    std::lock_guard lock(mu_);
    claimed_.erase(job.id);
    sets_[index(SetKind::retry)].emplace(SetKey{at, jid}, payload);
    return {};
  }

  Status kill(const Fetched& job, const std::string& jid, const std::string& payload, double now,
              const DeadLimits& limits) override {
    std::lock_guard lock(mu_);
    claimed_.erase(job.id);
    add_dead_locked(jid, payload, now, limits);
    return {};
  }

  Result<std::size_t> promote_due(double now, std::size_t limit) override {
    std::size_t moved = 0;
    bool notify = false;
    {
      std::lock_guard lock(mu_);
      const double wall = store_util::wall_now();
      // Retries first, then scheduled jobs, as Sidekiq's poller does.
      for (SetKind kind : {SetKind::retry, SetKind::scheduled}) {
        auto& set = sets_[index(kind)];
        while (moved < limit && !set.empty() && set.begin()->first.first <= now) {
          auto node = set.extract(set.begin());
          auto promoted = store_util::promote_payload(node.mapped(), now);
          if (!promoted) {
            // Unparseable: park it in the dead set (as Sidekiq does with bad
            // JSON) rather than retrying it on every poll forever.
            add_dead_locked(node.key().second, node.mapped(), now, DeadLimits{});
            continue;
          }
          enqueue_locked(
              promoted->queue, 0,
              Job{next_id_++, std::move(node.key().second), std::move(promoted->payload), wall},
              false);
          ++moved;
        }
      }
      notify = moved > 0 && waiters_ > 0;
    }
    if (notify) cv_.notify_all();
    return moved;
  }

  Result<std::size_t> rescue_orphans(double now, double grace_seconds) override {
    std::size_t moved = 0;
    bool notify = false;
    {
      std::lock_guard lock(mu_);
      for (auto it = claimed_.begin(); it != claimed_.end();) {
        if (!orphaned_locked(it->second, now, grace_seconds)) {
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

  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override {
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

  Status unregister(const std::string& identity) override {
    std::lock_guard lock(mu_);
    processes_.erase(identity);
    signals_.erase(identity);
    return {};
  }

  Result<Stats> stats() override {
    const double now = store_util::wall_now();
    std::lock_guard lock(mu_);
    Stats s;
    s.processed = counter_locked("processed");
    s.failed = counter_locked("failed");
    s.scheduled = sets_[index(SetKind::scheduled)].size();
    s.retries = sets_[index(SetKind::retry)].size();
    s.dead = sets_[index(SetKind::dead)].size();
    for (const auto& [id, p] : processes_) {
      if (!p.live(now)) continue;
      ++s.processes;
      s.busy += p.record.busy;
    }
    for (const auto& [name, q] : queues_) s.enqueued += q.size;
    return s;
  }

  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override {
    if (what != "processed" && what != "failed")
      return fail(Errc::invalid_argument, "history: expected \"processed\" or \"failed\", got \"" +
                                              std::string(what) + "\"");
    std::vector<std::int64_t> out;
    std::lock_guard lock(mu_);
    for (int d = 0; d < days; ++d)
      out.push_back(
          counter_locked(std::string(what) + ":" + store_util::utc_day(now - d * 86400.0)));
    return out;
  }

  Status reset_stats() override {
    std::lock_guard lock(mu_);
    // As Sidekiq's Stats#reset: the lifetime counters only; the history stays.
    counters_["processed"] = 0;
    counters_["failed"] = 0;
    return {};
  }

  Result<std::vector<QueueInfo>> queues() override {
    const double now = store_util::wall_now();
    std::lock_guard lock(mu_);
    std::vector<QueueInfo> out;
    out.reserve(queues_.size());
    for (const auto& [name, q] : queues_) {
      QueueInfo info{name, q.size, 0, paused_.count(name) > 0};
      if (const Job* head = head_locked(q)) {
        const double enqueued = store_util::enqueued_at(head->payload).value_or(head->pushed_at);
        info.latency = std::max(0.0, now - enqueued);
      }
      out.push_back(std::move(info));
    }
    return out;  // std::map iterates sorted by name
  }

  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) override {
    std::vector<std::string> out;
    std::lock_guard lock(mu_);
    auto it = queues_.find(queue);
    if (it == queues_.end()) return out;
    for (const auto& [prio, lane] : it->second.lanes) {
      if (out.size() >= count) break;
      if (offset >= lane.size()) {
        offset -= lane.size();
        continue;
      }
      for (auto j = lane.begin() + static_cast<std::ptrdiff_t>(offset);
           j != lane.end() && out.size() < count; ++j)
        out.push_back(j->payload);
      offset = 0;
    }
    return out;
  }

  Status queue_delete(const std::string& queue, const std::string& jid) override {
    std::lock_guard lock(mu_);
    auto it = queues_.find(queue);
    if (it != queues_.end()) {
      for (auto& [prio, lane] : it->second.lanes) {
        auto j = std::find_if(lane.begin(), lane.end(), [&](const Job& x) { return x.jid == jid; });
        if (j == lane.end()) continue;
        lane.erase(j);
        --it->second.size;
        return {};
      }
    }
    return fail(Errc::not_found, "no job " + jid + " waiting in queue '" + queue + "'");
  }

  Status clear_queue(const std::string& queue) override {
    std::lock_guard lock(mu_);
    queues_.erase(queue);
    return {};
  }

  Result<std::size_t> set_size(SetKind kind) override {
    std::lock_guard lock(mu_);
    return sets_[index(kind)].size();
  }

  Result<std::vector<SetEntry>> set_range(SetKind kind, std::size_t offset,
                                          std::size_t count) override {
    std::vector<SetEntry> out;
    std::lock_guard lock(mu_);
    const auto& set = sets_[index(kind)];
    if (offset >= set.size()) return out;
    auto emit = [&](auto first, auto last) {
      std::advance(first, static_cast<std::ptrdiff_t>(offset));
      for (; first != last && out.size() < count; ++first)
        out.push_back(SetEntry{first->first.first, first->first.second, first->second});
    };
    if (kind == SetKind::dead)
      emit(set.rbegin(), set.rend());  // newest first, as Sidekiq's morgue
    else
      emit(set.begin(), set.end());
    return out;
  }

  Result<SetEntry> set_find(SetKind kind, double score, const std::string& jid) override {
    std::lock_guard lock(mu_);
    auto& set = sets_[index(kind)];
    auto it = find_locked(set, score, jid);
    if (it == set.end()) return not_in_set(kind, score, jid);
    return SetEntry{it->first.first, it->first.second, it->second};
  }

  Status set_delete(SetKind kind, double score, const std::string& jid) override {
    std::lock_guard lock(mu_);
    auto& set = sets_[index(kind)];
    auto it = find_locked(set, score, jid);
    if (it == set.end()) return not_in_set(kind, score, jid);
    set.erase(it);
    return {};
  }

  Status set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                  const std::string& queue, const std::string& new_payload, double now,
                  const DeadLimits& limits) override {
    if (to == MoveTo::queue && queue.empty())
      return fail(Errc::invalid_argument, "set_move: empty queue name");
    bool notify = false;
    {
      std::lock_guard lock(mu_);
      auto& set = sets_[index(kind)];
      auto it = find_locked(set, score, jid);
      if (it == set.end()) return not_in_set(kind, score, jid);
      set.erase(it);
      if (to == MoveTo::dead) {
        add_dead_locked(jid, new_payload, now, limits);
        return {};
      }
      enqueue_locked(queue, 0, Job{next_id_++, jid, new_payload, store_util::wall_now()}, false);
      notify = waiters_ > 0;
    }
    if (notify) cv_.notify_all();
    return {};
  }

  Status set_clear(SetKind kind) override {
    std::lock_guard lock(mu_);
    sets_[index(kind)].clear();
    return {};
  }

  Result<std::vector<ProcessRecord>> processes(double now) override {
    std::lock_guard lock(mu_);
    prune_locked(now);
    std::vector<ProcessRecord> out;
    out.reserve(processes_.size());
    for (const auto& [id, p] : processes_) out.push_back(p.record);
    return out;
  }

  Result<std::vector<WorkRecord>> workers(double now) override {
    std::lock_guard lock(mu_);
    prune_locked(now);
    std::vector<WorkRecord> out;
    for (const auto& [id, p] : processes_) out.insert(out.end(), p.work.begin(), p.work.end());
    return out;
  }

  Status set_paused(const std::string& queue, bool paused) override {
    std::lock_guard lock(mu_);
    if (paused)
      paused_.insert(queue);
    else
      paused_.erase(queue);
    return {};
  }

  Result<std::vector<std::string>> paused_queues() override {
    std::lock_guard lock(mu_);
    return std::vector<std::string>(paused_.begin(), paused_.end());
  }

  Result<bool> lock_acquire(const std::string& key, const std::string& holder, double now,
                            double expires_at) override {
    std::lock_guard lock(mu_);
    auto it = locks_.find(key);
    if (it != locks_.end() && it->second.second > now) return false;
    locks_[key] = {holder, expires_at};
    return true;
  }

  Status lock_release(const std::string& key, const std::string& holder) override {
    std::lock_guard lock(mu_);
    auto it = locks_.find(key);
    if (it != locks_.end() && it->second.first == holder) locks_.erase(it);
    return {};
  }

  Result<bool> lock_extend(const std::string& key, const std::string& holder,
                           double expires_at) override {
    std::lock_guard lock(mu_);
    auto it = locks_.find(key);
    if (it == locks_.end() || it->second.first != holder) return false;
    it->second.second = expires_at;
    return true;
  }

  // ---- status: the records in book_, the rest from where the job sits ----

  Status record_status(std::span<const StatusUpdate> updates) override {
    for (const auto& u : updates) book_.record(u);
    return {};
  }

  Result<JobStatus> job_status(const std::string& jid, double now) override {
    auto rec = book_.find(jid, now);
    if (rec && is_final(rec->state)) return *rec;
    std::optional<JobStatus> where;
    {
      std::lock_guard lock(mu_);
      where = locate_locked(jid);
    }
    if (!where) return rec.value_or(JobStatus{});
    if (rec) {
      if (where->error.empty()) where->error = rec->error;
      if (where->state == JobState::running && where->process.empty())
        where->process = rec->process;
      where->cancel_requested = rec->cancel_requested;
      where->updated_at = rec->updated_at;
    }
    return *where;
  }

  Result<JobStatus> wait_status(const std::string& jid,
                                std::chrono::milliseconds timeout) override {
    book_.wait_final(jid, timeout);
    return job_status(jid, store_util::wall_now());
  }

  Result<JobState> cancel_job(const std::string& jid, double now, double ttl) override {
    bool removed = false;
    {
      std::lock_guard lock(mu_);
      removed = remove_waiting_locked(jid);
    }
    if (!removed) return book_.request_cancel(jid, now, ttl);
    book_.record(StatusUpdate{jid, JobState::cancelled, {}, {}, {}, now, ttl});
    return JobState::cancelled;
  }

  Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids) override {
    return book_.requested(jids);
  }

  Status signal(const std::string& identity, const std::string& sig) override {
    std::lock_guard lock(mu_);
    signals_[identity].push_back(sig);
    return {};
  }

 private:
  static std::size_t index(SetKind kind) { return static_cast<std::size_t>(kind); }

  static Error not_in_set(SetKind kind, double score, const std::string& jid) {
    return fail(Errc::not_found, "no entry " + store_util::format_score(score) + "-" + jid +
                                     " in the " + std::string(to_string(kind)) + " set");
  }

  // Callers pass scores they read back from set_range or typed from the UI's
  // "<score>-<jid>" names, so allow for the text round trip's rounding.
  static SortedSet::iterator find_locked(SortedSet& set, double score, const std::string& jid) {
    constexpr double kSlack = 1e-3;
    for (auto it = set.lower_bound(SetKey{score - kSlack, std::string()});
         it != set.end() && it->first.first <= score + kSlack; ++it)
      if (it->first.second == jid) return it;
    return set.end();
  }

  // Where `jid` sits (a linear scan: the memory store is for tests and
  // single processes), or nullopt.
  std::optional<JobStatus> locate_locked(const std::string& jid) const {
    auto at = [](JobState state, std::string error = {}) {
      JobStatus s;
      s.state = state;
      s.error = std::move(error);
      return s;
    };
    for (const auto& [name, q] : queues_)
      for (const auto& [prio, lane] : q.lanes)
        for (const auto& job : lane)
          if (job.jid == jid) return at(JobState::queued);
    for (const auto& [id, c] : claimed_)
      if (c.jid == jid) {
        JobStatus s = at(JobState::running);
        s.process = c.owner;  // the claim's owner runs it
        return s;
      }
    const std::pair<SetKind, JobState> sets[] = {{SetKind::scheduled, JobState::scheduled},
                                                 {SetKind::retry, JobState::retrying},
                                                 {SetKind::dead, JobState::dead}};
    for (const auto& [kind, state] : sets)
      for (const auto& [key, payload] : sets_[index(kind)])
        if (key.second == jid)
          return at(state, kind == SetKind::scheduled ? std::string()
                                                      : store_util::payload_error(payload));
    return std::nullopt;
  }

  // Removes `jid` from its queue, the scheduled or the retry set; whether it was there.
  bool remove_waiting_locked(const std::string& jid) {
    for (auto& [name, q] : queues_)
      for (auto& [prio, lane] : q.lanes)
        for (auto j = lane.begin(); j != lane.end(); ++j)
          if (j->jid == jid) {
            lane.erase(j);
            --q.size;
            return true;
          }
    for (SetKind kind : {SetKind::scheduled, SetKind::retry}) {
      auto& set = sets_[index(kind)];
      for (auto it = set.begin(); it != set.end(); ++it)
        if (it->first.second == jid) {
          set.erase(it);
          return true;
        }
    }
    return false;
  }

  void enqueue_locked(const std::string& queue, int priority, Job job, bool front) {
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
  void take_locked(std::span<const std::string> names, std::size_t max, const std::string& owner,
                   std::vector<Fetched>& out) {
    const double now = store_util::wall_now();
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

  static const Job* head_locked(const Queue& q) {
    for (const auto& [prio, lane] : q.lanes)
      if (!lane.empty()) return &lane.front();
    return nullptr;
  }

  bool orphaned_locked(const Claim& c, double now, double grace) const {
    auto p = processes_.find(c.owner);
    if (p != processes_.end()) return !p->second.live(now);
    return c.claimed_at < now - grace;
  }

  // Sidekiq's dead-set insert (redis-layout.md §6): add, drop entries older than
  // max_age, then keep at most max_jobs - 1 (its ZREMRANGEBYRANK 0 -max).
  void add_dead_locked(const std::string& jid, const std::string& payload, double now,
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

  void prune_locked(double now) {
    std::erase_if(processes_, [now](const auto& kv) { return !kv.second.live(now); });
  }

  std::int64_t counter_locked(const std::string& key) const {
    auto it = counters_.find(key);
    return it == counters_.end() ? 0 : it->second;
  }

  std::mutex mu_;
  std::condition_variable cv_;                       // fetchers wait here; guarded by mu_
  std::size_t waiters_ = 0;                          // guarded by mu_
  std::int64_t next_id_ = 1;                         // guarded by mu_
  std::map<std::string, Queue> queues_;              // guarded by mu_
  std::unordered_map<std::int64_t, Claim> claimed_;  // guarded by mu_
  SortedSet sets_[3];                                // guarded by mu_; indexed by SetKind
  std::map<std::string, Process> processes_;         // guarded by mu_
  std::unordered_map<std::string, std::vector<std::string>> signals_;  // guarded by mu_
  std::unordered_map<std::string, std::int64_t> counters_;             // guarded by mu_
  std::set<std::string> paused_;                                       // guarded by mu_
  // key -> (holder, expires_at); expired entries are overwritten on acquire.
  std::unordered_map<std::string, std::pair<std::string, double>> locks_;  // guarded by mu_
  store_util::StatusBook book_;  // its own mutex; taken after mu_, never before
};

}  // namespace

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
