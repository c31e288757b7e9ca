// `errand web`: the dashboard, JSON API and /metrics as a standalone server
// (Sidekiq's Web UI, without Rack). Binds 127.0.0.1 unless told otherwise.
#include "cli/web_cmd.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "core/log.h"
#include "web/metrics.h"
#include "web/web_server.h"

namespace errand::cli {

namespace {

struct WebFlags {
  StoreFlags store;
  std::string bind = "127.0.0.1";
  int port = 7433;
  std::string token;
  std::string basic;
  std::vector<std::string> requires_;
};

std::atomic<bool> g_stop{false};
extern "C" void errand_web_on_signal(int) { g_stop.store(true); }

std::string env_or(const std::string& flag, const char* name) {
  if (!flag.empty()) return flag;
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool is_loopback(const std::string& bind) {
  return bind == "127.0.0.1" || bind == "localhost" || bind == "::1" || bind.rfind("127.", 0) == 0;
}

Status check_auth_options(const web::WebOptions& o) {
  if (!o.basic.empty() && o.basic.find(':') == std::string::npos)
    return fail(Errc::invalid_argument, "--basic must be USER:PASSWORD");
  if (!is_loopback(o.bind) && o.token.empty() && o.basic.empty())
    log::warn(
        "the dashboard listens beyond this machine without authentication; "
        "set --token / ERRAND_WEB_TOKEN or --basic / ERRAND_WEB_BASIC",
        {{"bind", o.bind}});
  return {};
}

int run_web(const WebFlags& f) {
  for (const auto& path : f.requires_)
    if (auto st = load_job_library(path); !st) return fail_with(st.error());
  auto store = open_default_store(f.store);
  if (!store) return fail_with(store.error());
  web::WebOptions o;
  if (auto cfg = resolve_config(f.store)) o.cron = cfg->server.cron;
  o.bind = f.bind;
  o.port = f.port;
  o.token = env_or(f.token, "ERRAND_WEB_TOKEN");
  o.basic = env_or(f.basic, "ERRAND_WEB_BASIC");
  if (auto st = check_auth_options(o); !st) return fail_with(st.error());
  web::WebServer server(std::make_shared<Admin>(std::move(store).value()), o);
  if (auto st = server.start(); !st) return fail_with(st.error());

  struct sigaction sa {};
  sa.sa_handler = errand_web_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  log::info("errand web", {{"url", server.url()},
                           {"auth", !o.token.empty()   ? "token"
                                    : !o.basic.empty() ? "basic"
                                                       : "none"}});
  std::cout << "errand web: " << server.url() << "/" << std::endl;
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.stop();
  return kOk;
}

}  // namespace

void add_web_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<WebFlags>();
  auto* cmd = app.add_subcommand("web", "Serve the dashboard, JSON API and /metrics");
  cmd->add_option("--bind", f->bind, "address to listen on (default 127.0.0.1)");
  cmd->add_option("-p,--port", f->port, "port (default 7433)")->check(CLI::Range(1, 65535));
  cmd->add_option("--token", f->token,
                  "require this token (Bearer header or login form); default $ERRAND_WEB_TOKEN");
  cmd->add_option("--basic", f->basic,
                  "require HTTP basic auth USER:PASSWORD; default $ERRAND_WEB_BASIC");
  cmd->add_option("-r,--require", f->requires_,
                  "job library to load (.so), so that redact_args classes show [REDACTED]")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_store_flags(*cmd, f->store);
  cmd->callback([&ctx, f] { ctx.action = [f] { return run_web(*f); }; });
}

void add_worker_web_flags(CLI::App& cmd, WorkerWebFlags& flags) {
  cmd.add_flag("--web", flags.enabled, "also serve the dashboard and /metrics");
  cmd.add_option("--web-port", flags.port, "dashboard port (default 7433)")
      ->check(CLI::Range(0, 65535));
  cmd.add_option("--web-bind", flags.bind, "dashboard address (default 127.0.0.1)");
}

Result<std::shared_ptr<web::WebServer>> start_worker_web(const WorkerWebFlags& flags,
                                                         std::shared_ptr<Store> store,
                                                         ServerOptions& options) {
  if (!flags.enabled) return std::shared_ptr<web::WebServer>();
  auto metrics = std::make_shared<Metrics>();
  options.middleware.insert(options.middleware.begin(), metrics);
  web::WebOptions o;
  o.bind = flags.bind;
  o.port = flags.port;
  o.token = env_or("", "ERRAND_WEB_TOKEN");
  o.basic = env_or("", "ERRAND_WEB_BASIC");
  o.metrics = metrics;
  o.registry = options.registry;
  o.cron = options.cron;
  if (auto st = check_auth_options(o); !st) return st.error();
  auto server = std::make_shared<web::WebServer>(
      std::make_shared<Admin>(std::move(store), options.clock, options.dead), o);
  if (auto st = server->start(); !st) return st.error();
  log::info("dashboard", {{"url", server->url()}});
  return server;
}

}  // namespace errand::cli
