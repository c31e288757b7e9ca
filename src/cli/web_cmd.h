// `errand web` and the dashboard inside `errand worker --web`. The dashboard
// itself is a module (liberrand_web.so, web_module.h) that these load with
// dlopen when one of them runs; the `errand` binary does not link it.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace errand::cli {

void add_web_command(CLI::App& app, Context& ctx);

/// The worker's --web flags.
struct WorkerWebFlags {
  bool enabled = false;
  std::string bind = "127.0.0.1";
  int port = 7433;
  std::vector<std::string> hosts;  ///< --web-host: names the dashboard answers to
  bool insecure = false;           ///< --web-insecure: no auth beyond loopback
};
void add_worker_web_flags(CLI::App& cmd, WorkerWebFlags& flags);

/// With --web: loads the dashboard module, adds the per-job metrics
/// middleware to `options` and starts the dashboard on the default store of
/// `queues` (its cron "enqueue now" goes through `queues`; auth from
/// ERRAND_WEB_TOKEN / ERRAND_WEB_BASIC). The returned handle stops it when
/// destroyed; nullptr without --web. Without --web nothing is loaded.
Result<std::shared_ptr<void>> start_worker_web(const WorkerWebFlags& flags, const QueueMap& queues,
                                               ServerOptions& options);

}  // namespace errand::cli
