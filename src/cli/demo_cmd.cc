// `errand demo`: the example jobs, worked in-process. The jobs and the demo
// itself live in the examples library (liberrand_examples.so), which this
// command loads; the `errand` binary has no job class of its own.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/cli.h"
#include "core/log.h"
#include "jobs/examples.h"

namespace errand::cli {

namespace {

/// --examples, else $ERRAND_EXAMPLES, else beside the binary (a build tree),
/// else <libdir>/errand/ relative to the binary (an installed errand).
std::string find_examples_library(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("ERRAND_EXAMPLES"); env && *env) return env;
  const auto candidates =
      errand_library_candidates("liberrand_examples.so", ERRAND_DEMO_LIB_FROM_BIN);
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(candidate, ec)) return candidate;
  }
  return candidates.back();
}

int run_demo_from_library(const std::string& flag, const examples::DemoOptions& o) {
  const std::string path = find_examples_library(flag);
  if (auto st = load_job_library(path); !st)
    return fail_with(st.error().message() +
                     " (the demo's jobs; give their library with --examples)");
  using RunDemo = int (*)(const examples::DemoOptions*);
  auto* run = reinterpret_cast<RunDemo>(::dlsym(RTLD_DEFAULT, examples::kRunDemoSymbol));
  if (run == nullptr) return fail_with(path + " is not errand's examples library");
  // The progress line is the demo's output; engine chatter would break it up.
  log::set_level(log::Level::warn);
  return run(&o);
}

}  // namespace

void add_demo_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<examples::DemoOptions>();
  auto library = std::make_shared<std::string>();
  auto* demo = app.add_subcommand(
      "demo", "Enqueue and work a mix of the example jobs, then print a checked summary");
  demo->add_option("-n,--jobs", o->jobs, "how many jobs (default 500)")
      ->check(CLI::Range(1, 1'000'000));
  demo->add_option("--store", o->store, "store URL (default: a fresh sqlite://errand-demo.db)");
  demo->add_option("-c,--concurrency", o->concurrency, "worker threads (default 10)")
      ->check(CLI::Range(1, 1000));
  demo->add_option("--timeout", o->timeout_seconds, "give up after this many seconds (default 120)")
      ->check(CLI::PositiveNumber);
  demo->add_option("--examples", *library,
                   "the example jobs' library (default: liberrand_examples.so beside errand, "
                   "or in <libdir>/errand)");
  demo->callback([&ctx, o, library] {
    ctx.action = [o, library] { return run_demo_from_library(*library, *o); };
  });
}

}  // namespace errand::cli
