// `errand web` and the dashboard inside `errand worker --web`.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/cli.h"

namespace errand::web {
class WebServer;
}

namespace errand::cli {

void add_web_command(CLI::App& app, Context& ctx);

/// The worker's --web flags.
struct WorkerWebFlags {
  bool enabled = false;
  std::string bind = "127.0.0.1";
  int port = 7433;
};
void add_worker_web_flags(CLI::App& cmd, WorkerWebFlags& flags);

/// With --web: adds the per-job metrics middleware to `options` and starts the
/// dashboard on `store` (auth from ERRAND_WEB_TOKEN / ERRAND_WEB_BASIC). The
/// returned server stops when destroyed; nullptr without --web.
Result<std::shared_ptr<web::WebServer>> start_worker_web(const WorkerWebFlags& flags,
                                                         std::shared_ptr<Store> store,
                                                         ServerOptions& options);

}  // namespace errand::cli
