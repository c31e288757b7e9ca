// The engine: the object graph one Server runs — the runtime shared by all
// parts, the fetcher, the manager and its processors, the heartbeat and the
// background services, each on its own thread. Built and started by the
// launcher (launcher.cc), which owns the lifecycle.
//
//   Server ─► Engine ─┬─► Manager ─► Processor × concurrency ─► Fetcher ─► Store
//                     ├─► Heartbeat (+ HeartbeatService, StatsService)
//                     └─► Poller, Rescuer, CronScheduler, LeaseRenewer,
//                         Watchdog, PauseWatcher   (one ServiceThread each)
#pragma once

#include <memory>
#include <vector>

#include "errand/queues.h"
#include "errand/server.h"
#include "server/cron_scheduler.h"
#include "server/event_dispatcher.h"
#include "server/fetcher.h"
#include "server/heartbeat.h"
#include "server/manager.h"
#include "server/runtime.h"
#include "server/service.h"

namespace errand {

struct Engine {
  Runtime rt;
  /// Job events (on_event, publish_events); null when none are made.
  std::unique_ptr<EventDispatcher> events;
  std::unique_ptr<Fetcher> fetcher;
  std::unique_ptr<Manager> manager;
  std::unique_ptr<Heartbeat> heartbeat;
  std::vector<std::unique_ptr<ServiceThread>> services;

  /// Builds the graph: the sources (queues grouped by store), slots, ackers,
  /// services. Fails on a queue without a store or an invalid cron entry.
  static Result<std::unique_ptr<Engine>> build(const QueueMap& queues, const ServerOptions& o,
                                               Heartbeat::SignalHandler on_signal);
  /// Registers (first heartbeat), reads the paused queues, then starts the
  /// ackers, the processors and the services.
  Status start();
  /// Stops fetching; jobs read ahead go back to their queues. Idempotent.
  void quiet();
  /// Puts claimed jobs back in their queues (or leaves them to the rescuer).
  void requeue(std::vector<Work> works);
  /// Logs every running job (TTIN).
  void log_running();
  /// Stops and joins every service thread.
  void stop_services();
  /// Stores pending acknowledgements, delivers the last events, beats a
  /// last time, unregisters.
  void finish();
  ServerCounters counters() const;

 private:
  Status add_sources(const QueueMap& queues, const ServerOptions& o);
  void add_services(const QueueMap& queues, const ServerOptions& o);
  std::unique_ptr<CronScheduler> cron_;  // until start() hands it to its thread
};

}  // namespace errand
