// `errand worker`: Sidekiq's `sidekiq` command. Loads job libraries, builds
// the server options from errand.yml and the flags (flags win), and runs an
// errand::Server until SIGTERM/SIGINT (graceful stop) or a TERM through the
// store; SIGTSTP quiets it. It logs to stdout (text, or JSON lines with
// --log-format json).
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

// GCC 12 reports a false -Wdangling-pointer inside yaml-cpp's node code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop

#include "cli/cli.h"
#include "cli/web_cmd.h"
#include "core/log.h"
#include "core/log_output.h"
#include "core/redact.h"

namespace errand::cli {

namespace {

struct WorkerFlags {
  StoreFlags store;
  int concurrency = 10;
  std::vector<std::string> queues;
  double timeout = 25;
  std::vector<std::string> requires_;
  std::string tag;
  std::string log_format;
  std::string log_level;
  double poll_interval = 0;
  double heartbeat_interval = 0;
  double process_ttl = 0;
  double rescue_interval = 0;
  bool verbose = false;
  bool no_status = false;
  bool publish_events = false;
  std::string isolation;
  int max_crashes = 3;
  WorkerWebFlags web;
  // Which flags were given, so that only those override the config file.
  CLI::Option* concurrency_opt = nullptr;
  CLI::Option* timeout_opt = nullptr;
  CLI::Option* poll_opt = nullptr;
  CLI::Option* heartbeat_opt = nullptr;
  CLI::Option* ttl_opt = nullptr;
  CLI::Option* rescue_opt = nullptr;
  CLI::Option* crashes_opt = nullptr;
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

/// "-q name" or "-q name,weight" (Sidekiq's syntax).
Result<QueueWeight> parse_queue(const std::string& spec) {
  QueueWeight q;
  auto comma = spec.rfind(',');
  q.name = spec.substr(0, comma);
  if (comma != std::string::npos) {
    const std::string w = spec.substr(comma + 1);
    if (w.empty() || w.size() > 6 ||
        !std::all_of(w.begin(), w.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
      return fail(Errc::invalid_argument,
                  "-q " + spec + ": the weight after the comma must be a whole number");
    q.weight = std::stoi(w);
  }
  if (q.name.empty()) return fail(Errc::invalid_argument, "-q " + spec + ": empty queue name");
  return q;
}

/// True if the config file names its queues (parse_config already validated it).
bool config_names_queues(const std::string& path) {
  if (path.empty()) return false;
  try {
    return static_cast<bool>(YAML::LoadFile(path)["queues"]);
  } catch (const YAML::Exception&) {
    return false;
  }
}

/// With no -q and no queues in the config: "default" plus every queue a
/// loaded job class uses, equally weighted, so `errand worker -r libjobs.so`
/// runs every job it knows.
std::vector<QueueWeight> queues_of_registered_jobs() {
  std::vector<QueueWeight> out{{"default", 1}};
  std::set<std::string> seen{"default"};
  for (const auto& name : Registry::global().names()) {
    auto job = Registry::global().find(name);
    if (!job) continue;
    for (const auto& q : {job->queue, job->retry_queue})
      if (!q.empty() && seen.insert(q).second) out.push_back({q, 1});
  }
  return out;
}

/// --log-level NAME (CLI11 checked the name), else the config's log_level;
/// -v is --log-level debug.
void apply_log_level(const WorkerFlags& f, const Config& config) {
  if (auto level = log::level_from_string(f.log_level))
    log::set_level(*level);
  else if (config.log_level)
    log::set_level(*config.log_level);
  if (f.verbose) log::set_level(log::Level::debug);
}

int run_worker(const WorkerFlags& f) {
  // The worker's log is its output, on stdout as Sidekiq's; errors that
  // stop it (fail_with) stay on stderr.
  log::set_output_fd(1);
  auto loaded = resolve_config(f.store);
  if (!loaded) return fail_with(loaded.error());
  Config config = std::move(loaded).value();
  apply_log_level(f, config);
  ServerOptions& o = config.server;
  if (f.concurrency_opt->count() > 0) o.concurrency = f.concurrency;
  if (f.timeout_opt->count() > 0) o.shutdown_timeout = millis(f.timeout);
  if (f.poll_opt->count() > 0) o.poll_interval = millis(f.poll_interval);
  if (f.heartbeat_opt->count() > 0) o.heartbeat_interval = millis(f.heartbeat_interval);
  if (f.ttl_opt->count() > 0) o.process_ttl = millis(f.process_ttl);
  if (f.rescue_opt->count() > 0) o.rescue_interval = millis(f.rescue_interval);
  if (f.crashes_opt->count() > 0) o.max_crashes = f.max_crashes;
  if (!f.tag.empty()) o.tag = f.tag;
  if (f.no_status) o.record_status = false;
  if (f.publish_events) o.publish_events = true;
  if (!f.isolation.empty()) {
    auto iso = isolation_from_string(f.isolation);
    if (!iso || *iso == Isolation::inherit)
      return fail_with("--isolation must be thread, process or fork (got '" + f.isolation + "')");
    o.isolation = *iso;
  }
  if (f.log_format == "json") o.log_format = LogFormat::json;
  if (f.log_format == "text") o.log_format = LogFormat::text;
  // The server does not apply log_format itself; the process-wide logger does.
  log::set_format(o.log_format);
  if (o.process_ttl <= o.heartbeat_interval)
    return fail_with("--process-ttl must be longer than --heartbeat-interval");

  for (const auto& path : f.requires_)
    if (auto st = load_job_library(path); !st) return fail_with(st.error());

  if (!f.queues.empty()) {
    o.queues.clear();
    for (const auto& spec : f.queues) {
      auto q = parse_queue(spec);
      if (!q) return fail_with(q.error());
      o.queues.push_back(*q);
    }
  } else if (!config_names_queues(f.store.config)) {
    o.queues = queues_of_registered_jobs();
  }

  auto queues = open_queues(config);
  if (!queues)
    return fail_with("cannot open store " + redact_url(config.store) + ": " +
                     queues.error().message());

  std::string qs, classes;
  for (const auto& q : o.queues)
    qs += (qs.empty() ? "" : ",") + q.name + (q.weight > 0 ? ":" + std::to_string(q.weight) : "");
  auto names = Registry::global().names();
  std::sort(names.begin(), names.end());
  for (const auto& n : names) classes += (classes.empty() ? "" : ",") + n;
  log::info("errand " ERRAND_VERSION " worker", {{"store", redact_url(config.store)},
                                                 {"concurrency", std::to_string(o.concurrency)},
                                                 {"queues", qs}});
  log::info("job classes", {{"count", std::to_string(names.size())}, {"classes", classes}});
  if (names.empty())
    log::warn("no job classes are loaded: every job fetched will fail; load a job library with -r");
  log::output::flush();  // the banner is on screen before the first job's lines

  auto web = start_worker_web(f.web, *queues, o);
  if (!web) return fail_with(web.error());
  wire_systemd_notify(o);
  Server server(std::move(queues).value(), o);
  if (auto st = server.run(); !st) return fail_with(st.error());
  return kOk;
}

}  // namespace

void add_worker_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<WorkerFlags>();
  auto* cmd = app.add_subcommand("worker", "Run jobs (until SIGTERM/SIGINT; SIGTSTP quiets)");
  f->concurrency_opt =
      cmd->add_option("-c,--concurrency", f->concurrency, "worker threads (default 10)")
          ->check(CLI::Range(1, 10000));
  cmd->add_option("-q,--queue", f->queues,
                  "queue to work, NAME or NAME,WEIGHT; repeatable (default: 'default' and "
                  "every queue a loaded job class uses)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  f->timeout_opt =
      cmd->add_option("-t,--timeout", f->timeout, "shutdown timeout in seconds (default 25)")
          ->check(CLI::NonNegativeNumber);
  cmd->add_option("-r,--require", f->requires_, "job library to load (.so); repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--tag", f->tag, "a tag shown in `errand processes`");
  cmd->add_option("--log-format", f->log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  f->poll_opt =
      cmd->add_option("--poll-interval", f->poll_interval, "seconds between scheduled/retry polls")
          ->check(CLI::PositiveNumber);
  f->heartbeat_opt =
      cmd->add_option("--heartbeat-interval", f->heartbeat_interval, "seconds between heartbeats")
          ->check(CLI::PositiveNumber);
  f->ttl_opt = cmd->add_option("--process-ttl", f->process_ttl,
                               "seconds after its last heartbeat when a process counts as gone")
                   ->check(CLI::PositiveNumber);
  f->rescue_opt = cmd->add_option("--rescue-interval", f->rescue_interval,
                                  "seconds between looks for jobs of dead processes")
                      ->check(CLI::PositiveNumber);
  f->crashes_opt = cmd->add_option("--max-crashes", f->max_crashes,
                                   "workers a job may take down before it goes to the dead set "
                                   "as errand::PoisonPill (default 3; 0: never)")
                       ->check(CLI::NonNegativeNumber);
  cmd->add_option("--isolation", f->isolation,
                  "where jobs run: thread (default), process (pre-forked children) or fork "
                  "(a child per job); see docs/isolation.md");
  cmd->add_option("--log-level", f->log_level,
                  "debug, info (default), warn (no per-job start/done lines) or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "warning", "error"}));
  cmd->add_flag("-v,--verbose", f->verbose, "debug logging (--log-level debug)");
  cmd->add_flag("--no-status", f->no_status,
                "record no job status or results (one store write less per batch of jobs); see "
                "docs/workflows.md");
  cmd->add_flag("--publish-events", f->publish_events,
                "publish every job event (started, progress, succeeded, ...) to the store for "
                "Client::subscribe; see docs/workflows.md");
  add_store_flags(*cmd, f->store);
  add_worker_web_flags(*cmd, f->web);
  cmd->callback([&ctx, f] { ctx.action = [f] { return run_worker(*f); }; });
}

}  // namespace errand::cli
