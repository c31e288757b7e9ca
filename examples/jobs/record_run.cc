// Two small jobs the process-level tests (tests/crash_test.cc) rely on, also
// handy to see delivery guarantees by hand:
//   RecordRun(n)       appends "n\n" to $ERRAND_RECORD_FILE (O_APPEND: one
//                      atomic write per run, so concurrent workers never mix lines)
//   SlowJob(n, ms)     works for `ms` milliseconds, giving up when errand asks
//                      it to stop (shutdown timeout), then records "n\n" the same way.
#include <errand/errand.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "jobs/examples.h"

namespace {

void append_record(std::int64_t n) {
  const char* path = std::getenv("ERRAND_RECORD_FILE");
  if (!path || !*path) throw std::runtime_error("ERRAND_RECORD_FILE is not set");
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error(std::string("cannot open ") + path + ": " + std::strerror(errno));
  const std::string line = std::to_string(n) + "\n";
  const auto written = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()))
    throw std::runtime_error(std::string("cannot append to ") + path);
}

/// Thrown by SlowJob when shutdown interrupts it; errand has already put the
/// job back in its queue by then, so it will run again.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace

struct RecordRun {
  static constexpr errand::JobOptions options{.queue = "default"};

  void perform(std::int64_t n) {
    // Stay in flight a little, so a SIGKILL lands while jobs are running.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    append_record(n);
    errand::examples::record_completion("RecordRun");
  }
};
ERRAND_JOB(RecordRun);

struct SlowJob {
  static constexpr errand::JobOptions options{.queue = "default"};

  void perform(std::int64_t n, int ms) {
    const auto& job = errand::current_job();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    // Long work checks its stop token between steps, as real jobs should.
    while (std::chrono::steady_clock::now() < until) {
      if (job.stop.stop_requested())
        throw Interrupted("SlowJob " + std::to_string(n) + " interrupted");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    append_record(n);
    errand::examples::record_completion("SlowJob");
  }
};
ERRAND_JOB(SlowJob);
