#include "server/acker.h"

#include <algorithm>

#include "core/log.h"
#include "server/transition.h"

namespace errand {

Acker::Acker(Store& store, std::size_t cap, std::size_t threads)
    : store_(store),
      cap_(std::max<std::size_t>(cap, 1)),
      nthreads_(std::clamp<std::size_t>(threads, 1, kMaxThreads)) {}

std::size_t Acker::threads_for(const Store& store) {
  return store.scheme() == "redis" ? kMaxThreads : 1;
}

Acker::~Acker() { stop(); }

void Acker::start() {
  MutexLock lk(mu_);
  if (running_ || stopping_) return;
  running_ = true;
  for (std::size_t i = 0; i < nthreads_; ++i) threads_.emplace_back([this] { loop(); });
}

void Acker::add(Fetched job) { add(std::move(job), StatusUpdate{}); }

void Acker::add(Fetched job, StatusUpdate status) {
  const bool has_status = !status.jid.empty();
  MutexLock lk(mu_);
  has_room_.wait(lk,
                 [&]() REQUIRES(mu_) { return pending_.size() < cap_ || stopping_ || !running_; });
  if (stopping_ || !running_) {
    // Not started, or shutting down (the thread may have taken its last
    // batch already): ack it here and now.
    lk.unlock();
    std::vector<Fetched> one;
    one.push_back(std::move(job));
    std::vector<StatusUpdate> mine;
    if (has_status) mine.push_back(std::move(status));
    flush(one, mine, true);
    return;
  }
  pending_.push_back(std::move(job));
  ++added_;
  if (has_status) statuses_.push_back(std::move(status));
  if (pending_.size() == 1) has_work_.notify_one();
}

void Acker::stop() {
  {
    MutexLock lk(mu_);
    if (stopping_) return;
    stopping_ = true;
    stop_flag_.store(true);
  }
  has_work_.notify_all();  // every thread: each returns once nothing is pending
  has_room_.notify_all();
  stored_cv_.notify_all();
  // Only stop() joins, and only once (stopping_ is set once, under mu_).
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void Acker::loop() {
  std::vector<Fetched> batch;
  std::vector<StatusUpdate> statuses;
  MutexLock lk(mu_);
  for (;;) {
    has_work_.wait(lk, [&]() REQUIRES(mu_) { return !pending_.empty() || stopping_; });
    // Once stopping, add() acks inline; what was queued before is stored here.
    if (pending_.empty()) return;
    batch.swap(pending_);
    statuses.swap(statuses_);
    const std::size_t n = batch.size();
    lk.unlock();
    has_room_.notify_all();
    flush(batch, statuses, false);
    batch.clear();
    statuses.clear();
    lk.lock();
    stored_ += n;
    stored_cv_.notify_all();
  }
}

void Acker::sync() {
  MutexLock lk(mu_);
  const std::uint64_t target = added_;
  stored_cv_.wait(lk, [&]() REQUIRES(mu_) { return stored_ >= target || stopping_ || !running_; });
}

void Acker::flush(std::vector<Fetched>& batch, std::vector<StatusUpdate>& statuses, bool stopping) {
  if (!statuses.empty() && store_.capabilities().ack_with_status) {
    // One atomic step (PostgreSQL: one commit instead of two).
    Status st = retry_transition(
        "ack", [&] { return store_.ack_with_status(batch, statuses); },
        [&] { return stopping || stop_flag_.load(); });
    // Stored, or given up on at shutdown (logged): the claims return
    // through the rescuer, as for a plain ack.
    if (st.ok() || transient(st)) return;
    // Refused: the acks go on their own (both writes are idempotent), so
    // that a status the store refuses never holds a job's ack back.
  }
  store_batch(batch, stopping);
  store_statuses(statuses);
}

void Acker::store_batch(std::vector<Fetched>& batch, bool stopping) {
  Status st = retry_transition(
      "ack", [&] { return store_.ack(batch); }, [&] { return stopping || stop_flag_.load(); });
  if (st.ok() || transient(st)) return;  // stored, or given up on at shutdown (logged)
  if (batch.size() > 1) {
    // One job's trouble must not leave the others claimed: one by one.
    for (auto& job : batch) {
      std::vector<Fetched> one;
      one.push_back(std::move(job));
      store_batch(one, stopping);
    }
    return;
  }
  log::error("store refused an acknowledgement; the job stays claimed and runs again",
             {{"error", st.message()}});
}

void Acker::store_statuses(std::vector<StatusUpdate>& statuses) {
  if (statuses.empty()) return;
  if (Status st = store_.record_status(statuses); !st)
    log::warn("cannot record job status",
              {{"jobs", std::to_string(statuses.size())}, {"error", st.message()}});
}

}  // namespace errand
