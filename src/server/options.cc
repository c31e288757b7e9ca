// validate(ServerOptions): every check of the server's options in one place.
#include "errand/server.h"

namespace errand {

Status validate(const ServerOptions& o) {
  if (o.concurrency < 1) return fail(Errc::invalid_argument, "concurrency must be at least 1");
  if (o.queues.empty()) return fail(Errc::invalid_argument, "no queues to work");
  for (const auto& q : o.queues) {
    if (q.name.empty()) return fail(Errc::invalid_argument, "empty queue name");
    if (q.weight < 0)
      return fail(Errc::invalid_argument, "queue '" + q.name + "' has a negative weight");
  }
  const std::pair<const char*, std::chrono::milliseconds> intervals[] = {
      {"poll_interval", o.poll_interval},
      {"heartbeat_interval", o.heartbeat_interval},
      {"process_ttl", o.process_ttl},
      {"rescue_interval", o.rescue_interval},
      {"stats_interval", o.stats_interval},
      {"watchdog_interval", o.watchdog_interval},
      {"cron_interval", o.cron_interval},
      {"pause_refresh_interval", o.pause_refresh_interval},
      {"cancel_poll_interval", o.cancel_poll_interval},
      {"progress_interval", o.progress_interval}};
  for (const auto& [name, value] : intervals)
    if (value.count() <= 0)
      return fail(Errc::invalid_argument, std::string(name) + " must be positive");
  if (o.shutdown_timeout.count() < 0 || o.fetch_wait.count() < 0)
    return fail(Errc::invalid_argument, "shutdown_timeout and fetch_wait must not be negative");
  if (o.process_ttl <= o.heartbeat_interval)
    return fail(Errc::invalid_argument, "process_ttl must be longer than heartbeat_interval");
  if (o.lease_renew_interval.count() < 0 || o.lease_renew_interval >= o.process_ttl)
    return fail(Errc::invalid_argument,
                "lease_renew_interval must not be negative and must be shorter than process_ttl");
  if (o.max_retries < 0) return fail(Errc::invalid_argument, "max_retries must not be negative");
  if (o.max_crashes < 0) return fail(Errc::invalid_argument, "max_crashes must not be negative");
  return {};
}

}  // namespace errand
