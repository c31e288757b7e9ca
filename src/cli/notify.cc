#include "cli/notify.h"

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/log.h"

#if ERRAND_WITH_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace errand::cli {

#if ERRAND_WITH_SYSTEMD

namespace {

std::string status_of(const ServerCounters& c) {
  return "STATUS=busy " + std::to_string(c.busy) + ", processed " + std::to_string(c.processed) +
         ", failed " + std::to_string(c.failed);
}

void notify(const std::string& state) {
  if (int rc = ::sd_notify(0, state.c_str()); rc < 0)
    log::warn("systemd notification failed", {{"error", std::to_string(-rc)}});
}

}  // namespace

void attach_systemd_notify(ServerOptions& options, std::function<ServerCounters()> counters) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return;
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = ::sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  if (watchdog) {
    const auto half = std::chrono::milliseconds(watchdog_usec / 2000);
    if (options.heartbeat_interval > half && half.count() > 0) options.heartbeat_interval = half;
  }
  options.on_ready = [counters] { notify("READY=1\n" + status_of(counters())); };
  options.on_stopping = [] { notify("STOPPING=1\nSTATUS=stopping"); };
  options.on_heartbeat = [counters, watchdog] {
    notify((watchdog ? "WATCHDOG=1\n" : "") + status_of(counters()));
  };
}

#else

void attach_systemd_notify(ServerOptions&, std::function<ServerCounters()>) {}

#endif

}  // namespace errand::cli
