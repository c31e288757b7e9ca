// The in-process store, admin side: stats, history, queues, sets, processes
// and workers; pause, locks and signals (see store_impl.h).
#include "store/memory/store_impl.h"

namespace errand::memory {

Result<Stats> MemoryStore::stats(double now) {
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

Result<std::vector<std::int64_t>> MemoryStore::history(std::string_view what, int days,
                                                       double now) {
  if (what != "processed" && what != "failed")
    return fail(Errc::invalid_argument,
                "history: expected \"processed\" or \"failed\", got \"" + std::string(what) + "\"");
  std::vector<std::int64_t> out;
  std::lock_guard lock(mu_);
  for (int d = 0; d < days; ++d)
    out.push_back(counter_locked(std::string(what) + ":" + store_util::utc_day(now - d * 86400.0)));
  return out;
}

Status MemoryStore::reset_stats() {
  std::lock_guard lock(mu_);
  // As Sidekiq's Stats#reset: the lifetime counters only; the history stays.
  counters_["processed"] = 0;
  counters_["failed"] = 0;
  return {};
}

Result<std::vector<QueueInfo>> MemoryStore::queues(double now) {
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

Result<std::vector<std::string>> MemoryStore::queue_jobs(const std::string& queue,
                                                         std::size_t offset, std::size_t count) {
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

Status MemoryStore::queue_delete(const std::string& queue, const std::string& jid) {
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

Status MemoryStore::clear_queue(const std::string& queue) {
  std::lock_guard lock(mu_);
  queues_.erase(queue);
  return {};
}

Result<std::vector<SetEntry>> MemoryStore::set_range(SetKind kind, std::size_t offset,
                                                     std::size_t count) {
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

Result<SetEntry> MemoryStore::set_find(SetKind kind, double score, const std::string& jid) {
  std::lock_guard lock(mu_);
  auto& set = sets_[index(kind)];
  auto it = find_locked(set, score, jid);
  if (it == set.end()) return not_in_set(kind, score, jid);
  return SetEntry{it->first.first, it->first.second, it->second};
}

Status MemoryStore::set_delete(SetKind kind, double score, const std::string& jid) {
  std::lock_guard lock(mu_);
  auto& set = sets_[index(kind)];
  auto it = find_locked(set, score, jid);
  if (it == set.end()) return not_in_set(kind, score, jid);
  set.erase(it);
  return {};
}

Status MemoryStore::set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                             const std::string& queue, const std::string& new_payload, double now,
                             const DeadLimits& limits) {
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
    enqueue_locked(queue, 0, Job{next_id_++, jid, new_payload, now}, false);
    notify = waiters_ > 0;
  }
  if (notify) cv_.notify_all();
  return {};
}

Status MemoryStore::set_clear(SetKind kind) {
  std::lock_guard lock(mu_);
  sets_[index(kind)].clear();
  return {};
}

Result<std::vector<ProcessRecord>> MemoryStore::processes(double now) {
  std::lock_guard lock(mu_);
  prune_locked(now);
  std::vector<ProcessRecord> out;
  out.reserve(processes_.size());
  for (const auto& [id, p] : processes_) out.push_back(p.record);
  return out;
}

Result<std::vector<WorkRecord>> MemoryStore::workers(double now) {
  std::lock_guard lock(mu_);
  prune_locked(now);
  std::vector<WorkRecord> out;
  for (const auto& [id, p] : processes_) out.insert(out.end(), p.work.begin(), p.work.end());
  return out;
}

Status MemoryStore::set_paused(const std::string& queue, bool paused) {
  std::lock_guard lock(mu_);
  if (paused)
    paused_.insert(queue);
  else
    paused_.erase(queue);
  return {};
}

Result<bool> MemoryStore::lock_acquire(const std::string& key, const std::string& holder,
                                       double now, double expires_at) {
  std::lock_guard lock(mu_);
  auto it = locks_.find(key);
  if (it != locks_.end() && it->second.second > now) return false;
  locks_[key] = {holder, expires_at};
  return true;
}

Status MemoryStore::lock_release(const std::string& key, const std::string& holder) {
  std::lock_guard lock(mu_);
  auto it = locks_.find(key);
  if (it != locks_.end() && it->second.first == holder) locks_.erase(it);
  return {};
}

Result<bool> MemoryStore::lock_extend(const std::string& key, const std::string& holder, double,
                                      double expires_at) {
  std::lock_guard lock(mu_);
  auto it = locks_.find(key);
  if (it == locks_.end() || it->second.first != holder) return false;
  it->second.second = expires_at;
  return true;
}

Status MemoryStore::signal(const std::string& identity, const std::string& sig) {
  std::lock_guard lock(mu_);
  signals_[identity].push_back(sig);
  return {};
}

// Callers pass scores they read back from set_range or typed from the UI's
// "<score>-<jid>" names, so allow for the text round trip's rounding.
SortedSet::iterator MemoryStore::find_locked(SortedSet& set, double score, const std::string& jid) {
  constexpr double kSlack = 1e-3;
  for (auto it = set.lower_bound(SetKey{score - kSlack, std::string()});
       it != set.end() && it->first.first <= score + kSlack; ++it)
    if (it->first.second == jid) return it;
  return set.end();
}

}  // namespace errand::memory
