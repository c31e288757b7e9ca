#include "server/engine.h"

#include <map>

#include "core/log.h"
#include "server/cancel_watcher.h"
#include "server/lease_renewer.h"
#include "server/pause_watcher.h"
#include "server/poller.h"
#include "server/progress.h"
#include "server/rescuer.h"
#include "server/watchdog.h"

namespace errand {

Status Engine::add_sources(const QueueMap& queues, const ServerOptions& o) {
  // Group the queues by the store each is defined on, keeping their order.
  for (const auto& q : o.queues) {
    auto store = queues.shared_store_for(q.name);
    if (!store)
      return fail(Errc::invalid_argument,
                  "queue '" + q.name + "' has no store: define it or set a default store");
    Source* src = nullptr;
    for (auto& s : rt.sources)
      if (s->store == store) src = s.get();
    if (!src) {
      rt.sources.push_back(std::make_unique<Source>());
      src = rt.sources.back().get();
      src->store = store;
    }
    bool dup = false;
    for (auto& existing : src->queues) dup = dup || existing.name == q.name;
    if (!dup) {
      src->queues.push_back(q);
      src->strict.push_back(q.name);
    }
    if (q.weight > 0) src->weighted = true;
    if (q.isolation != Isolation::inherit) src->isolated_queues = true;
  }
  for (auto& s : rt.sources) {
    if (!s->store->in_process())
      s->acker = std::make_unique<Acker>(
          *s->store, static_cast<std::size_t>(o.concurrency) * Acker::kPendingPerThread,
          Acker::threads_for(*s->store));
    // Declared, not probed (a probe writes): the conformance suite holds
    // each store's declaration to its behaviour.
    s->renewable_locks = s->store->capabilities().lock_extend;
    s->status = s->store->capabilities().status;
  }
  return {};
}

void Engine::add_services(const QueueMap& queues, const ServerOptions& o) {
  auto add = [&](std::unique_ptr<Service> s) {
    services.push_back(std::make_unique<ServiceThread>(std::move(s)));
  };
  // The services that only watch running jobs sleep while none runs, until
  // the first job to start wakes them (Runtime::note_busy).
  std::vector<ServiceThread*> parking;
  auto add_parking = [&](std::unique_ptr<Service> s) {
    services.push_back(std::make_unique<ServiceThread>(std::move(s), &rt.parked));
    parking.push_back(services.back().get());
  };
  add(std::make_unique<HeartbeatService>(rt, *heartbeat));
  add(std::make_unique<StatsService>(rt, *heartbeat));
  add_parking(std::make_unique<LeaseRenewer>(rt));
  add_parking(std::make_unique<Watchdog>(rt, *manager));
  add(std::make_unique<PauseWatcher>(rt));
  add_parking(std::make_unique<CancelWatcher>(rt));
  add_parking(std::make_unique<ProgressFlusher>(rt));
  rt.wake_parked = [parking] {
    for (auto* s : parking) s->wake();
  };
  add(std::make_unique<Rescuer>(rt));
  cron_ = std::make_unique<CronScheduler>(rt, queues, o.cron);
  auto poller = std::make_unique<ServiceThread>(std::make_unique<Poller>(rt));
  ServiceThread* p = poller.get();
  rt.wake_poller = [p] { p->wake(); };
  services.push_back(std::move(poller));
}

Result<std::unique_ptr<Engine>> Engine::build(const QueueMap& queues, const ServerOptions& o,
                                              Heartbeat::SignalHandler on_signal) {
  auto e = std::make_unique<Engine>();
  Runtime& rt = e->rt;
  rt.options = o;
  rt.clock = o.clock ? o.clock : &SystemClock::instance();
  rt.registry = o.registry ? o.registry : &Registry::global();
  rt.identity = make_identity();
  rt.started_at = rt.now();
  rt.chain = o.middleware;
  if (o.on_event || o.publish_events) {
    e->events = std::make_unique<EventDispatcher>(o.on_event, o.publish_events);
    rt.events = e->events.get();
  }
  Child::prepare();  // before any processor thread can fork
  if (auto st = e->add_sources(queues, o); !st) return st.error();
  {
    MutexLock lk(rt.slots_mu);  // no thread runs yet; taken for the analysis
    for (int i = 0; i < o.concurrency; ++i) rt.slots.push_back(std::make_shared<Slot>());
  }
  e->fetcher = std::make_unique<Fetcher>(rt);
  e->manager = std::make_unique<Manager>(rt, *e->fetcher);
  e->heartbeat = std::make_unique<Heartbeat>(rt, std::move(on_signal));
  e->add_services(queues, o);
  if (auto st = e->cron_->prepare(); !st) return st.error();
  return e;
}

Status Engine::start() {
  // Register before claiming anything, so no rescuer mistakes our claims for orphans.
  if (auto st = heartbeat->beat(); !st)
    return fail(st.code(), "cannot start: first heartbeat failed: " + st.message());
  PauseWatcher(rt).run_once();  // before the first fetch
  for (auto& s : rt.sources)
    if (s->acker) s->acker->start();
  if (events) events->start();
  manager->start();
  // Without periodic jobs the cron enqueuer has nothing to do: no thread.
  if (cron_->has_entries()) services.push_back(std::make_unique<ServiceThread>(std::move(cron_)));
  for (auto& s : services) s->start();
  return {};
}

void Engine::quiet() {
  if (!rt.quiet.exchange(true)) log::info("quiet: no new jobs will be fetched");
  fetcher->quiet();
  // Jobs claimed ahead that no thread will take now go back to their queues,
  // for other processes to run.
  requeue(fetcher->drain());
}

void Engine::requeue(std::vector<Work> works) {
  requeue_works(std::move(works), rt.now(), "requeued unfinished jobs");
}

void Engine::log_running() {
  for (const auto& slot : rt.slot_list()) {
    MutexLock lk(slot->mu);
    if (slot->current)
      log::info("running", {{"tid", slot->tid},
                            {"queue", slot->current->job.queue},
                            {"payload", slot->current->job.payload}});
  }
}

void Engine::stop_services() {
  for (auto& s : services) s->stop();
}

void Engine::finish() {
  for (auto& s : rt.sources)
    if (s->acker) s->acker->stop();
  if (events) events->stop();  // every event of a finished job delivered
  (void)heartbeat->beat();
  for (auto& s : rt.sources) (void)s->store->unregister(rt.identity);
}

ServerCounters Engine::counters() const { return counters_of(rt); }

}  // namespace errand
