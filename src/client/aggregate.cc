#include "errand/aggregate.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"

namespace errand {

namespace {

class Aggregate final : public AggregateStore {
 public:
  Aggregate(std::shared_ptr<Store> inner, AggregateOptions o)
      : AggregateStore(std::move(inner)), o_(o) {
    if (o_.max_batch == 0) o_.max_batch = 1;
    if (o_.max_buffered < o_.max_batch) o_.max_buffered = o_.max_batch;
    writer_ = std::thread([this] { run(); });
  }

  ~Aggregate() override {
    (void)flush(std::chrono::seconds(30));
    {
      std::lock_guard lk(mu_);
      closing_ = true;
    }
    cv_work_.notify_all();
    writer_.join();
    std::lock_guard lk(mu_);
    if (!front_.empty())
      log::error("aggregate stage closed with unwritten jobs",
                 {{"jobs", std::to_string(front_.size())}});
  }

  Status push(const PushParams& p) override {
    std::unique_lock lk(mu_);
    auto deadline = std::chrono::steady_clock::now() + o_.push_timeout;
    // A batch is written as enqueued at its newest push's time.
    latest_now_ = std::max(latest_now_, p.now);
    for (const auto& job : p.jobs) {
      // Back-pressure: wait for room rather than grow without bound.
      if (front_.size() + in_flight_ >= o_.max_buffered) {
        cv_room_.notify_all();
        cv_work_.notify_one();
        if (!cv_room_.wait_until(lk, deadline,
                                 [&] { return front_.size() + in_flight_ < o_.max_buffered; }))
          return fail(Errc::busy, "aggregate buffer full (" + std::to_string(o_.max_buffered) +
                                      " jobs) for " + std::to_string(o_.push_timeout.count()) +
                                      " ms: the store is not keeping up" +
                                      (last_error_.empty() ? "" : " (" + last_error_ + ")"));
      }
      front_.push_back(job);
      ++accepted_;
    }
    // Wake the writer when a batch is full; otherwise it wakes on its interval.
    if (front_.size() >= o_.max_batch) cv_work_.notify_one();
    return {};
  }

  Status flush(std::chrono::milliseconds timeout) override {
    std::unique_lock lk(mu_);
    const std::uint64_t target = accepted_;
    want_flush_ = true;
    cv_work_.notify_one();
    if (!cv_room_.wait_for(lk, timeout, [&] { return written_ >= target; }))
      return fail(Errc::unavailable, "aggregate flush timed out with " +
                                         std::to_string(target - written_) + " jobs unwritten" +
                                         (last_error_.empty() ? "" : ": " + last_error_));
    return {};
  }

  AggregateStats aggregate_stats() const override {
    std::lock_guard lk(mu_);
    return AggregateStats{accepted_, written_, batches_, failures_, front_.size() + in_flight_};
  }
  // Every other call goes straight to the wrapped store (ForwardingStore).

 private:
  void run() {
    std::vector<PushItem> back;  // the writer's half of the double buffer
    int failures_in_row = 0;
    std::unique_lock lk(mu_);
    for (;;) {
      cv_work_.wait_for(lk, o_.flush_interval,
                        [&] { return closing_ || want_flush_ || front_.size() >= o_.max_batch; });
      if (front_.empty()) {
        want_flush_ = false;
        if (closing_) return;
        continue;
      }
      // Swap: callers keep appending to a fresh front buffer while we write.
      back.swap(front_);
      in_flight_ = back.size();
      const double now = latest_now_;
      lk.unlock();
      std::size_t done = 0;
      std::string error;
      while (done < back.size()) {
        std::size_t n = std::min(o_.max_batch, back.size() - done);
        auto st =
            inner_->push({.jobs = std::span<const PushItem>(back.data() + done, n), .now = now});
        if (!st) {
          error = st.message();
          break;
        }
        done += n;
        std::lock_guard g(mu_);
        written_ += n;
        in_flight_ -= n;
        ++batches_;
        cv_room_.notify_all();
      }
      lk.lock();
      if (done < back.size()) {
        // Keep the unwritten jobs, ahead of anything pushed since, and back off.
        ++failures_;
        last_error_ = error;
        front_.insert(front_.begin(),
                      std::make_move_iterator(back.begin() + static_cast<std::ptrdiff_t>(done)),
                      std::make_move_iterator(back.end()));
        in_flight_ = 0;
        back.clear();
        if (failures_in_row++ % 20 == 0)
          log::warn("aggregate stage: store write failed; will retry", {{"error", error}});
        // Closing with the store down: give up after the flush already
        // waited; the destructor reports what could not be written.
        if (closing_) return;
        auto pause = std::chrono::milliseconds(std::min(50 * failures_in_row, 2000));
        cv_work_.wait_for(lk, pause, [&] { return closing_; });
        continue;
      }
      failures_in_row = 0;
      last_error_.clear();
      back.clear();
      if (front_.empty()) want_flush_ = false;
    }
  }

  AggregateOptions o_;
  mutable std::mutex mu_;
  std::condition_variable cv_work_;  // wakes the writer
  std::condition_variable cv_room_;  // wakes pushers (room) and flushers (progress)
  std::vector<PushItem> front_;      // guarded by mu_: the callers' half
  std::size_t in_flight_ = 0;        // guarded by mu_: swapped out, not yet written
  std::uint64_t accepted_ = 0;       // guarded by mu_
  std::uint64_t written_ = 0;        // guarded by mu_
  std::uint64_t batches_ = 0;        // guarded by mu_
  std::uint64_t failures_ = 0;       // guarded by mu_
  double latest_now_ = 0;            // guarded by mu_: the newest push's time
  std::string last_error_;           // guarded by mu_
  bool want_flush_ = false;          // guarded by mu_
  bool closing_ = false;             // guarded by mu_
  std::thread writer_;
};

}  // namespace

std::shared_ptr<AggregateStore> make_aggregate(std::shared_ptr<Store> store,
                                               AggregateOptions options) {
  return std::make_shared<Aggregate>(std::move(store), options);
}

}  // namespace errand
