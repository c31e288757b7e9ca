// The example jobs' small shared API: where they write their files, how many
// of them finished in this process, and the demo that runs them.
//
// The jobs themselves (SendWelcomeEmail, GenerateThumbnail, BuildSalesReport,
// FlakyPaymentSync, SalesReportsSummary, RecordRun, SlowJob) register with ERRAND_JOB when the
// library is loaded: link it, or load it into a worker with `errand worker -r`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace errand::examples {

/// The directory the jobs write into: $ERRAND_DEMO_OUT if set, else the
/// current directory. `sub` (e.g. "mail") is created under it if missing.
/// Throws std::filesystem::filesystem_error if it cannot be created.
std::filesystem::path output_dir(std::string_view sub);

/// Called by each example job as the last step of a successful perform().
/// Thread-safe.
void record_completion(std::string_view job_class);

/// Successful performs in this process since it started, in total and per
/// class. Thread-safe; a snapshot.
std::int64_t completed();
std::map<std::string, std::int64_t> completed_by_class();

/// `errand demo`: what to run and where.
struct DemoOptions {
  int jobs = 500;
  std::string store;  ///< empty: a fresh sqlite://errand-demo.db in the current dir
  int concurrency = 10;
  double timeout_seconds = 120;  ///< give up (exit 1) if the jobs have not all succeeded by then
};

/// Enqueues `jobs` example jobs, works them in-process, shows progress on
/// stdout and prints a summary. Returns 0 if every job succeeded exactly as
/// expected (none dead, none lost), else 1 with the reason on stderr.
int run_demo(const DemoOptions& options);

}  // namespace errand::examples

/// The demo's entry point for `errand demo`, which dlopen()s this library and
/// looks the function up by this unmangled name (kRunDemoSymbol).
extern "C" int errand_examples_run_demo(const errand::examples::DemoOptions* options);
namespace errand::examples {
inline constexpr const char* kRunDemoSymbol = "errand_examples_run_demo";
}  // namespace errand::examples
