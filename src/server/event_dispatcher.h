// The event dispatcher: job events (JobEvent) from the processors, settle
// and the progress throttles, handed to ServerOptions::on_event and, with
// publish_events, to each job's store (Store::publish_events), from one
// thread of its own, in order. emit() only queues (a lock and a push), so a
// job never waits for a hook or a store. Built by the engine only when
// on_event is set or publish_events is on.
//
// Thread safety: emit() from any thread; start/stop from the engine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <set>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "errand/events.h"
#include "errand/store.h"
#include "server/job_view.h"

namespace errand {

struct Runtime;

class EventDispatcher {
 public:
  /// At most this many events wait; past it new ones are dropped (and
  /// counted in a warning).
  static constexpr std::size_t kMaxPending = 100'000;

  EventDispatcher(EventCallback hook, bool publish) : hook_(std::move(hook)), publish_(publish) {}
  ~EventDispatcher() { stop(); }
  EventDispatcher(const EventDispatcher&) = delete;
  EventDispatcher& operator=(const EventDispatcher&) = delete;

  void start();
  /// Delivers what is queued, then ends the thread. Idempotent.
  void stop() EXCLUDES(mu_);
  /// Queues `event` of a job of `store` (published there with publish_events).
  void emit(Store* store, JobEvent event) EXCLUDES(mu_);

 private:
  using Item = std::pair<Store*, JobEvent>;
  void run() EXCLUDES(mu_);
  void deliver(std::vector<Item>& batch);
  void publish(Store* store, std::span<const JobEvent> events);

  const EventCallback hook_;
  const bool publish_;
  Mutex mu_;
  CondVar cv_;
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::uint64_t dropped_ GUARDED_BY(mu_) = 0;
  std::set<Store*> no_channel_;  // the dispatcher thread's: stores that said unsupported
  std::thread thread_;
};

/// Queues an event about the job `v` of `store`, when the server makes
/// events (rt.events set): kind, the job's jid, class and queue, this
/// process, now.
void emit_event(Runtime& rt, Store& store, const JobView& v, JobEventKind kind,
                std::string error = {});

}  // namespace errand
