// The Store defaults for progress and job events (stores without a status
// record or an event channel), and ForwardingStore's forwards of them.
#include "errand/store.h"

namespace errand {

Status Store::record_progress(std::span<const ProgressUpdate>) {
  return Error(Errc::unsupported,
               std::string(scheme()) + " store keeps no job status, so no progress either");
}

Status Store::publish_events(std::span<const JobEvent>) {
  return Error(Errc::unsupported, std::string(scheme()) + " store has no job event channel");
}

Result<std::unique_ptr<EventSubscription>> Store::subscribe_events(EventCallback) {
  return Error(Errc::unsupported, std::string(scheme()) + " store has no job event channel");
}

Status ForwardingStore::record_progress(std::span<const ProgressUpdate> updates) {
  return inner_->record_progress(updates);
}

Status ForwardingStore::publish_events(std::span<const JobEvent> events) {
  return inner_->publish_events(events);
}

Result<std::unique_ptr<EventSubscription>> ForwardingStore::subscribe_events(
    EventCallback on_event) {
  return inner_->subscribe_events(std::move(on_event));
}

}  // namespace errand
