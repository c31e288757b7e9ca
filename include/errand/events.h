// Job events: every state change of a job a worker handles (started,
// progress, succeeded, retrying, dead, cancelled, snoozed), plus enqueued
// from clients that publish. Seen in the worker through
// ServerOptions::on_event, and anywhere else through Client::subscribe when
// the worker publishes them to its store (ServerOptions::publish_events):
// Redis pub/sub, PostgreSQL NOTIFY, in-process for the memory store. See
// docs/workflows.md ("Events") and the JSON format in docs/redis-layout.md.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace errand {

/// What happened to the job.
enum class JobEventKind {
  enqueued,   ///< a client pushed it (ClientOptions::publish_events)
  started,    ///< a worker began perform()
  progress,   ///< perform() reported progress (rate-limited like the stored value)
  succeeded,  ///< perform() returned (or discarded: then dead)
  retrying,   ///< it failed and will run again (error set)
  dead,       ///< it failed for good, was discarded or expired (error set)
  cancelled,  ///< Client::cancel stopped it
  snoozed,    ///< it threw errand::Snooze: it runs again later
};

/// "enqueued", "started", ... as in the JSON form.
std::string_view to_string(JobEventKind kind) noexcept;
/// The inverse of to_string; nullopt for any other text.
std::optional<JobEventKind> job_event_kind_from_string(std::string_view text) noexcept;

/// One event.
struct JobEvent {
  JobEventKind kind = JobEventKind::started;
  std::string jid;
  std::string job_class;  ///< the display class (ActiveJob's wrapped class)
  std::string queue;
  std::string error;               ///< retrying, dead: "ErrorClass: message"
  std::optional<double> progress;  ///< progress: 0 to 1
  std::string message;             ///< progress: the job's message
  std::string process;             ///< the worker's identity ("" for enqueued)
  double at = 0;                   ///< when (epoch seconds)
};

/// The event as one JSON object (docs/redis-layout.md, "Job events"):
/// {"event":"progress","jid":...,"class":...,"queue":...,"at":...,
///  "process":...,"progress":0.42,"message":...,"error":...}; empty fields
/// are left out. Messages and errors longer than 2,000 bytes are cut.
std::string encode_event(const JobEvent& event);
/// Back from that JSON; nullopt for text that is not such an object.
std::optional<JobEvent> decode_event(std::string_view text);

/// Called for each event, on a thread of errand's (the worker's event
/// thread, or a store's subscription thread). Must not throw; should return
/// quickly (events wait behind it).
using EventCallback = std::function<void(const JobEvent&)>;

/// One store's live subscription (Store::subscribe_events): no callback runs
/// once its destructor returned. Do not destroy it from its own callback.
class EventSubscription {
 public:
  virtual ~EventSubscription() = default;
};

/// What Client::subscribe returns: the subscriptions of each store that
/// publishes events. Events flow until it is destroyed or reset(). Movable.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::vector<std::unique_ptr<EventSubscription>> parts)
      : parts_(std::move(parts)) {}
  /// Ends the subscription now (as the destructor does).
  void reset() { parts_.clear(); }
  /// Whether any store's subscription is live.
  explicit operator bool() const { return !parts_.empty(); }

 private:
  std::vector<std::unique_ptr<EventSubscription>> parts_;
};

}  // namespace errand
