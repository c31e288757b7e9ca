// ProgressThrottle: how JobContext::progress reports become store writes
// and events without costing the job. The first report goes out at once;
// later ones at most once per interval; the last one held back goes out with
// flush() when perform() returns. Used in the worker (sink: record_progress
// and the progress event) and in a child process (sink: a progress frame to
// the parent, see child.h).
//
// Thread safety: report() and flush() may be called from any thread; the
// sink runs under the throttle's mutex, so reports leave in order.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "server/service.h"

namespace errand {

struct Runtime;
struct Source;
struct JobView;
struct JobDescriptor;

class ProgressThrottle {
 public:
  using Sink = std::function<void(double fraction, const std::string& message)>;
  ProgressThrottle(std::chrono::milliseconds interval, Sink sink)
      : interval_(interval), sink_(std::move(sink)) {}

  void report(double fraction, std::string_view message) EXCLUDES(mu_);
  /// Sends the report held back, if any (when perform() returned).
  void flush() EXCLUDES(mu_);
  /// The same, once the interval since the last report sent has passed
  /// (the periodic flushers): reports stay an interval apart.
  void flush_due() EXCLUDES(mu_);
  /// How many reports reached the sink.
  std::size_t sent() const EXCLUDES(mu_);

 private:
  struct Report {
    double fraction = 0;
    std::string message;
  };
  using steady = std::chrono::steady_clock;

  const std::chrono::milliseconds interval_;
  const Sink sink_;
  mutable Mutex mu_;
  std::optional<steady::time_point> last_ GUARDED_BY(mu_);  // when the sink last ran
  std::optional<Report> held_ GUARDED_BY(mu_);
  std::size_t sent_ GUARDED_BY(mu_) = 0;
};

/// The worker's throttle for one running job: each report it lets through
/// is stored (Store::record_progress, on stores that keep status, unless
/// record_status is off) and made a progress event. A failed write is
/// logged once per job, never retried.
std::shared_ptr<ProgressThrottle> job_progress(Runtime& rt, Source& src, const JobView& v,
                                               const JobDescriptor* desc);

/// Sends the reports held back by the running jobs' throttles (Slot::
/// progress) every progress_interval, so that a job that reported twice and
/// then works on in silence shows its latest report, not its first.
class ProgressFlusher : public Service {
 public:
  explicit ProgressFlusher(Runtime& rt) : rt_(rt) {}
  const char* name() const override { return "progress flusher"; }
  std::chrono::milliseconds next_interval() override;
  void run_once() override;
  /// Only running jobs concern it: asleep while none runs.
  bool idle() override;

 private:
  Runtime& rt_;
};

}  // namespace errand
