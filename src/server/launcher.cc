// The launcher: builds the runtime, starts the processors (the manager's
// job) and the background services, and runs the lifecycle: start, quiet,
// stop(deadline), with the shutdown requeue that makes graceful restarts
// lose nothing.
#include <csignal>
#include <map>
#include <thread>

#include "core/invocation.h"
#include "core/log.h"
#include "errand/server.h"
#include "server/cron_scheduler.h"
#include "server/fetcher.h"
#include "server/heartbeat.h"
#include "server/poller.h"
#include "server/processor.h"
#include "server/runtime.h"

namespace errand {

namespace {

// Set from signal handlers (async-signal-safe: lock-free atomics only).
std::atomic<int> g_signals{0};
constexpr int kSigStop = 1;
constexpr int kSigQuiet = 2;
constexpr int kSigDump = 4;

extern "C" void errand_on_signal(int sig) {
  switch (sig) {
    case SIGTSTP:
      g_signals.fetch_or(kSigQuiet);
      break;
    case SIGTTIN:
      g_signals.fetch_or(kSigDump);
      break;
    default:
      g_signals.fetch_or(kSigStop);
  }
}

}  // namespace

// Everything the threads touch lives here, so that a job that ignores
// shutdown and never returns can be left running without touching freed memory.
struct Engine {
  Runtime rt;
  std::unique_ptr<Fetcher> fetcher;
  std::vector<std::unique_ptr<Processor>> processors;  // touched by start, the watchdog, stop
  std::mutex processors_mu;                            // guards processors and stuck
  std::vector<std::unique_ptr<Processor>> stuck;       // replaced by the watchdog; never joined
};

struct Server::Impl {
  QueueMap queues;
  ServerOptions options;
  Engine* engine = nullptr;  // owned; leaked on purpose only if a job never returns
  std::unique_ptr<Heartbeat> heartbeat;
  std::unique_ptr<Poller> poller;
  std::unique_ptr<Rescuer> rescuer;
  std::unique_ptr<CronScheduler> cron;
  std::thread services;

  std::mutex mu;
  std::condition_variable cv;
  enum class State { idle, running, stopped } state = State::idle;  // guarded by mu
  bool services_stop = false;                                       // guarded by mu
  std::atomic<bool> stop_flag{false};                               // request_stop(), store TERM
  std::mutex stop_mu;                                               // serialises stop()

  ServerCounters last_counters;  // guarded by mu: kept after the engine is gone

  ~Impl() { delete engine; }

  Runtime& rt() { return engine->rt; }
  void run_services();
  void watchdog();
  /// Extends the concurrency slots of the running jobs by process_ttl.
  void renew_slot_locks();
  void refresh_paused();
  void replace_processor(const std::shared_ptr<Slot>& slot);
  void on_store_signal(const std::string& sig);
  void log_running();
  void requeue(std::vector<Work> works);
};

void Server::Impl::requeue(std::vector<Work> works) {
  std::map<Source*, std::vector<Fetched>> by_source;
  for (auto& w : works) by_source[w.source].push_back(std::move(w.job));
  for (auto& [src, jobs] : by_source) {
    auto st = src->store->requeue(jobs);
    if (!st)
      log::error(
          "could not requeue jobs at shutdown; they return to their queue when this "
          "process's claim expires",
          {{"jobs", std::to_string(jobs.size())}, {"error", st.message()}});
    else
      log::info("requeued unfinished jobs", {{"jobs", std::to_string(jobs.size())}});
  }
}

void Server::Impl::log_running() {
  for (const auto& slot : rt().slot_list()) {
    std::lock_guard lk(slot->mu);
    if (slot->current)
      log::info("running", {{"tid", slot->tid},
                            {"queue", slot->current->job.queue},
                            {"payload", slot->current->job.payload}});
  }
}

void Server::Impl::on_store_signal(const std::string& sig) {
  if (sig == "TSTP") {
    rt().quiet.store(true);
    engine->fetcher->quiet();
    requeue(engine->fetcher->drain());  // jobs read ahead: back for other processes
  } else if (sig == "TERM" || sig == "INT") {
    stop_flag.store(true);
    cv.notify_all();
  } else if (sig == "TTIN") {
    log_running();
  } else {
    log::warn("ignoring unknown signal", {{"signal", sig}});
  }
}

void Server::Impl::run_services() {
  using clock = std::chrono::steady_clock;
  auto now = clock::now();
  auto next_beat = now + options.heartbeat_interval;
  // First poll soon (jobs may have come due while no worker ran), then spread.
  auto next_poll = now + std::min(options.poll_interval, std::chrono::milliseconds(500));
  auto next_rescue = now + std::min(options.rescue_interval, std::chrono::milliseconds(1000));
  auto next_watch = now;
  auto next_cron = now;
  auto next_paused = now;
  std::unique_lock lk(mu);
  while (!services_stop) {
    auto wake = std::min({next_beat, next_poll, next_rescue, next_watch, next_paused, next_cron});
    cv.wait_until(lk, wake, [&] { return services_stop; });
    if (services_stop) break;
    lk.unlock();
    now = clock::now();
    if (now >= next_beat) {
      if (auto st = heartbeat->beat(); !st)
        log::warn("heartbeat failed", {{"error", st.message()}});
      else if (options.on_heartbeat)
        options.on_heartbeat();
      renew_slot_locks();
      next_beat = clock::now() + options.heartbeat_interval;
    }
    if (now >= next_poll) {
      if (!rt().quiet.load()) poller->poll();
      next_poll = clock::now() + poller->next_interval();
    }
    if (now >= next_rescue) {
      rescuer->rescue();
      next_rescue = clock::now() + options.rescue_interval;
    }
    if (now >= next_watch) {
      watchdog();
      next_watch = clock::now() + std::chrono::milliseconds(100);
    }
    if (now >= next_cron) {
      if (!rt().quiet.load()) cron->tick();
      next_cron = clock::now() + std::chrono::milliseconds(250);
    }
    if (now >= next_paused) {
      refresh_paused();
      next_paused = clock::now() + std::chrono::seconds(1);
    }
    lk.lock();
  }
}

void Server::Impl::renew_slot_locks() {
  const double until = rt().now() + std::chrono::duration<double>(options.process_ttl).count();
  for (const auto& slot : rt().slot_list()) {
    Store* store = nullptr;
    std::string holder;
    std::vector<std::string> locks;
    {
      std::lock_guard lk(slot->mu);
      if (slot->locks.empty() || !slot->current) continue;
      store = slot->current->source->store.get();
      holder = slot->lock_holder;
      locks = slot->locks;
    }
    for (const auto& key : locks) {
      auto held = store->lock_extend(key, holder, until);
      if (!held && held.code() == Errc::unsupported) break;  // leased long enough instead
      if (held && !*held) {
        std::lock_guard lk(slot->mu);
        if (slot->locks.empty() || slot->lock_holder != holder) continue;  // the job just ended
      }
      if (!held || !*held)
        log::warn("concurrency slot lost",
                  {{"slot", key},
                   {"jid", holder},
                   {"error", held ? "taken over" : held.error().message()}});
    }
  }
}

void Server::Impl::refresh_paused() {
  for (auto& s : rt().sources) {
    auto paused = s->store->paused_queues();
    if (!paused) continue;  // keep the last known state while the store is away
    s->paused.store(std::make_shared<const std::vector<std::string>>(std::move(paused).value()));
  }
}

void Server::Impl::replace_processor(const std::shared_ptr<Slot>& slot) {
  Engine& E = *engine;
  std::lock_guard plk(E.processors_mu);
  for (auto& p : E.processors) {
    if (p->slot() != slot) continue;
    p->detach();
    E.stuck.push_back(std::move(p));
    auto fresh = std::make_shared<Slot>();
    p = std::make_unique<Processor>(E.rt, *E.fetcher, fresh);
    {
      std::lock_guard slk(E.rt.slots_mu);
      for (auto& s : E.rt.slots)
        if (s == slot) s = fresh;
    }
    p->start();
    return;
  }
}

void Server::Impl::watchdog() {
  const double now = rt().now();
  for (const auto& slot : rt().slot_list()) {
    std::optional<Work> given_up;
    double limit = 0;
    {
      std::lock_guard lk(slot->mu);
      if (!slot->current || slot->abandoned || slot->deadline <= 0) continue;
      limit = slot->deadline - slot->run_at;
      if (now > slot->deadline && !slot->timed_out) {
        // Ask the job to stop; it fails with JobTimeout when it returns.
        slot->timed_out = true;
        slot->stop.request_stop();
        log::warn("job exceeded its timeout; stop requested",
                  {{"queue", slot->current->job.queue}, {"timeout_s", std::to_string(limit)}});
      }
      const double grace = std::max(2.0, limit * 0.5);
      if (slot->timed_out && now > slot->deadline + grace) {
        slot->abandoned = true;
        given_up = slot->current;
      }
    }
    if (!given_up) continue;
    // The job ignores its stop token: record the failure now and give the
    // pool a fresh thread, so the worker keeps its capacity.
    log::error("job did not stop after its timeout; recording the failure and replacing its thread",
               {{"queue", given_up->job.queue}});
    Json doc = Json::parse(given_up->job.payload, nullptr, false);
    Store& store = *given_up->source->store;
    if (doc.is_object()) {
      std::shared_ptr<const JobDescriptor> desc;
      if (auto inv = resolve_invocation(doc)) desc = rt().registry->find(inv->job_class);
      auto apply = [](const char* what, const std::function<Status()>& op) {
        if (auto st = op(); !st)
          log::error("store refused a job transition", {{"op", what}, {"error", st.message()}});
      };
      settle_failure(rt(), store, given_up->job, doc, desc.get(), "errand::JobTimeout",
                     "job exceeded its timeout of " + std::to_string(static_cast<int>(limit)) +
                         " s and did not stop",
                     ErrorAction::retry, apply);
    }
    rt().failed.fetch_add(1);
    rt().processed.fetch_add(1);
    given_up->source->failed.fetch_add(1);
    given_up->source->processed.fetch_add(1);
    replace_processor(slot);
  }
}

Server::Server(QueueMap queues, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->queues = std::move(queues);
  impl_->options = std::move(options);
}

Server::~Server() { stop(); }

Status Server::start() {
  auto& I = *impl_;
  {
    std::lock_guard lk(I.mu);
    if (I.state != Impl::State::idle) return fail(Errc::invalid_argument, "server already started");
  }
  const auto& o = I.options;
  if (o.concurrency < 1) return fail(Errc::invalid_argument, "concurrency must be at least 1");
  if (o.queues.empty()) return fail(Errc::invalid_argument, "no queues to work");
  if (o.process_ttl <= o.heartbeat_interval)
    return fail(Errc::invalid_argument, "process_ttl must be longer than heartbeat_interval");

  log::set_format(o.log_format);
  auto engine = std::make_unique<Engine>();
  Runtime& rt = engine->rt;
  rt.options = o;
  rt.clock = o.clock ? o.clock : &SystemClock::instance();
  rt.registry = o.registry ? o.registry : &Registry::global();
  rt.identity = make_identity();
  rt.started_at = rt.now();
  rt.chain = o.middleware;
  // Group the queues by the store each is defined on, keeping their order.
  for (const auto& q : o.queues) {
    if (q.name.empty()) return fail(Errc::invalid_argument, "empty queue name");
    auto store = I.queues.shared_store_for(q.name);
    if (!store)
      return fail(Errc::invalid_argument,
                  "queue '" + q.name + "' has no store: define it or set a default store");
    Source* src = nullptr;
    for (auto& s : rt.sources)
      if (s->store == store) src = s.get();
    if (!src) {
      rt.sources.push_back(std::make_unique<Source>());
      src = rt.sources.back().get();
      src->store = store;
    }
    bool dup = false;
    for (auto& existing : src->queues) dup = dup || existing.name == q.name;
    if (!dup) {
      src->queues.push_back(q);
      src->strict.push_back(q.name);
    }
    if (q.weight > 0) src->weighted = true;
  }
  for (auto& s : rt.sources)
    if (!s->store->in_process())
      s->acker = std::make_unique<Acker>(*s->store, static_cast<std::size_t>(o.concurrency) * 4);
  for (int i = 0; i < o.concurrency; ++i) rt.slots.push_back(std::make_shared<Slot>());
  engine->fetcher = std::make_unique<Fetcher>(rt);

  I.engine = engine.release();
  I.heartbeat = std::make_unique<Heartbeat>(
      I.rt(), [this](const std::string& s) { impl_->on_store_signal(s); });
  I.poller = std::make_unique<Poller>(I.rt());
  I.rescuer = std::make_unique<Rescuer>(I.rt());
  I.cron = std::make_unique<CronScheduler>(I.rt(), I.queues, o.cron);
  if (auto st = I.cron->prepare(); !st) {
    delete I.engine;
    I.engine = nullptr;
    return st;
  }

  // Register before claiming anything, so no rescuer mistakes our claims for orphans.
  if (auto st = I.heartbeat->beat(); !st) {
    delete I.engine;
    I.engine = nullptr;
    return fail(st.code(), "cannot start: first heartbeat failed: " + st.message());
  }
  I.refresh_paused();  // before the first fetch
  for (auto& s : I.rt().sources) {
    // A lock nobody holds: false where lock_extend works, unsupported where not.
    auto probe = s->store->lock_extend("errand:extend-probe", I.rt().identity, I.rt().now());
    s->renewable_locks = probe.ok() || probe.code() != Errc::unsupported;
  }
  for (auto& s : I.rt().sources)
    if (s->acker) s->acker->start();
  {
    std::lock_guard plk(I.engine->processors_mu);
    for (auto& slot : I.rt().slot_list()) {
      auto p = std::make_unique<Processor>(I.rt(), *I.engine->fetcher, slot);
      p->start();
      I.engine->processors.push_back(std::move(p));
    }
  }
  {
    std::lock_guard lk(I.mu);
    I.state = Impl::State::running;
  }
  I.services = std::thread([this] { impl_->run_services(); });
  std::string qs;
  for (const auto& q : o.queues) qs += (qs.empty() ? "" : ",") + q.name;
  log::info("worker started", {{"identity", I.rt().identity},
                               {"concurrency", std::to_string(o.concurrency)},
                               {"queues", qs}});
  if (o.on_ready) o.on_ready();
  return {};
}

void Server::quiet() {
  auto& I = *impl_;
  Fetcher* fetcher = nullptr;
  {
    std::lock_guard lk(I.mu);
    if (I.state != Impl::State::running || !I.engine) return;
    if (!I.rt().quiet.exchange(true)) log::info("quiet: no new jobs will be fetched");
    fetcher = I.engine->fetcher.get();
    fetcher->quiet();
  }
  // Jobs claimed ahead that no thread will take now go back to their queues,
  // for other processes to run (drain waits for a fetch in flight: not
  // under the lock).
  I.requeue(fetcher->drain());
}

void Server::stop() {
  auto& I = *impl_;
  std::lock_guard stop_lk(I.stop_mu);
  {
    std::lock_guard lk(I.mu);
    if (I.state != Impl::State::running) return;
  }
  if (I.options.on_stopping) I.options.on_stopping();
  Engine& E = *I.engine;
  Runtime& rt = E.rt;
  rt.stop_requested.store(true);
  quiet();
  log::info("stopping: waiting for running jobs",
            {{"timeout_ms", std::to_string(I.options.shutdown_timeout.count())}});

  // Jobs claimed but never started go straight back.
  I.requeue(E.fetcher->drain());

  auto all_idle = [&] {
    for (auto& slot : rt.slot_list()) {
      std::lock_guard lk(slot->mu);
      if (slot->current && !slot->abandoned) return false;
    }
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + I.options.shutdown_timeout;
  while (!all_idle() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  // Still running after the timeout: put those jobs back (they will run
  // again: at least once), and ask them to stop.
  std::vector<Work> unfinished;
  for (auto& slot : rt.slot_list()) {
    std::lock_guard lk(slot->mu);
    if (slot->current && !slot->abandoned) {
      slot->abandoned = true;
      slot->stop.request_stop();
      unfinished.push_back(*slot->current);
    }
  }
  if (!unfinished.empty()) {
    log::warn("shutdown timeout: requeueing jobs still running",
              {{"jobs", std::to_string(unfinished.size())}});
    I.requeue(std::move(unfinished));
  }
  // Give the threads a last moment; a thread stuck in a job that ignores its
  // stop token is left behind, with the engine it uses.
  auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  {
    std::lock_guard lk(I.mu);
    I.services_stop = true;
  }
  I.cv.notify_all();
  if (I.services.joinable()) I.services.join();  // no watchdog replacements from here on
  bool stuck = !E.stuck.empty();
  for (auto& p : E.processors) {
    while (true) {
      bool idle;
      {
        std::lock_guard lk(p->slot()->mu);
        idle = !p->slot()->current;
      }
      if (idle || std::chrono::steady_clock::now() >= grace) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::lock_guard lk(p->slot()->mu);
    if (p->slot()->current) stuck = true;
  }

  // Store the acknowledgements of the jobs that finished; then the last beat
  // reports the counters, and we leave the registry.
  for (auto& s : rt.sources)
    if (s->acker) s->acker->stop();
  (void)I.heartbeat->beat();
  for (auto& s : rt.sources) (void)s->store->unregister(rt.identity);

  ServerCounters c = counters();
  if (stuck) {
    log::error("a job did not return after shutdown; leaving its thread behind");
    for (auto& p : E.processors) p->detach();
    I.engine = nullptr;  // leaked on purpose: the stuck thread still uses it
    I.heartbeat.reset();
    I.poller.reset();
    I.rescuer.reset();
    I.cron.reset();
  } else {
    for (auto& p : E.processors) p->join();
  }
  {
    std::lock_guard lk(I.mu);
    I.last_counters = c;
    I.state = Impl::State::stopped;
  }
  I.cv.notify_all();
  log::info("stopped",
            {{"processed", std::to_string(c.processed)}, {"failed", std::to_string(c.failed)}});
}

void Server::request_stop() noexcept {
  impl_->stop_flag.store(true);
  g_signals.fetch_or(kSigStop);
}

void Server::wait() {
  auto& I = *impl_;
  for (;;) {
    {
      std::unique_lock lk(I.mu);
      if (I.state != Impl::State::running) return;
      I.cv.wait_for(lk, std::chrono::milliseconds(50));
      if (I.state != Impl::State::running) return;
    }
    int sig = g_signals.exchange(0);
    if (sig & kSigQuiet) quiet();
    if (sig & kSigDump) I.log_running();
    if ((sig & kSigStop) || I.stop_flag.load()) {
      stop();
      return;
    }
  }
}

Status Server::run() {
  struct sigaction sa {};
  sa.sa_handler = errand_on_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{}, old_tstp{}, old_ttin{};
  g_signals.store(0);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGTSTP, &sa, &old_tstp);
  sigaction(SIGTTIN, &sa, &old_ttin);
  Status st = start();
  if (st) wait();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGTSTP, &old_tstp, nullptr);
  sigaction(SIGTTIN, &old_ttin, nullptr);
  return st;
}

ServerCounters Server::counters() const {
  auto& I = *impl_;
  if (!I.engine) {
    std::lock_guard lk(I.mu);
    return I.last_counters;
  }
  const Runtime& rt = I.engine->rt;
  ServerCounters c;
  c.processed = rt.processed.load();
  c.failed = rt.failed.load();
  c.retried = rt.retried.load();
  c.dead = rt.dead.load();
  c.discarded = rt.discarded.load();
  c.expired = rt.expired.load();
  c.deferred = rt.deferred.load();
  c.busy = rt.busy.load();
  return c;
}

const std::string& Server::identity() const {
  static const std::string none;
  return impl_->engine ? impl_->engine->rt.identity : none;
}

bool Server::quiet_mode() const { return impl_->engine && impl_->engine->rt.quiet.load(); }

}  // namespace errand
