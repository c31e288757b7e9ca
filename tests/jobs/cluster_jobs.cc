// Jobs for tests/cluster_test.cc, loaded into real worker processes with -r.
// Each appends one line per event to $ERRAND_RECORD_FILE with a single
// O_APPEND write, so lines from many processes never mix:
//   "S <n> <monotonic ns> <pid>" when perform starts, "E ..." when it ends.
// CLOCK_MONOTONIC is one clock for the whole machine, so the lines of
// different processes can be ordered against each other.
//
//   LimitedWork(n, ms)  at most 2 running across the cluster (queue "limited")
//   UniqueWork(n, ms)   one pending or running copy per n (queue "unique")
#include <errand/errand.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

void record(char what, std::int64_t n) {
  const char* path = std::getenv("ERRAND_RECORD_FILE");
  if (!path || !*path) throw std::runtime_error("ERRAND_RECORD_FILE is not set");
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::int64_t ns = static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  const std::string line = std::string(1, what) + " " + std::to_string(n) + " " +
                           std::to_string(ns) + " " + std::to_string(::getpid()) + "\n";
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(std::string("cannot open ") + path);
  const auto written = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()))
    throw std::runtime_error(std::string("cannot append to ") + path);
}

void work(std::int64_t n, int ms) {
  record('S', n);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  record('E', n);
}

}  // namespace

struct LimitedWork {
  static constexpr errand::JobOptions options{.queue = "limited", .concurrency_limit = 2};
  void perform(std::int64_t n, int ms) { work(n, ms); }
};
ERRAND_JOB(LimitedWork);

struct UniqueWork {
  static constexpr errand::JobOptions options{
      .queue = "unique", .unique = errand::Unique::until_executed, .unique_for = 300};
  void perform(std::int64_t n, int ms) { work(n, ms); }
};
ERRAND_JOB(UniqueWork);

// For tests/status_cli_test.cc: a result, a failure, a job that runs until
// it is stopped (cancelled) or `seconds` pass, all in queue "results".
struct ResultWork {
  static constexpr errand::JobOptions options{.queue = "results", .result_ttl = 600};
  errand::Json perform(std::int64_t n) { return {{"n", n}, {"square", n * n}}; }
};
ERRAND_JOB(ResultWork);

struct FailingWork {
  static constexpr errand::JobOptions options{.queue = "results", .retry = 0};
  void perform(std::string why) { throw std::runtime_error(why); }
};
ERRAND_JOB(FailingWork);

struct StoppableWork {
  static constexpr errand::JobOptions options{.queue = "results", .retry = 0};
  std::string perform(int seconds) {
    const auto& stop = errand::current_job().stop;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return stop.stop_requested() ? "stopped" : "finished";
  }
};
ERRAND_JOB(StoppableWork);

// Reports progress `steps` times ("step i of n"), then, with `hold`, waits
// for its stop token (a cancel) before returning.
struct ProgressWork {
  static constexpr errand::JobOptions options{.queue = "results", .retry = 0};
  int perform(int steps, bool hold) {
    const auto& job = errand::current_job();
    for (int i = 1; i <= steps; ++i)
      job.progress(static_cast<double>(i) / steps,
                   "step " + std::to_string(i) + " of " + std::to_string(steps));
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(600);
    while (hold && !job.stop.stop_requested() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return steps;
  }
};
ERRAND_JOB(ProgressWork);
