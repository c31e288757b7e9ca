#include "store/subscription_thread.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"

namespace errand::store_util {

SubscriptionThread::~SubscriptionThread() {
  stop();
  for (int fd : stop_pipe_)
    if (fd >= 0) ::close(fd);
}

Status SubscriptionThread::start(Session session) {
  if (stop_pipe_[0] < 0 && ::pipe(stop_pipe_) != 0)
    return fail(Errc::unavailable, "job events: cannot make the subscription's stop pipe");
  thread_ = std::thread([this, s = std::move(session)] { run(s); });
  return {};
}

void SubscriptionThread::stop() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  const char byte = 1;
  [[maybe_unused]] auto n = ::write(stop_pipe_[1], &byte, 1);
  thread_.join();
}

void SubscriptionThread::run(const Session& session) {
  constexpr auto kFirst = std::chrono::milliseconds(50), kMax = std::chrono::milliseconds(2'000);
  auto backoff = kFirst;
  while (!stopping_) {
    if (session(stop_pipe_[0])) backoff = kFirst;
    if (stopping_) break;
    pollfd p{stop_pipe_[0], POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(backoff.count()));
    backoff = std::min(backoff * 2, kMax);
  }
}

void deliver_event(const EventCallback& call, const JobEvent& event) {
  try {
    call(event);
  } catch (...) {
    log::error("a job event subscriber threw", {{"jid", event.jid}});
  }
}

}  // namespace errand::store_util
