// The cron enqueuer: fires each periodic job once per tick across every
// process sharing the store. Every process runs it; the tick's lock
// ("cron:<name>:<tick epoch>") makes exactly one of them enqueue.
#pragma once

#include <vector>

#include "errand/client.h"
#include "errand/cron.h"
#include "server/runtime.h"
#include "server/service.h"

namespace errand {

class CronScheduler : public Service {
 public:
  CronScheduler(Runtime& rt, const QueueMap& queues, std::vector<CronEntry> entries);
  const char* name() const override { return "cron"; }
  std::chrono::milliseconds next_interval() override { return rt_.options.cron_interval; }
  /// Fires what is due unless the server is quiet.
  void run_once() override {
    if (!rt_.quiet.load()) tick();
  }
  /// Parses every entry; invalid_argument naming the entry on error.
  Status prepare();
  /// Whether any periodic job is configured (none: nothing ever fires).
  bool has_entries() const { return !entries_.empty(); }
  /// Fires every tick due by now. Returns how many jobs this process enqueued.
  std::size_t tick();

 private:
  struct State {
    CronEntry entry;
    CronExpression expr;
    SystemTime next;
  };
  bool fire(State& s, SystemTime tick);

  Runtime& rt_;
  QueueMap queues_;
  Client client_;
  std::vector<CronEntry> entries_;
  std::vector<State> states_;  // used by the services thread only
};

}  // namespace errand
