// Per-job metrics of one worker process, for /metrics when the dashboard is
// embedded in `errand worker --web`.
//
//   auto metrics = std::make_shared<errand::Metrics>();
//   server_options.middleware.push_back(metrics);   // counts every perform()
//   std::string text; metrics->render(text);        // Prometheus text format
//
// Counts jobs by class and queue (processed, failed), and observes each
// job's run time and how long it waited in its queue (enqueued_at → start)
// in fixed-bucket histograms. Discarded jobs count as processed, snoozed
// ones not at all; failures are rethrown untouched.
//
// Thread safety: call() and render() may run on many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "core/mutex.h"
#include "errand/middleware.h"

namespace errand {

class Metrics final : public ServerMiddleware {
 public:
  void call(const JobContext& job, const std::function<void()>& next) override;
  /// Appends the HELP/TYPE/sample lines of every per-job family to `out`.
  void render(std::string& out) const;

  /// Records one finished job (call() does this; public for tests).
  void observe(const std::string& job_class, const std::string& queue, double run_seconds,
               double wait_seconds, bool failed);

  static constexpr std::array<double, 12> kDurationBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1,    2.5,   5,    10,  30};
  static constexpr std::array<double, 12> kLatencyBuckets{0.01, 0.05, 0.1, 0.5, 1,   5,
                                                          10,   30,   60,  300, 900, 3600};

  struct Histogram {
    std::array<std::uint64_t, 12> buckets{};  ///< non-cumulative counts per bucket
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct ClassStats {
    std::uint64_t processed = 0;
    std::uint64_t failed = 0;
    Histogram duration;
  };

 private:
  mutable Mutex mu_;
  std::map<std::pair<std::string, std::string>, ClassStats> by_class_ GUARDED_BY(mu_);
  std::map<std::string, Histogram> latency_ GUARDED_BY(mu_);
};

/// Prometheus label value escaping: backslash, double quote and newline.
std::string prometheus_escape_label(std::string_view v);
/// Prometheus HELP text escaping: backslash and newline.
std::string prometheus_escape_help(std::string_view v);
/// A sample value: integers exactly, NaN/Inf as Prometheus spells them.
std::string prometheus_number(double v);

}  // namespace errand
