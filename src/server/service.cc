#include "server/service.h"

namespace errand {

ServiceThread::ServiceThread(std::unique_ptr<Service> service, std::atomic<std::int64_t>* parked)
    : service_(std::move(service)), parked_(parked) {}

ServiceThread::~ServiceThread() { stop(); }

void ServiceThread::start() {
  thread_ = std::jthread([this](std::stop_token st) { loop(st); });
}

void ServiceThread::wake() {
  {
    MutexLock lk(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void ServiceThread::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

void ServiceThread::loop(std::stop_token stop) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + service_->first_delay();
  MutexLock lk(mu_);
  while (!stop.stop_requested()) {
    cv_.wait_until(lk, stop, deadline, [&]() REQUIRES(mu_) { return woken_; });
    if (stop.stop_requested()) break;
    if (woken_) {
      woken_ = false;
      lk.unlock();
      deadline = std::min(deadline, clock::now() + service_->next_interval());
      lk.lock();
      continue;
    }
    if (clock::now() < deadline) continue;
    if (park(lk, stop)) {
      deadline = clock::now() + service_->next_interval();
      continue;
    }
    lk.unlock();
    service_->run_once();
    deadline = clock::now() + service_->next_interval();
    lk.lock();
  }
}

bool ServiceThread::park(MutexLock& lk, const std::stop_token& stop) {
  if (parked_ == nullptr) return false;
  // Counted before idle() is asked: the other side ends the idleness first,
  // then reads the count (both sequentially consistent), so either idle()
  // sees it end or the other side sees this thread and wakes it.
  parked_->fetch_add(1);
  const bool idle = service_->idle();
  if (idle) cv_.wait(lk, stop, [&]() REQUIRES(mu_) { return woken_; });
  parked_->fetch_sub(1);
  return idle;
}

}  // namespace errand
