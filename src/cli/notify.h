// systemd notifications for `errand worker` run by a Type=notify unit
// (packaging/errand@.service): READY=1 once it fetches, STOPPING=1 when it
// begins to stop, WATCHDOG=1 from its heartbeat when systemd asked for a
// watchdog, and STATUS= with its busy and processed counts. A no-op when
// NOTIFY_SOCKET is not set or errand was built without libsystemd.
#pragma once

#include <functional>

#include "errand/server.h"

namespace errand::cli {

/// Sets the lifecycle callbacks of `options`; `counters` reads the running
/// server's counters (for STATUS=). With a watchdog, the heartbeat interval
/// is shortened to half of it if longer.
void attach_systemd_notify(ServerOptions& options, std::function<ServerCounters()> counters);

}  // namespace errand::cli
