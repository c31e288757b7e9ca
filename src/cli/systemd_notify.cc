// `errand worker` under systemd (packaging/errand@.service, Type=notify):
// READY=1 once the processors fetch, STOPPING=1 when shutdown begins,
// WATCHDOG=1 with every heartbeat when the unit sets WatchdogSec, and a
// STATUS= line with the busy and processed counts. Without NOTIFY_SOCKET
// (not started by systemd) nothing is wired and nothing is sent.
//
// The library knows nothing of systemd: these are ServerOptions::hooks.
// The notify protocol (sd_notify(3): one datagram to $NOTIFY_SOCKET) is
// written out here rather than linked from libsystemd, whose load alone
// (with liblzma, libzstd, liblz4, libgcrypt, libcap) cost an idle worker
// about 0.7 MB of resident memory.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/cli.h"
#include "core/log.h"

namespace errand::cli {

namespace {

/// sd_notify(0, state): `state` as one datagram to the AF_UNIX socket
/// named by NOTIFY_SOCKET (a path, or '@' for the abstract namespace).
/// Best effort: a manager that went away is no reason to stop working.
void notify(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
}

/// sd_watchdog_enabled(0, &usec): WATCHDOG_USEC when set for this process
/// (WATCHDOG_PID, if set, names it), else 0.
std::uint64_t watchdog_usec() {
  auto number = [](const char* text, std::uint64_t& out) {
    if (!text || !*text) return false;
    const char* end = text + std::strlen(text);
    auto [p, ec] = std::from_chars(text, end, out);
    return ec == std::errc{} && p == end;
  };
  std::uint64_t usec = 0, pid = 0;
  if (!number(std::getenv("WATCHDOG_USEC"), usec)) return 0;
  const char* pid_text = std::getenv("WATCHDOG_PID");
  if (pid_text && (!number(pid_text, pid) || pid != static_cast<std::uint64_t>(::getpid())))
    return 0;
  return usec;
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
  const std::uint64_t usec = watchdog_usec();
  const bool watchdog = usec > 0;
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
