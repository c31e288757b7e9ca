#include "store/memory/event_hub.h"

#include "core/log.h"

namespace errand::store_util {

/// Owns its subscriber; the hub holds it weakly.
class EventHub::Handle : public EventSubscription {
 public:
  explicit Handle(std::shared_ptr<Subscriber> s) : s_(std::move(s)) {}
  ~Handle() override {
    std::lock_guard lk(s_->mu);  // waits for a callback running now
    s_->live = false;
  }

 private:
  std::shared_ptr<Subscriber> s_;
};

std::unique_ptr<EventSubscription> EventHub::subscribe(EventCallback on_event) {
  auto s = std::make_shared<Subscriber>();
  s->call = std::move(on_event);
  std::lock_guard lk(mu_);
  std::erase_if(subscribers_, [](const auto& w) { return w.expired(); });
  subscribers_.push_back(s);
  return std::make_unique<Handle>(std::move(s));
}

void EventHub::publish(std::span<const JobEvent> events) {
  std::vector<std::shared_ptr<Subscriber>> live;
  {
    std::lock_guard lk(mu_);
    for (const auto& w : subscribers_)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  for (const auto& s : live) {
    std::lock_guard lk(s->mu);
    if (!s->live || !s->call) continue;
    for (const auto& e : events) {
      try {
        s->call(e);
      } catch (...) {
        log::error("a job event subscriber threw", {{"jid", e.jid}});
      }
    }
  }
}

}  // namespace errand::store_util
