#include "server/cron_scheduler.h"

#include <cmath>

#include "core/log.h"

namespace errand {

CronScheduler::CronScheduler(Runtime& rt, const QueueMap& queues, std::vector<CronEntry> entries)
    : rt_(rt),
      queues_(queues),
      client_(queues, ClientOptions{{}, rt.clock}),
      entries_(std::move(entries)) {}

Status CronScheduler::prepare() {
  states_.clear();
  const SystemTime now = rt_.clock->now();
  for (const auto& e : entries_) {
    if (e.name.empty()) return fail(Errc::invalid_argument, "cron entry without a name");
    if (e.job_class.empty())
      return fail(Errc::invalid_argument, "cron entry '" + e.name + "' has no job class");
    if (!e.args.is_array())
      return fail(Errc::invalid_argument, "cron entry '" + e.name + "': args must be an array");
    auto expr = CronExpression::parse(e.expression);
    if (!expr)
      return fail(Errc::invalid_argument, "cron entry '" + e.name + "': " + expr.error().message());
    // Missed ticks: `skip` starts from now; `run_once` starts from the last
    // tick before now, so one job covers everything missed (the tick lock
    // keeps it from firing twice if another process already fired it).
    SystemTime from = now;
    if (e.missed == MissedTicks::run_once) {
      SystemTime probe = now - std::chrono::hours(24);
      std::optional<SystemTime> last;
      for (int i = 0; i < 100'000; ++i) {
        auto n = expr->next(probe, e.time_zone);
        if (!n)
          return fail(Errc::invalid_argument,
                      "cron entry '" + e.name + "': " + n.error().message());
        if (!*n || **n > now) break;
        last = **n;
        probe = **n;
      }
      if (last) from = *last - std::chrono::seconds(1);
    }
    auto next = expr->next(from, e.time_zone);
    if (!next)
      return fail(Errc::invalid_argument, "cron entry '" + e.name + "': " + next.error().message());
    if (!*next) {
      log::warn("cron entry never fires", {{"cron", e.name}, {"expression", e.expression}});
      continue;
    }
    states_.push_back(State{e, std::move(expr).value(), **next});
  }
  return {};
}

bool CronScheduler::fire(State& s, SystemTime tick) {
  const double t = to_epoch(tick);
  const std::string queue = cron_queue(s.entry, rt_.registry);
  Store* store = queues_.store_for(queue);
  if (!store) return false;
  const std::string key =
      "cron:" + s.entry.name + ":" + std::to_string(static_cast<long long>(std::llround(t)));
  auto won = store->lock_acquire(key, rt_.identity, rt_.now(), t + 7 * 24 * 3600.0);
  if (!won && won.code() != Errc::unsupported) {
    log::warn("cron: cannot claim tick",
              {{"cron", s.entry.name}, {"error", won.error().message()}});
    return false;
  }
  // A store without locks is a single-process store: no one else fires.
  if (won && !*won) return false;
  // The payload names its entry and tick, for the dashboard, logs and jobs
  // that want to know which period they cover (errand::current_job().payload()).
  PushOptions o;
  o.queue = queue;
  o.extra = {{"cron", s.entry.name}, {"cron_at", t}};
  auto jid = client_.enqueue(s.entry.job_class, s.entry.args, o);
  if (!jid) {
    log::error("cron: enqueue failed", {{"cron", s.entry.name}, {"error", jid.error().message()}});
    (void)store->lock_release(key, rt_.identity);  // let this or another process try again
    return false;
  }
  log::info("cron: enqueued",
            {{"cron", s.entry.name}, {"class", s.entry.job_class}, {"jid", *jid}});
  return true;
}

std::size_t CronScheduler::tick() {
  std::size_t fired = 0;
  const SystemTime now = rt_.clock->now();
  for (auto& s : states_) {
    int guard = 0;
    while (s.next <= now && guard++ < 1000) {
      if (fire(s, s.next)) ++fired;
      auto n = s.expr.next(s.next, s.entry.time_zone);
      if (!n || !*n) {
        s.next = SystemTime::max();
        break;
      }
      // Far behind (the process was stopped, or the clock jumped): do not
      // fire every missed tick; resume from the last second.
      s.next = **n;
      if (s.next < now - std::chrono::seconds(60)) {
        auto resume = s.expr.next(now - std::chrono::seconds(1), s.entry.time_zone);
        s.next = (resume && *resume) ? **resume : SystemTime::max();
      }
    }
  }
  return fired;
}

}  // namespace errand
