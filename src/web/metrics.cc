// /metrics in the Prometheus text exposition format, version 0.0.4, and the
// worker-side middleware that feeds its per-job families.
#include "web/metrics.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "errand/payload.h"
#include "web/app.h"

namespace errand {

std::string prometheus_escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string prometheus_escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string prometheus_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += prometheus_escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

using Labels = std::vector<std::pair<std::string, std::string>>;

void sample(std::string& out, std::string_view name, const Labels& labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out += ',';
      first = false;
      out += k;
      out += "=\"";
      out += prometheus_escape_label(v);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += prometheus_number(value);
  out += '\n';
}

/// A bucket bound as client libraries write it: "0.005", "1.0", "30.0".
std::string le_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v == std::floor(v) ? "%.1f" : "%g", v);
  return buf;
}

template <class Buckets>
void histogram(std::string& out, std::string_view name, const Labels& labels,
               const Metrics::Histogram& h, const Buckets& bounds) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += h.buckets[i];
    Labels l = labels;
    l.emplace_back("le", le_text(bounds[i]));
    sample(out, std::string(name) + "_bucket", l, static_cast<double>(cumulative));
  }
  Labels inf = labels;
  inf.emplace_back("le", "+Inf");
  sample(out, std::string(name) + "_bucket", inf, static_cast<double>(h.count));
  sample(out, std::string(name) + "_sum", labels, h.sum);
  sample(out, std::string(name) + "_count", labels, static_cast<double>(h.count));
}

template <class Buckets>
void add(Metrics::Histogram& h, const Buckets& bounds, double v) {
  if (!std::isfinite(v) || v < 0) v = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (v <= bounds[i]) {
      ++h.buckets[i];
      break;
    }
  ++h.count;
  h.sum += v;
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

void Metrics::observe(const std::string& job_class, const std::string& queue, double run_seconds,
                      double wait_seconds, bool failed) {
  MutexLock lock(mu_);
  auto& s = by_class_[{job_class, queue}];
  ++s.processed;
  if (failed) ++s.failed;
  add(s.duration, kDurationBuckets, run_seconds);
  if (wait_seconds >= 0) add(latency_[queue], kLatencyBuckets, wait_seconds);
}

void Metrics::call(const JobContext& job, const std::function<void()>& next) {
  const double started = wall_now();
  const double wait = job.enqueued_at > 0 ? started - job.enqueued_at : -1;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  try {
    next();
  } catch (const Snooze&) {
    throw;  // not an outcome: the job runs again later
  } catch (const Discard&) {
    observe(job.job_class, job.queue, elapsed(), wait, false);
    throw;
  } catch (...) {
    observe(job.job_class, job.queue, elapsed(), wait, true);
    throw;
  }
  observe(job.job_class, job.queue, elapsed(), wait, false);
}

void Metrics::render(std::string& out) const {
  MutexLock lock(mu_);
  family(out, "errand_jobs_processed_total", "counter",
         "Jobs finished by this worker process since it started, by class and queue.");
  for (const auto& [key, s] : by_class_)
    sample(out, "errand_jobs_processed_total", {{"class", key.first}, {"queue", key.second}},
           static_cast<double>(s.processed));
  family(out, "errand_jobs_failed_total", "counter",
         "Jobs that failed in this worker process since it started, by class and queue.");
  for (const auto& [key, s] : by_class_)
    sample(out, "errand_jobs_failed_total", {{"class", key.first}, {"queue", key.second}},
           static_cast<double>(s.failed));
  family(out, "errand_job_duration_seconds", "histogram",
         "How long perform() ran, by class and queue.");
  for (const auto& [key, s] : by_class_)
    histogram(out, "errand_job_duration_seconds", {{"class", key.first}, {"queue", key.second}},
              s.duration, kDurationBuckets);
  family(out, "errand_job_queue_latency_seconds", "histogram",
         "How long jobs waited in their queue before they started, by queue.");
  for (const auto& [queue, h] : latency_)
    histogram(out, "errand_job_queue_latency_seconds", {{"queue", queue}}, h, kLatencyBuckets);
}

namespace web {

std::string render_metrics(App& app) {
  std::string out;
  auto stats = app.admin->stats();
  if (stats) {
    const Stats& s = *stats;
    family(out, "errand_processed_total", "counter", "Jobs processed (all processes, all time).");
    sample(out, "errand_processed_total", {}, static_cast<double>(s.processed));
    family(out, "errand_failed_total", "counter", "Jobs failed (all processes, all time).");
    sample(out, "errand_failed_total", {}, static_cast<double>(s.failed));
    family(out, "errand_scheduled_jobs", "gauge", "Jobs in the scheduled set.");
    sample(out, "errand_scheduled_jobs", {}, static_cast<double>(s.scheduled));
    family(out, "errand_retry_jobs", "gauge", "Jobs in the retry set.");
    sample(out, "errand_retry_jobs", {}, static_cast<double>(s.retries));
    family(out, "errand_dead_jobs", "gauge", "Jobs in the dead set.");
    sample(out, "errand_dead_jobs", {}, static_cast<double>(s.dead));
    family(out, "errand_processes", "gauge", "Live worker processes.");
    sample(out, "errand_processes", {}, static_cast<double>(s.processes));
    family(out, "errand_busy_threads", "gauge", "Worker threads running a job now.");
    sample(out, "errand_busy_threads", {}, static_cast<double>(s.busy));
    family(out, "errand_enqueued_jobs", "gauge", "Jobs waiting in all queues.");
    sample(out, "errand_enqueued_jobs", {}, static_cast<double>(s.enqueued));
  }
  auto queues = app.admin->queues();
  if (queues) {
    family(out, "errand_queue_size", "gauge", "Jobs waiting in the queue.");
    for (const auto& q : *queues)
      sample(out, "errand_queue_size", {{"queue", q.name}}, static_cast<double>(q.size));
    family(out, "errand_queue_latency_seconds", "gauge",
           "Seconds since the oldest waiting job of the queue was enqueued.");
    for (const auto& q : *queues)
      sample(out, "errand_queue_latency_seconds", {{"queue", q.name}}, q.latency);
  }
  family(out, "errand_up", "gauge", "1 if the store answered this scrape, else 0.");
  sample(out, "errand_up", {}, stats && queues ? 1 : 0);
  if (app.options.metrics) app.options.metrics->render(out);
  return out;
}

}  // namespace web
}  // namespace errand
