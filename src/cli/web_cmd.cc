// `errand web`: the dashboard, JSON API and /metrics as a standalone server
// (Sidekiq's Web UI, without Rack). Binds 127.0.0.1 unless told otherwise.
// The flags are read here; the dashboard runs in liberrand_web.so, loaded
// only now (web_module.h), so other commands never map cpp-httplib, OpenSSL
// and the rest.
#include "cli/web_cmd.h"

#include <dlfcn.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "cli/web_module.h"
#include "core/redact.h"

namespace errand::cli {

namespace {

constexpr const char* kModuleFile = "liberrand_web.so";

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

/// The module's path: $ERRAND_WEB_MODULE, else liberrand_web.so beside the
/// binary (a build tree), else in <libdir>/errand/ (installed). Empty if none
/// exists; `tried` then names where it looked.
std::string find_web_module(std::string& tried) {
  std::error_code ec;
  if (const char* env = std::getenv("ERRAND_WEB_MODULE"); env && *env) {
    // Absolute: dlopen would search the library path for a bare file name.
    tried = std::filesystem::absolute(env, ec).lexically_normal().string();
    return std::filesystem::exists(tried, ec) ? tried : std::string();
  }
  for (const auto& candidate : errand_library_candidates(kModuleFile, ERRAND_WEB_MODULE_FROM_BIN)) {
    if (std::filesystem::exists(candidate, ec)) return candidate;
    tried += (tried.empty() ? "" : " or ") + candidate;
  }
  return {};
}

/// Loads the dashboard module (never unloaded: the running dashboard and the
/// metrics middleware are its code) and checks that it is this errand's.
Result<const WebModule*> load_web_module() {
  static constexpr const char* kFix = "; reinstall errand or build with ERRAND_BUILD_WEB=ON";
  std::string tried;
  const std::string path = find_web_module(tried);
  if (path.empty())
    return fail(Errc::not_found, std::string("the dashboard module ") + kModuleFile +
                                     " was not found at " + tried + kFix);
  dlerror();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return fail(Errc::io, "cannot load the dashboard module " + path + ": " +
                              (why ? why : "unknown dlopen error") + kFix);
  }
  auto entry = reinterpret_cast<WebModuleEntry>(::dlsym(handle, kWebModuleSymbol));
  const WebModule* m = entry ? entry() : nullptr;
  if (m == nullptr)
    return fail(Errc::invalid_argument, path + " is not errand's dashboard module" + kFix);
  const char* version = m->version ? m->version : "(unknown)";
  if (m->abi != kWebModuleAbi || m->size != sizeof(WebModule) ||
      std::string_view(version) != ERRAND_VERSION)
    return fail(Errc::invalid_argument, path + " is the dashboard module of errand " + version +
                                            ", not of this errand " ERRAND_VERSION + kFix);
  // Same version, other headers: another build (a stale module).
  if (m->abi_hash == nullptr || std::string_view(m->abi_hash) != ERRAND_WEB_ABI_HASH)
    return fail(
        Errc::invalid_argument,
        path + " is the dashboard module of another build of errand " ERRAND_VERSION " (headers " +
            (m->abi_hash ? m->abi_hash : "(unknown)") + ", this errand's " ERRAND_WEB_ABI_HASH ")" +
            kFix);
  return m;
}

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

int run_web(const WebFlags& f) {
  auto module = load_web_module();
  if (!module) return fail_with(module.error());
  for (const auto& path : f.requires_)
    if (auto st = load_job_library(path); !st) return fail_with(st.error());
  auto cfg = resolve_config(f.store);
  if (!cfg) return fail_with(cfg.error());
  DashboardSettings s;
  s.bind = f.bind;
  s.port = f.port;
  s.hosts = f.hosts;
  s.insecure = f.insecure;
  s.cron = cfg->server.cron;
  auto token = secret(f.token, f.token_file, "ERRAND_WEB_TOKEN");
  if (!token) return fail_with(token.error());
  auto basic = secret(f.basic, f.basic_file, "ERRAND_WEB_BASIC");
  if (!basic) return fail_with(basic.error());
  s.token = *token;
  s.basic = *basic;
  auto queues = open_queues(*cfg);
  if (!queues)
    return fail_with("cannot open store " + redact_url(cfg->store) + ": " +
                     queues.error().message());
  if (auto st = (*module)->serve(s, std::move(queues).value()); !st) return fail_with(st.error());
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

Result<std::shared_ptr<void>> start_worker_web(const WorkerWebFlags& flags, const QueueMap& queues,
                                               ServerOptions& options) {
  if (!flags.enabled) return std::shared_ptr<void>();
  auto module = load_web_module();
  if (!module) return module.error();
  DashboardSettings s;
  s.bind = flags.bind;
  s.port = flags.port;
  s.hosts = flags.hosts;
  s.insecure = flags.insecure;
  s.token = secret("", "", "ERRAND_WEB_TOKEN").value_or("");
  s.basic = secret("", "", "ERRAND_WEB_BASIC").value_or("");
  return (*module)->start_in_worker(s, queues, options);
}

}  // namespace errand::cli
