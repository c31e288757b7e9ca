// liberrand_web.so: the dashboard as the `errand` binary loads it, for
// `errand web` and `errand worker --web` (web_module.h). Built as a module
// with errand_web (src/web) and cpp-httplib; never linked into the binary.
#include "cli/web_module.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "core/log.h"
#include "web/app.h"
#include "web/metrics.h"
#include "web/web_server.h"

namespace errand::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void errand_web_on_signal(int) { g_stop.store(true); }

web::WebOptions web_options(const DashboardSettings& s) {
  web::WebOptions o;
  o.bind = s.bind;
  o.port = s.port;
  o.hosts = s.hosts;
  o.token = s.token;
  o.basic = s.basic;
  o.cron = s.cron;
  return o;
}

Status check_auth_options(const web::WebOptions& o, bool insecure) {
  if (!o.basic.empty() && o.basic.find(':') == std::string::npos)
    return fail(Errc::invalid_argument, "--basic must be USER:PASSWORD");
  if (web::is_loopback_bind(o.bind) || !o.token.empty() || !o.basic.empty()) return {};
  if (!insecure)
    return fail(Errc::invalid_argument,
                "refusing to serve the dashboard on " + o.bind +
                    " without authentication: anyone who can reach it could clear queues. "
                    "Set --token-file / ERRAND_WEB_TOKEN or --basic-file / ERRAND_WEB_BASIC, "
                    "or pass --insecure if a proxy in front authenticates");
  log::warn("the dashboard listens beyond this machine without authentication (--insecure)",
            {{"bind", o.bind}});
  return {};
}

Status serve(const DashboardSettings& settings, QueueMap queues) {
  const web::WebOptions o = web_options(settings);
  if (auto st = check_auth_options(o, settings.insecure); !st) return st;
  web::WebServer server(std::make_shared<Admin>(std::move(queues)), o);
  if (auto st = server.start(); !st) return st;

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
  return {};
}

Result<std::shared_ptr<void>> start_in_worker(const DashboardSettings& settings,
                                              const QueueMap& queues, ServerOptions& options) {
  auto metrics = std::make_shared<Metrics>();
  options.middleware.insert(options.middleware.begin(), metrics);
  web::WebOptions o = web_options(settings);
  o.metrics = metrics;
  o.registry = options.registry;
  o.cron = options.cron;
  if (auto st = check_auth_options(o, settings.insecure); !st) return st.error();
  auto server = std::make_shared<web::WebServer>(
      std::make_shared<Admin>(queues, options.clock, options.dead), o);
  if (auto st = server->start(); !st) return st.error();
  log::info("dashboard", {{"url", server->url()}});
  return std::shared_ptr<void>(std::move(server));
}

constexpr WebModule kModule{
    .abi = kWebModuleAbi,
    .size = sizeof(WebModule),
    .version = ERRAND_VERSION,
    .abi_hash = ERRAND_WEB_ABI_HASH,
    .serve = serve,
    .start_in_worker = start_in_worker,
};

}  // namespace

}  // namespace errand::cli

extern "C" __attribute__((visibility("default"))) const errand::cli::WebModule*
errand_web_module() {
  return &errand::cli::kModule;
}
