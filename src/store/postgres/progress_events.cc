// The PostgreSQL store's progress records (job_status, schema v3) and job
// events (NOTIFY on "errand:<schema>:events", one JSON object per event;
// subscriptions in event_stream.cc).
#include "store/postgres/event_stream.h"
#include "store/postgres/store_impl.h"

namespace errand::pg {

Status PgStore::record_progress(std::span<const ProgressUpdate> updates) {
  if (updates.empty()) return {};
  return guarded("record_progress", [&]() -> Status {
    Lease conn = lease();
    for (const auto& u : updates)
      conn->run(
          kProgressRecord,
          Params().add(u.jid).add(u.now).add(u.now + u.ttl_seconds).add(u.fraction).add(u.message));
    return {};
  });
}

Status PgStore::publish_events(std::span<const JobEvent> events) {
  if (events.empty()) return {};
  std::vector<std::string> texts;
  texts.reserve(events.size());
  for (const auto& e : events) texts.push_back(encode_event(e));
  return guarded("publish_events", [&]() -> Status {
    Lease conn = lease();
    conn->run(kEventsNotify, Params().add(events_channel_).add(text_array(texts)));
    return {};
  });
}

Result<std::unique_ptr<EventSubscription>> PgStore::subscribe_events(EventCallback on_event) {
  const auto& o = pool_.options();
  auto stream =
      std::make_unique<EventStream>(o.conninfo, o.where, events_channel_, std::move(on_event));
  if (!stream->start()) return fail(Errc::unavailable, "cannot start the job event listener");
  // Listening before we return, so events published after subscribe are seen
  // (unless the server cannot be reached now: the stream keeps trying).
  stream->wait_listening(std::chrono::seconds(5));
  return std::unique_ptr<EventSubscription>(std::move(stream));
}

}  // namespace errand::pg
