// The dashboard module's entry point: what the `errand` binary calls in
// liberrand_web.so, which it loads with dlopen only when the dashboard is
// used (`errand web`, `errand worker --web`; web_cmd.cc). The module links
// errand_web and cpp-httplib (and with them OpenSSL, zlib, brotli), so a
// plain `errand worker` never maps any of them.
//
// The module is built from the same tree as the binary and installed beside
// it (<libdir>/errand/), so the calls pass C++ types; the binary refuses a
// module whose abi, size, version or header fingerprint differ from its own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "errand/errand.h"

namespace errand::cli {

/// The dashboard's settings, read by the CLI from its flags, files and
/// environment (the secrets already resolved).
struct DashboardSettings {
  std::string bind = "127.0.0.1";
  int port = 7433;
  std::vector<std::string> hosts;  ///< names the dashboard answers to (--host, --web-host)
  std::string token;               ///< non-empty: require this token
  std::string basic;               ///< non-empty "user:pass": accept basic auth
  bool insecure = false;           ///< allow a non-loopback bind without auth
  std::vector<CronEntry> cron;     ///< the periodic jobs to list
};

/// Bumped whenever this struct or DashboardSettings changes.
inline constexpr std::uint32_t kWebModuleAbi = 2;

/// The first three members keep their place in every abi, so that a binary
/// can tell any module that it is not its own.
struct WebModule {
  std::uint32_t abi;    ///< kWebModuleAbi of the module
  std::uint32_t size;   ///< sizeof(WebModule) in the module
  const char* version;  ///< ERRAND_VERSION of the module
  /// ERRAND_WEB_ABI_HASH of the module: the fingerprint of the headers it
  /// was built from (cmake/cli.cmake), which must be the binary's.
  const char* abi_hash;

  /// `errand web`: serves the dashboard on `queues`' default store, printing
  /// its URL, until SIGINT or SIGTERM; then returns ok. An error if the
  /// settings are unsafe (no auth beyond loopback) or the address cannot be
  /// bound.
  Status (*serve)(const DashboardSettings& settings, QueueMap queues);

  /// `errand worker --web`: adds the per-job metrics middleware to `options`
  /// and starts the dashboard on `queues`' default store (its cron "enqueue
  /// now" goes through `queues`). The handle stops it when destroyed.
  Result<std::shared_ptr<void>> (*start_in_worker)(const DashboardSettings& settings,
                                                   const QueueMap& queues, ServerOptions& options);
};

/// The name of the module's one exported entry point, of type WebModuleEntry.
inline constexpr const char* kWebModuleSymbol = "errand_web_module";
using WebModuleEntry = const WebModule* (*)();

}  // namespace errand::cli

/// Defined by liberrand_web.so (web_module.cc).
extern "C" const errand::cli::WebModule* errand_web_module();
