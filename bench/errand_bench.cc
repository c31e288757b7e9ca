// The end-to-end harness for one store: enqueue rates, processing rate,
// enqueue → perform latency at a steady rate, worker memory and CPU per job.
// bench/run.sh runs it for each store beside the peers and writes
// docs/BENCHMARKS.md. It prints one JSON object per figure on stdout.
//
//   errand_bench --store redis://127.0.0.1:6399/0 --jobs 100000 --concurrency 10
//
// Not a test: it asserts nothing about time.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "errand/errand.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::atomic<std::int64_t> g_done{0};
// Latency samples, in microseconds; written by worker threads.
std::vector<std::int64_t> g_lat;
std::atomic<std::size_t> g_lat_n{0};

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct BenchNoop {
  void perform(std::int64_t) { g_done.fetch_add(1, std::memory_order_relaxed); }
};
ERRAND_JOB(BenchNoop);

struct BenchLatency {
  void perform(std::int64_t enqueued_us) {
    auto i = g_lat_n.fetch_add(1);
    if (i < g_lat.size()) g_lat[i] = wall_us() - enqueued_us;
    g_done.fetch_add(1, std::memory_order_relaxed);
  }
};
ERRAND_JOB(BenchLatency);

std::int64_t rss_kb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::string(field).size()));
  return 0;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void emit(const std::string& store, const std::string& figure, double value,
          const std::string& unit, const std::string& note = "") {
  errand::Json j = {{"store", store}, {"figure", figure}, {"value", value}, {"unit", unit}};
  if (!note.empty()) j["note"] = note;
  std::cout << j.dump() << std::endl;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void clear_store(errand::Store& s) {
  (void)s.clear_queue("default");
  (void)s.set_clear(errand::SetKind::scheduled);
  (void)s.set_clear(errand::SetKind::retry);
  (void)s.set_clear(errand::SetKind::dead);
}

bool g_record_status = true;  // --no-status clears it

errand::ServerOptions worker_options(int concurrency) {
  errand::ServerOptions o;
  o.concurrency = concurrency;
  o.log_jobs = false;
  o.record_status = g_record_status;
  o.fetch_wait = 100ms;
  return o;
}

bool wait_done(std::int64_t target, std::chrono::seconds limit) {
  auto end = Clock::now() + limit;
  while (g_done.load() < target) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"errand end-to-end benchmark for one store"};
  std::string url = "memory://bench";
  std::string label;
  std::int64_t jobs = 100'000;
  std::int64_t single = 20'000;
  int concurrency = 10;
  double latency_seconds = 5;
  int rate = 1000;
  app.add_option("--store", url, "store URL");
  app.add_option("--label", label, "name in the output (default: the URL scheme)");
  app.add_option("--jobs", jobs, "jobs for the bulk enqueue and the drain");
  app.add_option("--single", single, "jobs for the one-at-a-time enqueue loops");
  app.add_option("-c,--concurrency", concurrency, "worker threads");
  app.add_option("--latency-seconds", latency_seconds, "length of the steady-rate phase");
  app.add_option("--rate", rate, "jobs per second in the latency phase");
  bool no_status = false;
  app.add_flag("--no-status", no_status,
               "workers record no job status (ServerOptions::record_status off): the cost of "
               "the status records, by difference");
  CLI11_PARSE(app, argc, argv);
  g_record_status = !no_status;

  auto opened = errand::open_store(url);
  if (!opened) {
    std::cerr << "errand_bench: " << opened.error().message() << "\n";
    return 1;
  }
  auto store = *opened;
  if (label.empty()) label = std::string(store->scheme());
  clear_store(*store);

  // Idle worker memory: a worker at the given concurrency with nothing to do.
  {
    errand::Server server(errand::QueueMap(store), worker_options(concurrency));
    if (auto st = server.start(); !st) {
      std::cerr << "errand_bench: " << st.message() << "\n";
      return 1;
    }
    std::this_thread::sleep_for(1s);
    emit(label, "rss_idle", static_cast<double>(rss_kb("VmRSS:")) / 1024.0, "MB",
         "whole bench process, worker started, concurrency " + std::to_string(concurrency));
    server.stop();
  }

  errand::Client client{errand::QueueMap(store)};

  // 1. perform_async one at a time.
  {
    auto t0 = Clock::now();
    for (std::int64_t i = 0; i < single; ++i)
      if (!client.perform_async<BenchNoop>(i)) return 1;
    double s = seconds_since(t0);
    emit(label, "enqueue_single", static_cast<double>(single) / s, "jobs/s");
    clear_store(*store);
  }

  // 2. push_bulk in batches of 1,000.
  auto bulk_fill = [&](std::int64_t n) -> double {
    std::vector<errand::Json> args;
    args.reserve(1000);
    auto t0 = Clock::now();
    for (std::int64_t done = 0; done < n; done += 1000) {
      args.clear();
      for (std::int64_t i = done; i < std::min(n, done + 1000); ++i)
        args.push_back(errand::Json::array({i}));
      if (!client.push_bulk<BenchNoop>(args)) return -1;
    }
    return seconds_since(t0);
  };
  {
    double s = bulk_fill(jobs);
    if (s < 0) return 1;
    emit(label, "enqueue_bulk", static_cast<double>(jobs) / s, "jobs/s", "batches of 1000");
  }

  // 3. Drain: the jobs just pushed, by one worker process at `concurrency`.
  {
    g_done = 0;
    errand::Server server(errand::QueueMap(store), worker_options(concurrency));
    double cpu0 = cpu_seconds();
    auto t0 = Clock::now();
    if (!server.start()) return 1;
    bool ok = wait_done(jobs, 600s);
    double s = seconds_since(t0);
    double cpu = cpu_seconds() - cpu0;
    server.stop();
    if (!ok) {
      std::cerr << "errand_bench: drain did not finish: " << g_done.load() << "/" << jobs << "\n";
      return 1;
    }
    emit(label, "process", static_cast<double>(jobs) / s, "jobs/s",
         std::to_string(jobs) + " no-op jobs, concurrency " + std::to_string(concurrency));
    emit(label, "cpu_per_job", cpu / static_cast<double>(jobs) * 1e6, "us",
         "user+sys of the errand process only");
    emit(label, "rss_peak", static_cast<double>(rss_kb("VmHWM:")) / 1024.0, "MB",
         "peak of the whole bench process");
    clear_store(*store);
  }

  // 4. The aggregate stage: the cost of one perform_async call, then the drain to the store.
  {
    auto agg = errand::make_aggregate(store);
    errand::Client staged{errand::QueueMap(agg)};
    std::vector<double> calls;
    calls.reserve(static_cast<std::size_t>(jobs));
    auto t0 = Clock::now();
    for (std::int64_t i = 0; i < jobs; ++i) {
      auto c0 = Clock::now();
      if (!staged.perform_async<BenchNoop>(i)) return 1;
      calls.push_back(std::chrono::duration<double, std::micro>(Clock::now() - c0).count());
    }
    double accept_s = seconds_since(t0);
    if (!agg->flush(600s)) return 1;
    double total_s = seconds_since(t0);
    std::sort(calls.begin(), calls.end());
    emit(label, "aggregate_call_p50", calls[calls.size() / 2], "us");
    emit(label, "aggregate_call_p99", calls[calls.size() * 99 / 100], "us");
    emit(label, "enqueue_aggregate", static_cast<double>(jobs) / accept_s, "jobs/s",
         "calls returned; written to the store at " +
             std::to_string(static_cast<long>(static_cast<double>(jobs) / total_s)) + " jobs/s");
    clear_store(*store);
  }

  // 5. Latency at a steady rate: enqueue → start of perform.
  {
    g_done = 0;
    auto n = static_cast<std::int64_t>(latency_seconds * rate);
    g_lat.assign(static_cast<std::size_t>(n), 0);
    g_lat_n = 0;
    errand::Server server(errand::QueueMap(store), worker_options(concurrency));
    if (!server.start()) return 1;
    std::this_thread::sleep_for(300ms);
    auto period = std::chrono::nanoseconds(1'000'000'000 / rate);
    auto next = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) {
      std::this_thread::sleep_until(next);
      next += period;
      if (!client.perform_async<BenchLatency>(wall_us())) return 1;
    }
    bool ok = wait_done(n, 120s);
    server.stop();
    if (!ok) return 1;
    std::sort(g_lat.begin(), g_lat.end());
    auto at = [&](double q) {
      return static_cast<double>(
                 g_lat[std::min(g_lat.size() - 1,
                                static_cast<std::size_t>(q * static_cast<double>(g_lat.size())))]) /
             1000.0;
    };
    std::string note = std::to_string(rate) + " jobs/s for " +
                       std::to_string(static_cast<int>(latency_seconds)) + " s";
    emit(label, "latency_p50", at(0.50), "ms", note);
    emit(label, "latency_p99", at(0.99), "ms", note);
    emit(label, "latency_max", static_cast<double>(g_lat.back()) / 1000.0, "ms", note);
    clear_store(*store);
  }

  // 6. A result round trip: perform_async, then client.wait(jid) until it
  // returns succeeded, one job at a time (the worker idle in between).
  // Without status records (--no-status) there is no result to wait for.
  if (store->capabilities().status && g_record_status) {
    constexpr int kRounds = 300;
    errand::Server server(errand::QueueMap(store), worker_options(concurrency));
    if (!server.start()) return 1;
    std::this_thread::sleep_for(300ms);
    std::vector<double> waits;
    waits.reserve(kRounds);
    for (int i = 0; i < kRounds; ++i) {
      auto t0 = Clock::now();
      auto jid = client.perform_async<BenchNoop>(i);
      if (!jid) return 1;
      auto st = client.wait(*jid, 10s);
      if (!st || st->state != errand::JobState::succeeded) return 1;
      waits.push_back(seconds_since(t0) * 1000.0);
    }
    server.stop();
    std::sort(waits.begin(), waits.end());
    const std::string note = std::to_string(kRounds) + " jobs, one at a time";
    emit(label, "wait_p50", waits[waits.size() / 2], "ms", note);
    emit(label, "wait_p99", waits[waits.size() * 99 / 100], "ms", note);
    clear_store(*store);
  }
  return 0;
}
