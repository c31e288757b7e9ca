// `errand`: the command-line tool. Parses the command line with CLI11, then
// runs the chosen command. Exit codes: 0 ok, 1 error, 2 usage.
#include <exception>
#include <iostream>

#include "cli/cli.h"
#include "cli/web_cmd.h"

int main(int argc, char** argv) {
  using namespace errand::cli;
  CLI::App app{"errand: background jobs for C++", "errand"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("errand ") + ERRAND_VERSION);
  Context ctx;
  add_worker_command(app, ctx);
  add_enqueue_command(app, ctx);
  add_admin_commands(app, ctx);
  add_status_commands(app, ctx);
  add_demo_command(app, ctx);
  add_new_command(app, ctx);
  add_web_command(app, ctx);
  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([&ctx] {
    ctx.action = [] {
      std::cout << "errand " << ERRAND_VERSION << "\n";
      return kOk;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0.
    const int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }
  if (!ctx.action) {
    std::cerr << app.help();
    return kUsage;
  }
  // Errors are values in errand, but a bug or std::bad_alloc must still end
  // in a message and exit 1, never an uncaught exception.
  try {
    return ctx.action();
  } catch (const errand::Error& e) {
    return fail_with(e);
  } catch (const std::exception& e) {
    return fail_with(std::string("unexpected error: ") + e.what());
  }
}
