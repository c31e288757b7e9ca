// Job classes for the Ruby interop tests (interop/*.rb, tests/interop_test.cc),
// registered under Ruby-style names so that Sidekiq::Client pushes them as it
// would push Ruby workers. Loaded with `errand worker -r liberrand_interop_jobs.so`.
//
// Every job reports what it ran as one line appended (O_APPEND, one write) to
// the file named by the environment variable ERRAND_INTEROP_OUT, so that
// several worker processes can share one file and a killed worker leaves only
// whole lines behind.
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

#include "errand/errand.h"

namespace interop {

/// What the failing jobs throw; its demangled name is the retry/dead entry's error_class.
class InteropError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace {

/// Appends `line` and a newline to $ERRAND_INTEROP_OUT in one write(2).
void append_line(std::string line) {
  const char* path = std::getenv("ERRAND_INTEROP_OUT");
  if (path == nullptr || *path == '\0')
    throw std::runtime_error("ERRAND_INTEROP_OUT is not set: nowhere to record the job");
  line += '\n';
  const int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(std::string("open ") + path + ": " + std::strerror(errno));
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()))
    throw std::runtime_error(std::string("write ") + path + ": " + std::strerror(saved));
}

/// One JSON line describing the running job and the arguments perform() got.
void record(const errand::Json& args, const char* event = "ran") {
  const errand::JobContext& ctx = errand::current_job();
  errand::Json line{
      {"event", event},
      {"class", ctx.job_class},
      {"jid", ctx.jid},
      {"queue", ctx.queue},
      {"retry_count", ctx.retry_count},
      {"args", args},
      {"pid", static_cast<std::int64_t>(::getpid())},
      {"at",
       std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()}};
  append_line(line.dump());
}

/// Records its one argument (any JSON value).
struct Echo {
  static constexpr errand::JobOptions options{.queue = "interop"};
  void perform(errand::Json value) { record(errand::Json::array({value})); }
};

/// Typed arguments: the conversion from Ruby's JSON must give exactly these.
struct Typed {
  static constexpr errand::JobOptions options{.queue = "interop"};
  void perform(std::int64_t n, std::string s, errand::Json h, bool flag, double x) {
    record(errand::Json::array({n, s, h, flag, x}));
  }
};

/// The C++ side of the ActiveJob class Interop::ActiveEchoJob (perform(n, s, h)).
struct ActiveEcho {
  static constexpr errand::JobOptions options{.queue = "interop"};
  void perform(std::int64_t n, std::string s, errand::Json h) {
    record(errand::Json::array({n, s, h}));
  }
};

/// Always fails; one retry after about a second (plus Sidekiq's jitter), then dead.
struct Fail {
  static constexpr errand::JobOptions options{.queue = "interop", .retry = 1};
  static std::chrono::seconds retry_in(int) { return std::chrono::seconds(1); }
  void perform(errand::Json value) {
    record(errand::Json::array({value}), "attempt");
    throw InteropError("interop failure for " + value.dump());
  }
};

/// Always fails and waits an hour before its retry: stays in the retry set
/// for the API and Web UI tests.
struct FailLater {
  static constexpr errand::JobOptions options{.queue = "interop", .retry = 3};
  static std::chrono::seconds retry_in(int) { return std::chrono::hours(1); }
  void perform(errand::Json value) {
    record(errand::Json::array({value}), "attempt");
    throw InteropError("interop failure for " + value.dump());
  }
};

/// Sleeps `seconds` (for the busy / Workers views and quiet / stop), giving
/// up early when the worker asks running jobs to stop.
struct Slow {
  static constexpr errand::JobOptions options{.queue = "interop"};
  void perform(double seconds) {
    record(errand::Json::array({seconds}), "started");
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(seconds));
    const std::stop_token stop = errand::current_job().stop;
    while (std::chrono::steady_clock::now() < until) {
      if (stop.stop_requested()) {
        record(errand::Json::array({seconds}), "interrupted");
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    record(errand::Json::array({seconds}), "finished");
  }
};

/// The chaos tests' job: appends its number, nothing else (cheap, 10,000s of them).
struct Record {
  static constexpr errand::JobOptions options{.queue = "chaos"};
  void perform(std::int64_t n) { append_line(std::to_string(n)); }
};

}  // namespace
}  // namespace interop

ERRAND_JOB_NAMED(interop::Echo, "Interop::EchoJob");
ERRAND_JOB_NAMED(interop::Typed, "Interop::TypedJob");
ERRAND_JOB_NAMED(interop::ActiveEcho, "Interop::ActiveEchoJob");
ERRAND_JOB_NAMED(interop::Fail, "Interop::FailJob");
ERRAND_JOB_NAMED(interop::FailLater, "Interop::FailLaterJob");
ERRAND_JOB_NAMED(interop::Slow, "Interop::SlowJob");
ERRAND_JOB_NAMED(interop::Record, "Interop::RecordJob");
