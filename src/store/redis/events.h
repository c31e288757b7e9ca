// The Redis store's progress records and job events (redis-layout.md §11):
//   errand:status:<jid>   HASH fields progress, progress_message (beside the
//                         status fields of status.h), written without
//                         touching the state
//   errand:events         the pub/sub channel every job event is PUBLISHed
//                         on, one JSON object per message (encode_event)
// A subscription is a thread with a connection of its own, SUBSCRIBEd to
// the channel; it reconnects with backoff when cut off (events published
// meanwhile are missed: delivery is at most once, as pub/sub's).
//
// Thread safety: as the store.
#pragma once

#include <memory>
#include <span>

#include "errand/store.h"
#include "store/redis/connection.h"

namespace errand::redis {

class EventChannel {
 public:
  EventChannel(Client& client, std::string prefix) : client_(client), prefix_(std::move(prefix)) {}

  Status progress(std::span<const ProgressUpdate> updates);
  Status publish(std::span<const JobEvent> events);
  Result<std::unique_ptr<EventSubscription>> subscribe(EventCallback on_event);

  std::string channel() const { return prefix_ + "errand:events"; }

 private:
  Client& client_;
  const std::string prefix_;
};

}  // namespace errand::redis
