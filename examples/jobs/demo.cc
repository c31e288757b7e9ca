// `errand demo`: enqueues a mix of the example jobs, works them with an
// in-process errand::Server, shows progress, and checks the outcome the way
// an operator would: every job succeeded exactly once, nothing dead, nothing
// left behind in a queue or set.
#include <errand/errand.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobs/examples.h"

namespace errand::examples {

namespace {

constexpr const char* kDefaultDb = "errand-demo.db";
constexpr const char* kCallback = "SalesReportsSummary";  // the reports batch's on_success

/// The jobs of one class the demo enqueues.
struct ClassPlan {
  std::string job_class;
  std::vector<Json> arg_lists;
};

/// A small deterministic generator, so two demo runs enqueue the same work.
struct Lcg {
  std::uint64_t state;
  std::uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() % 1'000'000) / 1'000'000.0;
  }
};

std::vector<ClassPlan> plan_jobs(int n) {
  // A few flaky payments (so one failure and its retry are visible), then
  // emails, thumbnails and reports in a 40/35/25 split.
  const int flaky = n >= 10 ? std::clamp(n / 100, 1, 5) : (n >= 2 ? 1 : 0);
  const int rest = n - flaky;
  const int emails = rest * 40 / 100;
  const int thumbs = rest * 35 / 100;
  const int reports = rest - emails - thumbs;

  std::vector<ClassPlan> out;
  Lcg rng{42};
  ClassPlan pay{"FlakyPaymentSync", {}};
  for (int i = 0; i < flaky; ++i) pay.arg_lists.push_back(Json::array({9000 + i}));
  ClassPlan mail{"SendWelcomeEmail", {}};
  static const char* const kLocales[] = {"en", "fr", "de"};
  for (int i = 0; i < emails; ++i)
    mail.arg_lists.push_back(Json::array({1000 + i, kLocales[i % 3]}));
  ClassPlan thumb{"GenerateThumbnail", {}};
  for (int i = 0; i < thumbs; ++i) {
    const int w = 64 + (i % 4) * 32;
    char name[32];
    std::snprintf(name, sizeof name, "photo-%04d", i);
    thumb.arg_lists.push_back(Json::array({name, w, w * 3 / 4}));
  }
  ClassPlan report{"BuildSalesReport", {}};
  for (int i = 0; i < reports; ++i) {
    char month[16];
    std::snprintf(month, sizeof month, "%04d-%02d", 2000 + i / 12, i % 12 + 1);
    Json amounts = Json::array();
    const int sales = 50 + static_cast<int>(rng.next() % 350);
    for (int s = 0; s < sales; ++s) amounts.push_back(rng.uniform(5, 500));
    report.arg_lists.push_back(Json::array({month, amounts}));
  }
  // Payments first: their retries then overlap with the rest of the work.
  for (auto* b : {&pay, &mail, &thumb, &report})
    if (!b->arg_lists.empty()) out.push_back(std::move(*b));
  return out;
}

/// Failures seen by the server's error handler, per class (thread-safe).
struct FailureLog {
  std::mutex mu;
  std::map<std::string, std::int64_t> failed;  // guarded by mu
  std::map<std::string, std::int64_t> dead;    // guarded by mu
  std::vector<std::string> dead_messages;      // guarded by mu
};

std::string job_class_of(const Json& payload) {
  auto it = payload.find("class");
  return it != payload.end() && it->is_string() ? it->get<std::string>() : "?";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Enqueues the monthly reports as one batch whose on_success callback,
/// SalesReportsSummary (examples/jobs/sales_reports_summary.cc), runs once
/// after the last report was written. Returns the batch's bid.
Result<std::string> enqueue_reports(Client& client, const JobDescriptor& job,
                                    const std::vector<Json>& arg_lists) {
  Json months = Json::array();
  for (const auto& args : arg_lists) months.push_back(args.at(0));
  Batch batch(client, "monthly sales reports");
  batch.callback(BatchEvent::success, "SalesReportsSummary", Json::array({months}));
  Status pushed;
  Status closed = batch.jobs([&](Client& c) { pushed = c.push_bulk(job, arg_lists, {}).status(); });
  if (!closed) return closed.error();
  if (!pushed) return pushed.error();
  return batch.bid();
}

/// The batch's line of the summary; sets `reason` if it did not succeed or
/// its callback did not run exactly once.
void report_batch(Client& client, const std::string& bid, std::int64_t callbacks,
                  std::string& reason) {
  auto st = client.batch_status(bid);
  if (!st) {
    if (reason.empty()) reason = "cannot read batch " + bid + ": " + st.error().message();
    return;
  }
  std::cout << "  batch:           " << st->description << " (" << bid
            << "): " << st->total - st->pending << "/" << st->total << " succeeded, "
            << (st->success ? "success" : "not yet successful") << ", callback ran " << callbacks
            << (callbacks == 1 ? " time" : " times") << "\n";
  if (reason.empty() && (!st->success || callbacks != 1))
    reason = "batch " + bid + ": success " + (st->success ? "yes" : "no") + ", callback ran " +
             std::to_string(callbacks) + " times, expected once";
}

}  // namespace

int run_demo(const DemoOptions& o) {
  if (o.jobs < 1) {
    std::cerr << "errand demo: --jobs must be at least 1\n";
    return 1;
  }
  if (o.concurrency < 1) {
    std::cerr << "errand demo: concurrency must be at least 1\n";
    return 1;
  }
  std::string url = o.store;
  if (url.empty()) {
    // A fresh database every run, so the checks below see only this demo's jobs.
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(std::string(kDefaultDb) + suffix, ec);
    url = std::string("sqlite://") + kDefaultDb;
  }
  auto opened = open_store(url);
  if (!opened) {
    std::cerr << "errand demo: cannot open store " << url << ": " << opened.error().message()
              << "\n";
    return 1;
  }
  std::shared_ptr<Store> store = *opened;
  Admin admin(store);
  if (auto s = admin.stats(); !s) {
    std::cerr << "errand demo: cannot read the store: " << s.error().message() << "\n";
    return 1;
  } else if (s->enqueued + s->scheduled + s->retries > 0) {
    std::cerr << "errand demo: store " << url << " already holds jobs (" << s->enqueued
              << " enqueued, " << s->scheduled << " scheduled, " << s->retries
              << " retries); use a fresh one\n";
    return 1;
  }

  const auto plans = plan_jobs(o.jobs);
  Client client{QueueMap(store)};
  std::map<std::string, std::int64_t> enqueued;
  std::string plan;
  std::string reports_bid;  // the batch of BuildSalesReport jobs; empty if none
  for (const auto& b : plans) {
    auto job = Registry::global().find(b.job_class);
    if (!job) {
      std::cerr << "errand demo: job class " << b.job_class << " is not registered\n";
      return 1;
    }
    Status pushed;
    if (b.job_class == "BuildSalesReport") {
      auto bid = enqueue_reports(client, *job, b.arg_lists);
      pushed = bid.status();
      if (bid) reports_bid = *bid;
    } else {
      pushed = client.push_bulk(*job, b.arg_lists, {}).status();
    }
    if (!pushed) {
      std::cerr << "errand demo: enqueue failed: " << pushed.message() << "\n";
      return 1;
    }
    enqueued[b.job_class] = static_cast<std::int64_t>(b.arg_lists.size());
    plan += (plan.empty() ? "" : ", ") + std::to_string(b.arg_lists.size()) + " " + b.job_class;
  }
  std::cout << "errand demo: enqueued " << o.jobs << " jobs (" << plan << ") on " << url << "\n"
            << "errand demo: working them with " << o.concurrency << " threads\n"
            << std::flush;

  FailureLog failures;
  ServerOptions so;
  so.concurrency = o.concurrency;
  so.queues = {{"payments", 1}, {"mailers", 1}, {"default", 1}, {"reports", 1}};
  so.poll_interval = std::chrono::milliseconds(200);  // retries come due after ~1 s
  so.fetch_wait = std::chrono::milliseconds(200);
  so.heartbeat_interval = std::chrono::milliseconds(1000);
  so.process_ttl = std::chrono::milliseconds(10'000);
  so.shutdown_timeout = std::chrono::milliseconds(5'000);
  so.log_jobs = false;  // the progress line replaces per-job log lines
  so.error_handlers.push_back([&failures](const JobFailure& f) {
    std::lock_guard lk(failures.mu);
    ++failures.failed[job_class_of(f.payload)];
  });
  so.death_handlers.push_back([&failures](const JobFailure& f) {
    std::lock_guard lk(failures.mu);
    ++failures.dead[job_class_of(f.payload)];
    failures.dead_messages.push_back(job_class_of(f.payload) + ": " + f.error_class + ": " +
                                     f.error_message);
  });

  const std::int64_t baseline = completed();
  const auto baseline_by_class = completed_by_class();
  const std::int64_t callbacks_expected = reports_bid.empty() ? 0 : 1;
  auto callbacks_run = [&] {
    auto it = baseline_by_class.find(kCallback);
    return completed_by_class()[kCallback] - (it == baseline_by_class.end() ? 0 : it->second);
  };
  Server server(QueueMap(store), so);
  const auto t0 = std::chrono::steady_clock::now();
  if (auto st = server.start(); !st) {
    std::cerr << "errand demo: cannot start the worker: " << st.message() << "\n";
    return 1;
  }

  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  std::string reason;  // why the demo failed; empty while all is well
  double last_line = -1;
  double done_at = 0;
  for (;;) {
    const std::int64_t callbacks = callbacks_run();
    const std::int64_t done = completed() - baseline - callbacks;
    const ServerCounters c = server.counters();
    const auto pending = admin.size(SetKind::retry);
    const double elapsed = seconds_since(t0);
    char line[200];
    std::snprintf(line, sizeof line,
                  "%lld/%d done  failed attempts %lld  retries pending %zu  %.1f jobs/s  %.1fs",
                  static_cast<long long>(done), o.jobs, static_cast<long long>(c.failed),
                  pending ? *pending : std::size_t{0},
                  elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0, elapsed);
    if (tty) {
      std::cout << "\r\033[K" << line << std::flush;  // one line, rewritten in place
    } else if (elapsed - last_line >= 1.0) {
      std::cout << std::string(line) + "\n" << std::flush;  // one write
      last_line = elapsed;
    }

    if (c.dead > 0) {
      reason = "a job died (see below)";
      break;
    }
    if (done >= o.jobs && callbacks >= callbacks_expected) {
      // Every perform() finished; confirm with the store that nothing waits.
      auto s = admin.stats();
      if (s && s->enqueued == 0 && s->retries == 0 && s->scheduled == 0) {
        done_at = elapsed;
        break;
      }
    }
    if (elapsed > o.timeout_seconds) {
      reason = "timed out after " + std::to_string(static_cast<int>(o.timeout_seconds)) +
               " s with " + std::to_string(done) + " of " + std::to_string(o.jobs) + " jobs done";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (tty) std::cout << "\n";
  server.stop();

  // ---- the summary, checked against the store -----------------------------
  const std::int64_t callbacks = callbacks_run();
  const std::int64_t done = completed() - baseline - callbacks;
  auto by_class = completed_by_class();
  for (const auto& [cls, n] : baseline_by_class) by_class[cls] -= n;
  const ServerCounters c = server.counters();
  auto s = admin.stats();
  std::lock_guard lk(failures.mu);

  std::cout << "\nerrand demo: summary\n";
  std::printf("  %-20s %9s %10s %13s\n", "class", "enqueued", "succeeded", "failed first");
  std::int64_t failed_total = 0;
  for (const auto& b : plans) {
    const auto ok = by_class[b.job_class];
    const auto failed = failures.failed[b.job_class];
    failed_total += failed;
    std::printf("  %-20s %9lld %10lld %13lld\n", b.job_class.c_str(),
                static_cast<long long>(enqueued[b.job_class]), static_cast<long long>(ok),
                static_cast<long long>(failed));
    if (reason.empty() && ok != enqueued[b.job_class])
      reason = b.job_class + ": " + std::to_string(ok) + " succeeded, expected " +
               std::to_string(enqueued[b.job_class]);
  }
  std::fflush(stdout);
  std::int64_t dead_total = 0;
  for (const auto& [cls, n] : failures.dead) dead_total += n;
  const std::size_t dead_in_store = s ? s->dead : 0;
  const std::size_t left = s ? s->enqueued + s->retries + s->scheduled : 0;
  const double elapsed = done_at > 0 ? done_at : seconds_since(t0);

  std::cout << "\n  succeeded:       " << done << "/" << o.jobs << "\n"
            << "  failed attempts: " << failed_total
            << (failed_total > 0 && failed_total == c.retried ? " (each retried, then succeeded)"
                                                              : "")
            << "\n"
            << "  dead:            "
            << std::max<std::int64_t>(dead_total, static_cast<std::int64_t>(dead_in_store)) << "\n"
            << "  left in store:   " << left << "\n";
  if (!reports_bid.empty()) report_batch(client, reports_bid, callbacks, reason);
  char timing[96];
  std::snprintf(timing, sizeof timing, "  elapsed:         %.2f s (%.1f jobs/s)\n", elapsed,
                static_cast<double>(done) / std::max(elapsed, 1e-9));
  std::cout << timing;
  if (failed_total > 0)
    std::cout << "                   (retries wait a 1 s backoff plus Sidekiq's random jitter of "
                 "up to 9 s)\n";
  std::cout << "  output files:    "
            << std::filesystem::absolute(output_dir(".")).lexically_normal().string()
            << " (mail/, thumbs/, reports/, payments/)\n"
            << "  store:           " << url << "\n";

  if (reason.empty() && !s) reason = "cannot read the store's stats: " + s.error().message();
  if (reason.empty() && done != o.jobs)
    reason = std::to_string(done) + " jobs succeeded, expected " + std::to_string(o.jobs);
  if (reason.empty() && (dead_total > 0 || dead_in_store > 0)) reason = "jobs died";
  if (reason.empty() && left > 0)
    reason = std::to_string(left) + " jobs are still in a queue, the retry or scheduled set";
  if (reason.empty() && c.processed != o.jobs + callbacks + c.failed)
    reason = "the server processed " + std::to_string(c.processed) + " jobs, expected " +
             std::to_string(o.jobs + callbacks + c.failed);
  for (const auto& m : failures.dead_messages) std::cerr << "  died: " << m << "\n";
  if (!reason.empty()) {
    std::cout << std::flush;
    std::cerr << "\nerrand demo FAILED: " << reason << "\n";
    return 1;
  }
  std::cout << "\nerrand demo OK: all " << o.jobs << " jobs succeeded, none dead, none lost"
            << (callbacks_expected ? "; the batch callback ran once.\n" : ".\n");
  return 0;
}

}  // namespace errand::examples

extern "C" int errand_examples_run_demo(const errand::examples::DemoOptions* options) {
  return errand::examples::run_demo(*options);
}
