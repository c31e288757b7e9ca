// `errand demo` (the example jobs, worked in-process) and `errand version`.
#include <iostream>

#include "cli/cli.h"
#include "core/log.h"
#include "jobs/examples.h"

namespace errand::cli {

void add_demo_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<examples::DemoOptions>();
  auto* demo = app.add_subcommand(
      "demo", "Enqueue and work a mix of the example jobs, then print a checked summary");
  demo->add_option("-n,--jobs", o->jobs, "how many jobs (default 500)")
      ->check(CLI::Range(1, 1'000'000));
  demo->add_option("--store", o->store, "store URL (default: a fresh sqlite://errand-demo.db)");
  demo->add_option("-c,--concurrency", o->concurrency, "worker threads (default 10)")
      ->check(CLI::Range(1, 1000));
  demo->add_option("--timeout", o->timeout_seconds, "give up after this many seconds (default 120)")
      ->check(CLI::PositiveNumber);
  demo->callback([&ctx, o] {
    ctx.action = [o] {
      // The progress line is the demo's output; engine chatter would break it up.
      log::set_level(log::Level::warn);
      return examples::run_demo(*o);
    };
  });

  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([&ctx] {
    ctx.action = [] {
      std::cout << "errand " << ERRAND_VERSION << "\n";
      return kOk;
    };
  });
}

}  // namespace errand::cli
