// Shared pieces of the `errand` command-line tool: how a command reports its
// outcome, the store options most commands take, and small output helpers.
//
// Each command group lives in its own file and adds its subcommands to the
// app with an add_*_commands() function. Parsing only records what to run
// (Context::action); main() runs it after parsing succeeded, so usage errors
// (exit 2) never mix with runtime errors (exit 1).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "errand/errand.h"

namespace errand::cli {

/// Exit codes: 0 ok, 1 error, 2 usage.
inline constexpr int kOk = 0;
inline constexpr int kError = 1;
inline constexpr int kUsage = 2;

struct Context {
  /// What the parsed command line asked for; set by the chosen subcommand's
  /// callback. A group's own callback sets it only if a child did not.
  std::function<int()> action;
};

/// --store and -C, shared by every command that talks to a store.
struct StoreFlags {
  std::string store;   ///< empty: the config's store, else sqlite://errand.db
  std::string config;  ///< empty: no config file
};
void add_store_flags(CLI::App& cmd, StoreFlags& flags);

/// The configuration: the -C file if given (else defaults), with --store applied.
Result<Config> resolve_config(const StoreFlags& flags);
/// Opens the config's default store.
Result<std::shared_ptr<Store>> open_default_store(const StoreFlags& flags);

/// Prints "errand: <message>" on stderr and returns kError.
int fail_with(const std::string& message);
int fail_with(const Error& error);

/// A plain text table: columns padded to their widest cell.
void print_table(const std::vector<std::string>& header,
                 std::vector<std::vector<std::string>> rows);

/// "in 3m", "12s ago", from an epoch time relative to now.
std::string relative_time(double epoch);
/// The current time as epoch seconds.
double now_epoch();

/// Loads a job library with dlopen(RTLD_NOW | RTLD_GLOBAL); its ERRAND_JOB
/// registrations add classes to Registry::global(). On failure, an error
/// naming the path and dlerror()'s reason.
Status load_job_library(const std::string& path);

/// Where one of errand's own loadable libraries may be, in the order to try:
/// `file_name` beside the running binary (a build tree), then `from_bin`
/// relative to the binary's directory (an installed errand:
/// <libdir>/errand/<file>). Paths are normalised; none is checked.
std::vector<std::string> errand_library_candidates(const std::string& file_name,
                                                   const std::string& from_bin);

/// Under systemd (NOTIFY_SOCKET set), wires o.hooks to sd_notify: READY=1,
/// STOPPING=1, WATCHDOG=1 with each heartbeat (shortening the heartbeat to
/// half of WATCHDOG_USEC if needed) and STATUS=. Otherwise does nothing.
void wire_systemd_notify(ServerOptions& o);

void add_worker_command(CLI::App& app, Context& ctx);
void add_enqueue_command(CLI::App& app, Context& ctx);
void add_admin_commands(CLI::App& app, Context& ctx);
void add_demo_command(CLI::App& app, Context& ctx);
void add_new_command(CLI::App& app, Context& ctx);
void add_status_commands(CLI::App& app, Context& ctx);

}  // namespace errand::cli
