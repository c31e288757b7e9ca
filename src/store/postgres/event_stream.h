// A job event subscription on PostgreSQL (Store::subscribe_events): a thread
// with a connection of its own that LISTENs on the events channel and hands
// each NOTIFY's payload (one event as JSON) to the callback. It reconnects
// with backoff when cut off (events sent meanwhile are missed: delivery is
// at most once). Owns copies of what it needs, so it may outlive its store.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "errand/events.h"
#include "store/subscription_thread.h"

namespace errand::pg {

class EventStream : public EventSubscription {
 public:
  EventStream(std::string conninfo, std::string where, std::string channel, EventCallback call);
  /// Stops the thread; no callback runs after it returned.
  ~EventStream() override;
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  /// Starts the thread; false if its stop pipe cannot be made.
  bool start();
  /// Blocks until the first LISTEN took effect or `timeout` passed; whether it did.
  bool wait_listening(std::chrono::milliseconds timeout);

 private:
  /// One connection's life: LISTEN, deliver until stopped or cut off;
  /// whether it connected.
  bool listen_once(int stop_fd);

  const std::string conninfo_, where_, channel_;
  const EventCallback call_;
  std::atomic<bool> listening_{false};
  store_util::SubscriptionThread thread_;  // last: stopped before the rest goes
};

}  // namespace errand::pg
