// EventHub: job events delivered in-process (the memory store's
// publish_events / subscribe_events). publish() calls every live
// subscriber's callback on the publishing thread, in order.
//
// Thread safety: every method may be called from many threads at once. A
// subscription's destructor waits for a callback of it that is running, so
// no callback runs after it returned (destroying it from its own callback
// deadlocks, as EventSubscription says).
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "errand/events.h"

namespace errand::store_util {

class EventHub {
 public:
  std::unique_ptr<EventSubscription> subscribe(EventCallback on_event);
  void publish(std::span<const JobEvent> events);

 private:
  struct Subscriber {
    std::mutex mu;       // held while the callback runs
    EventCallback call;  // guarded by mu
    bool live = true;    // guarded by mu
  };
  class Handle;

  std::mutex mu_;
  std::vector<std::weak_ptr<Subscriber>> subscribers_;  // guarded by mu_
};

}  // namespace errand::store_util
