#include "server/service.h"

namespace errand {

ServiceThread::ServiceThread(std::unique_ptr<Service> service) : service_(std::move(service)) {}

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
    lk.unlock();
    service_->run_once();
    deadline = clock::now() + service_->next_interval();
    lk.lock();
  }
}

}  // namespace errand
