#include "server/event_dispatcher.h"

#include "core/log.h"
#include "server/runtime.h"

namespace errand {

void EventDispatcher::start() {
  thread_ = std::thread([this] { run(); });
}

void EventDispatcher::stop() {
  {
    MutexLock lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventDispatcher::emit(Store* store, JobEvent event) {
  {
    MutexLock lk(mu_);
    if (queue_.size() >= kMaxPending) {
      if (dropped_++ % 10'000 == 0)
        log::warn("job events are made faster than on_event or the store takes them; dropping",
                  {{"dropped", std::to_string(dropped_)}});
      return;
    }
    queue_.emplace_back(store, std::move(event));
  }
  cv_.notify_one();
}

void EventDispatcher::run() {
  std::vector<Item> batch;
  for (;;) {
    {
      MutexLock lk(mu_);
      cv_.wait(lk, [this]() REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything delivered
      const std::size_t n = std::min<std::size_t>(queue_.size(), 500);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    deliver(batch);
    batch.clear();
  }
}

void EventDispatcher::deliver(std::vector<Item>& batch) {
  if (hook_)
    for (const auto& [store, e] : batch) {
      try {
        hook_(e);
      } catch (...) {
        log::error("on_event threw", {{"jid", e.jid}});
      }
    }
  if (!publish_) return;
  // One publish per run of events of the same store (usually the whole batch).
  std::vector<JobEvent> run;
  Store* current = nullptr;
  for (auto& [store, e] : batch) {
    if (store != current && !run.empty()) {
      publish(current, run);
      run.clear();
    }
    current = store;
    run.push_back(std::move(e));
  }
  if (!run.empty()) publish(current, run);
}

void EventDispatcher::publish(Store* store, std::span<const JobEvent> events) {
  if (!store || no_channel_.count(store)) return;
  auto st = store->publish_events(events);
  if (st.ok()) return;
  if (st.code() == Errc::unsupported) {
    no_channel_.insert(store);
    log::warn("publish_events: " + st.message() + "; events of its jobs reach on_event only");
    return;
  }
  // At most once, like the channels themselves: not retried.
  log::warn("cannot publish job events", {{"error", st.message()}});
}

void emit_event(Runtime& rt, Store& store, const JobView& v, JobEventKind kind, std::string error) {
  if (!rt.events) return;
  JobEvent e;
  e.kind = kind;
  e.jid = v.jid;
  e.job_class = v.display_class;
  e.queue = v.queue;
  e.error = std::move(error);
  e.process = rt.identity;
  e.at = rt.now();
  rt.events->emit(&store, std::move(e));
}

}  // namespace errand
