// `errand worker` under systemd (packaging/errand@.service, Type=notify):
// READY=1 once the processors fetch, STOPPING=1 when shutdown begins,
// WATCHDOG=1 with every heartbeat when the unit sets WatchdogSec, and a
// STATUS= line with the busy and processed counts. Without NOTIFY_SOCKET
// (not started by systemd) nothing is wired and nothing is sent.
//
// The library knows nothing of systemd: these are ServerOptions::hooks.
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "cli/cli.h"
#include "core/log.h"

namespace errand::cli {

namespace {

void notify(const std::string& state) {
  // Best effort: a manager that went away is no reason to stop working.
  (void)sd_notify(0, state.c_str());
}

/// systemd restarts a unit whose watchdog is not pinged within WATCHDOG_USEC;
/// the pings ride on the heartbeat, so it must beat at least twice as often.
void fit_heartbeat_to_watchdog(ServerOptions& o, std::uint64_t watchdog_usec) {
  const auto half = std::chrono::milliseconds(
      std::max<std::uint64_t>(watchdog_usec / 2000, 1));  // usec / 2, in ms
  if (o.heartbeat_interval <= half) return;
  log::info("heartbeat shortened to fit systemd's watchdog",
            {{"heartbeat_ms", std::to_string(half.count())},
             {"watchdog_usec", std::to_string(watchdog_usec)}});
  o.heartbeat_interval = half;
}

}  // namespace

void wire_systemd_notify(ServerOptions& o) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (!socket || !*socket) return;
  std::uint64_t usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &usec) > 0 && usec > 0;
  if (watchdog) fit_heartbeat_to_watchdog(o, usec);
  o.hooks.on_ready = [] { notify("READY=1\nSTATUS=working: fetching jobs"); };
  o.hooks.on_stopping = [] { notify("STOPPING=1\nSTATUS=stopping: waiting for running jobs"); };
  o.hooks.on_heartbeat = [watchdog](const ServerCounters& c) {
    std::string state = "STATUS=busy " + std::to_string(c.busy) + ", processed " +
                        std::to_string(c.processed) + ", failed " + std::to_string(c.failed);
    notify(watchdog ? "WATCHDOG=1\n" + state : state);
  };
}

}  // namespace errand::cli
