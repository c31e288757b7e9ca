// The thread behind a store's job-event subscription (Store::subscribe_events
// on Redis and PostgreSQL): it runs a session (connect, then deliver until
// cut off or stopped) again and again, waiting between attempts with a
// backoff (50 ms, doubling to 2 s; reset after a session that connected),
// until stopped. A session waits on its connection's socket and on
// stop_fd(), which becomes readable when stop() is called.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "errand/events.h"
#include "errand/status.h"

namespace errand::store_util {

class SubscriptionThread {
 public:
  /// One connection's life; returns whether it connected.
  using Session = std::function<bool(int stop_fd)>;

  SubscriptionThread() = default;
  /// stop().
  ~SubscriptionThread();
  SubscriptionThread(const SubscriptionThread&) = delete;
  SubscriptionThread& operator=(const SubscriptionThread&) = delete;

  /// Starts the thread running `session`; unavailable if its stop pipe
  /// cannot be made.
  Status start(Session session);
  /// Wakes the session and joins the thread; no session runs after it
  /// returned. Idempotent.
  void stop();
  bool stopping() const { return stopping_.load(); }
  int stop_fd() const { return stop_pipe_[0]; }

 private:
  void run(const Session& session);

  std::thread thread_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
};

/// Hands `event` to a subscriber's callback; a callback that throws is
/// logged, and the subscription goes on.
void deliver_event(const EventCallback& call, const JobEvent& event);

}  // namespace errand::store_util
