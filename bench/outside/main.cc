// errand_outside: times a worker process from outside, as a user runs it.
// The jobs are pushed first (by errand's push_bulk here, or by a command such
// as bench/sidekiq_push.rb), then P worker processes are started with their
// output to log files, and the clock runs from their start until the store
// shows every job acknowledged (watch.h). Prints one JSON object.
//
//   errand_outside --store redis://127.0.0.1:6400/12 --jobs 100000
//     --worker "build/errand worker --store redis://127.0.0.1:6400/12 -r
//     build/liberrand_bench_jobs.so"
//
// Not a test: it asserts nothing about time. Every run is bounded by --jobs and --time-limit.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "errand/errand.h"
#include "outside/proc.h"
#include "outside/watch.h"

namespace {

using Clock = std::chrono::steady_clock;

struct BenchNoop {
  void perform(std::int64_t) {}
};

struct Options {
  std::string label = "errand";
  std::string store;
  std::string table = "jobs";
  std::int64_t jobs = 10'000;
  int queues = 1;
  std::string queue_mode = "none";  // none | strict | weighted: the -q flags appended
  std::string push = "errand";      // errand | a command line
  std::string worker;
  int processes = 1;
  std::string log_dir = ".";
  int time_limit = 300;
  int poll_ms = 2;
  double idle_seconds = 0;  // > 0: only start one worker on the empty store and read its RSS
};

std::vector<std::string> queue_names(int n) {
  if (n <= 1) return {"default"};
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("q" + std::to_string(i));
  return out;
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// errand's push_bulk, 1,000 jobs a call, the jobs spread evenly over the queues.
void push_errand(const Options& o, const std::vector<std::string>& queues) {
  auto store = errand::open_store(o.store);
  if (!store) throw std::runtime_error("cannot open " + o.store + ": " + store.error().message());
  errand::Client client{errand::QueueMap(*store)};
  const auto per_queue = (o.jobs + static_cast<std::int64_t>(queues.size()) - 1) /
                         static_cast<std::int64_t>(queues.size());
  std::int64_t pushed = 0;
  std::vector<errand::Json> args;
  for (const auto& q : queues) {
    errand::PushOptions po;
    po.queue = q;
    const std::int64_t end = std::min(o.jobs, pushed + per_queue);
    while (pushed < end) {
      args.clear();
      for (; pushed < end && args.size() < 1000; ++pushed)
        args.push_back(errand::Json::array({pushed}));
      if (auto r = client.push_bulk<BenchNoop>(args, po); !r)
        throw std::runtime_error("push_bulk: " + r.error().message());
    }
  }
}

std::vector<std::string> worker_argv(const Options& o, const std::vector<std::string>& queues) {
  auto argv = bench::split_command(o.worker);
  if (o.queue_mode == "none") return argv;
  for (const auto& q : queues) {
    argv.push_back("-q");
    argv.push_back(o.queue_mode == "weighted" ? q + ",1" : q);
  }
  return argv;
}

struct Drain {
  bool finished = false;
  double seconds = 0, first_taken = -1;
  double cpu = 0;        // user+sys of the worker processes at the end
  double store_cpu = 0;  // of the store server (Redis) over the drain
  std::int64_t rss_peak_kb = 0;
};

Drain drain(const Options& o, bench::Watch& watch, const std::vector<std::string>& argv) {
  Drain d;
  const int server = watch.server_pid();
  const double server_cpu0 = server > 0 ? bench::cpu_seconds(server) : 0;
  const auto t0 = Clock::now();
  std::vector<pid_t> pids;
  for (int i = 0; i < o.processes; ++i)
    pids.push_back(
        bench::spawn(argv, o.log_dir + "/" + o.label + "-" + std::to_string(i) + ".log"));
  const auto end = t0 + std::chrono::seconds(o.time_limit);
  const std::int64_t untouched = watch.progress();
  auto next_look = t0;
  while (Clock::now() < end) {
    if (watch.done()) {
      d.finished = true;
      break;
    }
    if (d.first_taken < 0 && Clock::now() >= next_look) {  // start-up: until the first job moves
      if (watch.progress() != untouched) d.first_taken = since(t0);
      next_look = Clock::now() + std::chrono::milliseconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
  }
  d.seconds = since(t0);
  for (auto pid : pids) {
    d.cpu += bench::cpu_seconds(pid);
    d.rss_peak_kb = std::max(d.rss_peak_kb, bench::status_kb(pid, "VmHWM:"));
  }
  if (server > 0) d.store_cpu = bench::cpu_seconds(server) - server_cpu0;
  for (auto pid : pids) bench::stop(pid, std::chrono::seconds(30));
  return d;
}

/// The worker's resident memory once started with nothing to do.
int idle(const Options& o) {
  const pid_t pid =
      bench::spawn(worker_argv(o, queue_names(o.queues)), o.log_dir + "/" + o.label + "-idle.log");
  // The first second is start-up (connecting, migrating); the CPU of the
  // rest is the idle cost: no busy polling shows as well under 1 %.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double cpu0 = bench::cpu_seconds(pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.idle_seconds));
  const double idle_cpu = bench::cpu_seconds(pid) - cpu0;
  const auto rss = bench::status_kb(pid, "VmRSS:");
  const bool alive = rss > 0;
  bench::stop(pid, std::chrono::seconds(30));
  errand::Json j = {{"label", o.label},
                    {"store", o.store},
                    {"idle_seconds", o.idle_seconds},
                    {"idle_rss_mb", static_cast<double>(rss) / 1024.0},
                    {"idle_cpu_pct", 100.0 * idle_cpu / o.idle_seconds},
                    {"finished", alive}};
  std::cout << j.dump() << std::endl;
  return alive ? 0 : 1;
}

int run(const Options& o) {
  if (o.idle_seconds > 0) return idle(o);
  const auto queues = queue_names(o.queues);
  const bool sqlite = o.store.rfind("sqlite://", 0) == 0;
  // Redis is watched from before the push (its memory before and after);
  // a SQLite file exists only once something pushed into it.
  std::unique_ptr<bench::Watch> watch;
  if (!sqlite) watch = bench::open_watch(o.store, o.table, queues);
  const std::int64_t bytes0 = watch ? watch->bytes() : 0;
  const auto t0 = Clock::now();
  if (o.push == "errand") {
    push_errand(o, queues);
  } else if (o.push != "none") {
    const auto st =
        bench::run_to_end(bench::split_command(o.push), o.log_dir + "/" + o.label + "-push.log",
                          std::chrono::seconds(o.time_limit));
    if (st != 0) throw std::runtime_error("push command failed: " + o.push);
  }
  const double push_s = since(t0);
  if (!watch) watch = bench::open_watch(o.store, o.table, queues);
  const std::int64_t bytes1 = watch->bytes();

  const Drain d = drain(o, *watch, worker_argv(o, queues));
  std::int64_t lines = 0;
  for (int i = 0; i < o.processes; ++i)
    lines += bench::count_lines(o.log_dir + "/" + o.label + "-" + std::to_string(i) + ".log");
  const auto n = static_cast<double>(o.jobs);
  errand::Json j = {
      {"label", o.label},
      {"store", o.store},
      {"jobs", o.jobs},
      {"queues", o.queues},
      {"queue_mode", o.queue_mode},
      {"processes", o.processes},
      {"finished", d.finished},
      {"push_s", push_s},
      {"push_rate", n / push_s},
      {"drain_s", d.seconds},
      {"drain_rate", n / d.seconds},
      {"startup_s", d.first_taken < 0 ? errand::Json() : errand::Json(d.first_taken)},
      {"rate_after_startup",
       d.first_taken < 0 ? errand::Json() : errand::Json(n / (d.seconds - d.first_taken))},
      {"cpu_us_per_job", d.cpu / n * 1e6},
      {"store_cpu_us_per_job", d.store_cpu / n * 1e6},
      {"rss_peak_mb", static_cast<double>(d.rss_peak_kb) / 1024.0},
      {"store_bytes_per_job", static_cast<double>(bytes1 - bytes0) / n},
      {"log_lines", lines}};
  std::cout << j.dump() << std::endl;
  if (!d.finished) std::cerr << "errand_outside: " << o.label << " did not finish in time\n";
  return d.finished ? 0 : 1;
}

}  // namespace

ERRAND_JOB(BenchNoop);

int main(int argc, char** argv) {
  CLI::App app{"times worker processes from outside, by watching the store"};
  Options o;
  app.add_option("--label", o.label, "name in the output and of the log files");
  app.add_option("--store", o.store, "redis://host:port/db or sqlite://PATH")->required();
  app.add_option("--table", o.table,
                 "SQLite and PostgreSQL: the table that empties (jobs, delayed_jobs)");
  app.add_option("--jobs", o.jobs, "jobs pushed before the workers start")
      ->check(CLI::PositiveNumber);
  app.add_option("--queues", o.queues, "queues: 1 = default, else q0..qN-1")
      ->check(CLI::Range(1, 10000));
  app.add_option("--queue-flags", o.queue_mode, "append -q flags: none, strict or weighted");
  app.add_option("--push", o.push, "errand (push_bulk here), none, or a command line");
  app.add_option("--worker", o.worker, "the worker command line")->required();
  app.add_option("--processes", o.processes, "worker processes")->check(CLI::Range(1, 64));
  app.add_option("--log-dir", o.log_dir, "where the workers' output goes");
  app.add_option("--time-limit", o.time_limit, "seconds before giving up on a push or a drain");
  app.add_option("--poll-ms", o.poll_ms, "milliseconds between looks at the store");
  app.add_option("--idle-seconds", o.idle_seconds,
                 "instead: start one worker on the empty store, report its RSS after this long");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::cerr << "errand_outside: " << e.what() << "\n";
    return 2;
  }
}
