#include "server/fetcher.h"

#include <algorithm>
#include <map>
#include <thread>

#include "core/log.h"

namespace errand {

std::vector<std::string> queue_order(Source& source, std::mt19937& rng) {
  const auto snapshot = source.paused.load();
  const std::vector<std::string>& paused = *snapshot;
  auto is_paused = [&](const std::string& q) {
    return std::find(paused.begin(), paused.end(), q) != paused.end();
  };
  if (!source.weighted) {
    if (paused.empty()) return source.strict;
    std::vector<std::string> out;
    for (const auto& q : source.strict)
      if (!is_paused(q)) out.push_back(q);
    return out;
  }
  std::vector<const std::string*> bag;
  for (const auto& q : source.queues)
    for (int i = 0; i < std::max(q.weight, 1); ++i) bag.push_back(&q.name);
  std::shuffle(bag.begin(), bag.end(), rng);
  std::vector<std::string> out;
  for (const auto* q : bag)
    if (std::find(out.begin(), out.end(), *q) == out.end() && !is_paused(*q)) out.push_back(*q);
  return out;
}

void requeue_works(std::vector<Work> works, double now, std::string_view why) {
  std::map<Source*, std::vector<Fetched>> by_source;
  for (auto& w : works) by_source[w.source].push_back(std::move(w.job));
  for (auto& [src, jobs] : by_source) {
    auto st = src->store->requeue({.jobs = jobs, .now = now});
    if (!st)
      log::error(
          "could not requeue jobs; they return to their queue when this process's claim expires",
          {{"jobs", std::to_string(jobs.size())}, {"error", st.message()}, {"for", why}});
    else
      log::info(why, {{"jobs", std::to_string(jobs.size())}});
  }
}

Fetcher::Fetcher(Runtime& rt) : rt_(rt) {}

std::optional<Work> Fetcher::next() {
  MutexLock lk(mu_);
  ++waiting_;
  for (;;) {
    if (quiet_) {
      --waiting_;
      return std::nullopt;
    }
    if (!buffer_.empty()) {
      Work w = std::move(buffer_.front());
      buffer_.pop_front();
      --waiting_;
      // Read ahead: refill before the buffer runs dry (below three
      // quarters), without blocking, so the other threads keep running
      // buffered jobs during the round trip.
      const std::size_t ahead = read_ahead();
      if (ahead > 0 && !fetching_ && buffer_.size() < ahead * 3 / 4)
        fill(ahead - buffer_.size(), false);
      return w;
    }
    if (!fetching_) {
      std::size_t want = std::max<std::size_t>(waiting_, 1);
      std::size_t cap = rt_.options.fetch_batch ? rt_.options.fetch_batch
                                                : static_cast<std::size_t>(rt_.options.concurrency);
      fill(std::min(want, std::max<std::size_t>(cap, 1)) + read_ahead(), true);
      continue;
    }
    cv_.wait(lk);
  }
}

void Fetcher::quiet() {
  MutexLock lk(mu_);
  quiet_ = true;
  cv_.notify_all();
}

std::vector<Work> Fetcher::drain() {
  MutexLock lk(mu_);
  cv_.wait(lk, [&]() REQUIRES(mu_) { return !fetching_; });
  std::vector<Work> out(std::make_move_iterator(buffer_.begin()),
                        std::make_move_iterator(buffer_.end()));
  buffer_.clear();
  return out;
}

void Fetcher::fill(std::size_t want, bool block) {
  fetching_ = true;
  // Store I/O without the lock. The caller's MutexLock still owns mu_ and
  // unlocks it at its end, so mu_ is locked again before this returns or
  // throws.
  std::vector<Work> got;
  mu_.unlock();
  try {
    got = fetch_once(want, block);
  } catch (...) {
    mu_.lock();
    throw;
  }
  mu_.lock();
  fetching_ = false;
  for (auto& w : got) buffer_.push_back(std::move(w));
  // An empty blocking fetch wakes nobody: its thread fetches again at once
  // (next() loops), so the idle threads sleep until there is work, rather
  // than all waking after every empty wait. Jobs, the end of a read-ahead
  // (its thread goes off to run a job) and quiet (drain() waits) do wake.
  if (!got.empty() || !block || quiet_) cv_.notify_all();
}

void Fetcher::note_run(double seconds) {
  // An exponential moving average; a lost update between threads only
  // delays it by a sample.
  const double prev = avg_run_.load(std::memory_order_relaxed);
  avg_run_.store(prev + (seconds - prev) * 0.05, std::memory_order_relaxed);
}

void Fetcher::begin_suspect() {
  suspects_.fetch_add(1);
  std::vector<Work> ahead;
  {
    // What is buffered now; a fetch in flight is not waited for (idle
    // threads refetch at once, so waiting could starve this one).
    MutexLock lk(mu_);
    // Keep one job per waiting thread: those are not ahead, they run now.
    while (buffer_.size() > waiting_) {
      ahead.push_back(std::move(buffer_.back()));
      buffer_.pop_back();
    }
  }
  if (!ahead.empty())
    requeue_works(std::move(ahead), rt_.now(), "returned the jobs claimed ahead of a suspect");
}

void Fetcher::end_suspect() { suspects_.fetch_sub(1); }

std::size_t Fetcher::read_ahead() const {
  if (suspects_.load(std::memory_order_relaxed) > 0) return 0;
  if (avg_run_.load(std::memory_order_relaxed) >= kShortJob) return 0;
  return kReadAheadPerThread * static_cast<std::size_t>(std::max(rt_.options.concurrency, 1));
}

std::vector<Work> Fetcher::fetch_once(std::size_t want, bool block) {
  std::vector<Work> out;
  auto& sources = rt_.sources;
  if (sources.empty()) {
    std::this_thread::sleep_for(std::min(rt_.options.fetch_wait, kWaitSlice));
    return out;
  }
  auto claim = [&](Source& s, std::chrono::milliseconds wait) -> bool {
    auto order = queue_order(s, rng_);
    if (order.empty()) {  // every queue of this store is paused
      std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(500)));
      return false;
    }
    auto got = s.store->fetch(
        {.queues = order, .max = want, .wait = wait, .owner = rt_.identity, .now = rt_.now()});
    if (!got) {
      ++failures_;
      // Log the first failure and then every 50th, so an outage is visible
      // without flooding the log.
      if (failures_ == 1 || failures_ % 50 == 0)
        log::error("fetch failed",
                   {{"store", std::string(s.store->scheme())}, {"error", got.error().message()}});
      // Back off only on a blocking fetch: a read-ahead refill is made by a
      // thread that holds a job, which must not wait for the store's return.
      if (wait.count() > 0) {
        auto backoff =
            std::chrono::milliseconds(std::min(100 * (1 << std::min(failures_, 6)), 5000));
        std::this_thread::sleep_for(backoff);
      }
      return false;
    }
    if (failures_ > 0) {
      log::info("fetch recovered", {{"store", std::string(s.store->scheme())}});
      failures_ = 0;
    }
    for (auto& f : *got) out.push_back(Work{&s, std::move(f)});
    return !out.empty();
  };
  if (sources.size() == 1) {
    claim(*sources[0],
          block ? std::min(rt_.options.fetch_wait, kWaitSlice) : std::chrono::milliseconds(0));
    return out;
  }
  if (!block) {
    for (auto& s : sources)
      if (claim(*s, std::chrono::milliseconds(0))) return out;
    return out;
  }
  // Several stores: one pass without waiting, then a short blocking wait on
  // each store in turn, so no store starves the others.
  for (auto& s : sources)
    if (claim(*s, std::chrono::milliseconds(0))) return out;
  auto wait = std::min(rt_.options.fetch_wait, std::chrono::milliseconds(200));
  claim(*sources[rotate_++ % sources.size()], wait);
  return out;
}

}  // namespace errand
