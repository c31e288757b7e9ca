// Stands in for web_cmd.cc when errand is built without the dashboard
// (-DERRAND_BUILD_WEB=OFF): `errand web` and `worker --web` say so.
#include "cli/web_cmd.h"

namespace errand::cli {

namespace {
constexpr const char* kNoWeb = "this errand was built without the dashboard (ERRAND_BUILD_WEB=OFF)";
}  // namespace

void add_web_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("web", "The dashboard (not in this build)");
  cmd->allow_extras();
  cmd->callback([&ctx] { ctx.action = [] { return fail_with(kNoWeb); }; });
}

void add_worker_web_flags(CLI::App& cmd, WorkerWebFlags& flags) {
  cmd.add_flag("--web", flags.enabled, "serve the dashboard (not in this build)");
}

Result<std::shared_ptr<void>> start_worker_web(const WorkerWebFlags& flags, const QueueMap&,
                                               ServerOptions&) {
  if (flags.enabled) return fail(Errc::invalid_argument, kNoWeb);
  return std::shared_ptr<void>();
}

}  // namespace errand::cli
