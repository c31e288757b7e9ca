// Client::subscribe (job events from every store of the client that has an
// event channel) and the `enqueued` events of ClientOptions::publish_events.
#include "errand/client.h"
#include "errand/payload_limits.h"

namespace errand {

Result<Subscription> Client::subscribe(EventCallback on_event) const {
  std::vector<std::unique_ptr<EventSubscription>> parts;
  std::optional<Error> unsupported;
  for (const auto& store : queues_->stores()) {
    auto sub = store->subscribe_events(on_event);
    if (sub) {
      parts.push_back(std::move(sub).value());
      continue;
    }
    if (sub.error().code() != Errc::unsupported) return sub.error();
    unsupported = sub.error();
  }
  if (parts.empty())
    return unsupported ? *unsupported
                       : Error(Errc::unsupported, "no store to subscribe to job events on");
  return Subscription(std::move(parts));
}

void Client::publish_enqueued(Store& store, std::span<const PushItem> batch) const {
  const double at = std::chrono::duration<double>(now().time_since_epoch()).count();
  std::vector<JobEvent> events;
  events.reserve(batch.size());
  for (const auto& item : batch) {
    JobEvent e;
    e.kind = JobEventKind::enqueued;
    e.jid = item.jid;
    e.queue = item.queue;
    e.at = at;
    if (auto doc = payload::parse(item.payload); doc && doc->is_object())
      if (auto c = doc->find("class"); c != doc->end() && c->is_string())
        e.job_class = c->get<std::string>();
    events.push_back(std::move(e));
  }
  (void)store.publish_events(events);  // the jobs are enqueued either way
}

}  // namespace errand
