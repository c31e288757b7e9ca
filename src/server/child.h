// A child process that runs jobs for one processor (isolation process or
// fork). Forked from the worker, so it starts with every job library already
// loaded; it talks to its processor over a socketpair, one length-prefixed
// frame per job and one per outcome. The parent keeps the claim, the
// heartbeat and the ack: a child's death costs the job it was running, and
// nothing else.
//
// A crash (any fatal signal) is recorded by the child's async-signal-safe
// handler in a page shared with the parent: the signal and the return
// addresses of its stack. The parent, whose address space the child copied,
// symbolizes them (dladdr, demangled). A child that dies without reporting
// (SIGKILL, the kernel's OOM killer) is named by its wait status.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "errand/server.h"
#include "server/executor.h"
#include "server/outcome.h"

namespace errand {

/// What the child runs a job with: the same as a thread run, minus the
/// parent-only parts.
struct ChildRunner {
  Registry* registry = nullptr;
  const ServerChain* chain = nullptr;
  /// The child sends progress reports to the parent at most this often
  /// (plus the last one), in frames of their own before the outcome's.
  std::chrono::milliseconds progress_interval{250};
};

/// A progress report from the child (ProgressThrottle::Sink's shape).
using ChildProgress = std::function<void(double fraction, const std::string& message)>;

class Child {
 public:
  using steady_time = std::chrono::steady_clock::time_point;
  /// Runs the lazy one-time initializations a child needs (simdjson's CPU
  /// detection, a function-local static) while no fork can happen: a child
  /// forked while another thread is inside one inherits its guard held
  /// forever and hangs on its first job. Call before the processors start.
  static void prepare();
  /// Forks a child. Returns unavailable when fork or socketpair fails.
  static Result<std::unique_ptr<Child>> spawn(const ChildRunner& runner, const ChildOptions& o);
  ~Child();  ///< kills (SIGKILL) and reaps the child if it still runs
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Runs the job `payload` (fetched from `queue`) in the child and waits for
  /// its outcome. `timeout_s` > 0: past it the job's stop token is requested
  /// in the child, and after kill_grace the child is killed (JobTimeout).
  /// When `stop` fires (shutdown), the same happens without the timeout.
  /// A child that dies yields errand::WorkerCrashed; afterwards alive() is
  /// false and the caller spawns another.
  /// The job's progress reports arrive through `on_progress`, on this thread.
  Outcome run(const std::string& queue, const std::string& payload, double timeout_s,
              std::stop_token stop, const ChildProgress& on_progress = {});

  bool alive() const { return alive_; }
  pid_t pid() const { return pid_; }
  std::size_t jobs_run() const { return jobs_; }
  /// The child's resident set size in KiB (0 if unknown or gone).
  std::int64_t rss_kb() const;
  /// Whether the child should be replaced before its next job (memory or
  /// job-count limits).
  bool worn_out() const;

 private:
  Child() = default;
  /// Waits for the outcome frame, enforcing the timeout, the stop token and
  /// the hard memory cap. nullopt: the child died or was killed (killed_for_
  /// says why when errand killed it).
  std::optional<std::string> await(double timeout_s, std::stop_token stop,
                                   const ChildProgress& on_progress);
  /// Asks the job to stop (its stop token, in the child), then kills the
  /// child once kill_grace has passed. Returns true once killed.
  bool escalate(steady_time& asked, const char* why);
  /// The child is dead or killed: reap it and describe how it ended.
  Outcome reap(double timeout_s);

  std::string killed_for_;  ///< "timeout", "stop", "memory" or empty
  pid_t pid_ = -1;
  int fd_ = -1;
  void* crash_page_ = nullptr;
  bool alive_ = false;
  std::size_t jobs_ = 0;
  ChildOptions options_;
};

/// The child side (public for the fuzz and unit tests): serve frames on
/// `fd` until EOF, then _exit.
[[noreturn]] void child_main(int fd, void* crash_page, const ChildRunner& runner,
                             const ChildOptions& o);

/// The Outcome as frame text, and back (nullopt for a malformed frame).
std::string encode_outcome(const Outcome& o);
std::optional<Outcome> decode_outcome(std::string_view text);

/// A progress report as frame text ('P' and a JSON object; an outcome frame
/// starts with '{'), and back (nullopt: not a progress frame).
std::string encode_progress(double fraction, const std::string& message);
struct ChildReport {
  double fraction = 0;
  std::string message;
};
std::optional<ChildReport> decode_progress(std::string_view text);

}  // namespace errand
