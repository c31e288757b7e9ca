// Job classes that crash their process, loaded into real `errand worker`
// processes by tests/isolation_cli_test.cc (and any test of crash handling).
#include <errand/errand.h>

#include <cstdlib>
#include <fstream>
#include <string>

// Exported (a shared library's default), so that a crash's backtrace names it.
[[gnu::noinline]] void errand_test_crash_segv_here() {
  volatile int* volatile p = nullptr;
  *p = 7;  // NOLINT: the crash is the point
}

struct CrashSegv {
  static constexpr errand::JobOptions options{.queue = "crashy", .retry = 0};
  void perform() { errand_test_crash_segv_here(); }
};
ERRAND_JOB(CrashSegv);

struct CrashAbort {
  static constexpr errand::JobOptions options{.queue = "crashy", .retry = 0};
  void perform() { std::abort(); }
};
ERRAND_JOB(CrashAbort);

struct CrashNothing {  // an ordinary job among the crashing ones
  static constexpr errand::JobOptions options{.queue = "crashy"};
  void perform(int) {}
};
ERRAND_JOB(CrashNothing);

// An ordinary job that leaves a mark (ran-<i> in the worker's directory), so
// that a test sees every run even when the worker dies before its counters
// reach the store.
struct CrashMark {
  static constexpr errand::JobOptions options{.queue = "crashy"};
  void perform(int i) { std::ofstream("ran-" + std::to_string(i)) << i; }
};
ERRAND_JOB(CrashMark);
