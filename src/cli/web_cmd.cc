// `errand web`: the dashboard, JSON API and /metrics as a standalone server
// (Sidekiq's Web UI, without Rack). Binds 127.0.0.1 unless told otherwise.
#include "cli/web_cmd.h"

#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "core/log.h"
#include "core/redact.h"
#include "web/app.h"
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
  std::string token_file;
  std::string basic_file;
  std::vector<std::string> hosts;
  bool insecure = false;
  std::vector<std::string> requires_;
};

std::atomic<bool> g_stop{false};
extern "C" void errand_web_on_signal(int) { g_stop.store(true); }

/// A secret from, in order: its flag, its file flag (first line), its
/// environment variable. The file and the environment keep it out of `ps`.
Result<std::string> secret(const std::string& flag, const std::string& file, const char* env) {
  if (!flag.empty()) return flag;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return fail(Errc::io, "cannot read secret file '" + file + "'");
    std::string line;
    std::getline(in, line);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty()) return fail(Errc::invalid_argument, "secret file '" + file + "' is empty");
    return line;
  }
  const char* v = std::getenv(env);
  return v ? std::string(v) : std::string();
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

int run_web(const WebFlags& f) {
  for (const auto& path : f.requires_)
    if (auto st = load_job_library(path); !st) return fail_with(st.error());
  auto cfg = resolve_config(f.store);
  if (!cfg) return fail_with(cfg.error());
  auto queues = open_queues(*cfg);
  if (!queues)
    return fail_with("cannot open store " + redact_url(cfg->store) + ": " +
                     queues.error().message());
  web::WebOptions o;
  o.cron = cfg->server.cron;
  o.bind = f.bind;
  o.port = f.port;
  o.hosts = f.hosts;
  auto token = secret(f.token, f.token_file, "ERRAND_WEB_TOKEN");
  if (!token) return fail_with(token.error());
  auto basic = secret(f.basic, f.basic_file, "ERRAND_WEB_BASIC");
  if (!basic) return fail_with(basic.error());
  o.token = *token;
  o.basic = *basic;
  if (auto st = check_auth_options(o, f.insecure); !st) return fail_with(st.error());
  web::WebServer server(std::make_shared<Admin>(std::move(queues).value()), o);
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
  cmd->add_option("-p,--port", f->port, "port (default 7433; 0: any free port, printed)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--token", f->token,
                  "require this token (Bearer header or login form); visible in ps: prefer "
                  "--token-file or $ERRAND_WEB_TOKEN");
  cmd->add_option("--token-file", f->token_file, "read the token from this file's first line");
  cmd->add_option("--basic", f->basic,
                  "require HTTP basic auth USER:PASSWORD; visible in ps: prefer --basic-file or "
                  "$ERRAND_WEB_BASIC");
  cmd->add_option("--basic-file", f->basic_file, "read USER:PASSWORD from this file's first line");
  cmd->add_option("--host", f->hosts,
                  "a host name the dashboard answers to (Host header, Origin) besides the "
                  "loopback names and --bind: the public name behind a proxy; repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--insecure", f->insecure,
                "allow a non-loopback --bind without --token or --basic (a proxy authenticates)");
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
  cmd.add_option("--web-host", flags.hosts, "a host name the dashboard answers to (see errand web)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_flag("--web-insecure", flags.insecure,
               "allow a non-loopback --web-bind without ERRAND_WEB_TOKEN / ERRAND_WEB_BASIC");
}

Result<std::shared_ptr<web::WebServer>> start_worker_web(const WorkerWebFlags& flags,
                                                         const QueueMap& queues,
                                                         ServerOptions& options) {
  if (!flags.enabled) return std::shared_ptr<web::WebServer>();
  auto metrics = std::make_shared<Metrics>();
  options.middleware.insert(options.middleware.begin(), metrics);
  web::WebOptions o;
  o.bind = flags.bind;
  o.port = flags.port;
  o.hosts = flags.hosts;
  o.token = secret("", "", "ERRAND_WEB_TOKEN").value_or("");
  o.basic = secret("", "", "ERRAND_WEB_BASIC").value_or("");
  o.metrics = metrics;
  o.registry = options.registry;
  o.cron = options.cron;
  if (auto st = check_auth_options(o, flags.insecure); !st) return st.error();
  auto server = std::make_shared<web::WebServer>(
      std::make_shared<Admin>(queues, options.clock, options.dead), o);
  if (auto st = server->start(); !st) return st.error();
  log::info("dashboard", {{"url", server->url()}});
  return server;
}

}  // namespace errand::cli
