// The launcher: builds the engine (runtime, fetcher, manager, services) and
// runs the lifecycle — start, quiet, stop(deadline) — with the shutdown
// requeue that makes graceful restarts lose nothing (Sidekiq's launcher.rb).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <map>

#include "core/log.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "errand/server.h"
#include "server/engine.h"

#if defined(__SANITIZE_ADDRESS__)
#define ERRAND_HAS_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ERRAND_HAS_LSAN 1
#endif
#endif
#if ERRAND_HAS_LSAN
#include <sanitizer/lsan_interface.h>
#endif

namespace errand {

namespace {

// Set from signal handlers (async-signal-safe: lock-free atomics only).
std::atomic<int> g_signals{0};
constexpr int kSigStop = 1;
constexpr int kSigQuiet = 2;
constexpr int kSigDump = 4;
// The write end of the wake pipe of the server in run(), for its handler.
std::atomic<int> g_wake_fd{-1};

/// A byte into a wake pipe (async-signal-safe: write(2) only). A full pipe
/// already holds a wake-up, so EAGAIN is fine.
void poke(int fd) noexcept {
  if (fd < 0) return;
  const int saved = errno;  // a handler must not change errno
  const char b = 1;
  [[maybe_unused]] auto n = ::write(fd, &b, 1);
  errno = saved;
}

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
  poke(g_wake_fd.load());  // after the flag: wait() reads flags once woken
}

}  // namespace

/// The wake-up of Server::wait(): a non-blocking pipe that signal handlers,
/// request_stop(), a TERM through the store and stop() write a byte into, so
/// that wait() sleeps in poll(2) until there is something to look at.
class WakePipe {
 public:
  WakePipe() {
    int fds[2];
    // Close-on-exec from the start: a thread forking a job's child meanwhile
    // must not hand it these ends.
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;  // wait() then polls on a timer
    rd_ = fds[0];
    wr_ = fds[1];
  }
  ~WakePipe() {
    // Signal handlers must not write to this end once it is closed.
    int own = wr_;
    g_wake_fd.compare_exchange_strong(own, -1);
    if (rd_ >= 0) ::close(rd_);
    if (wr_ >= 0) ::close(wr_);
  }
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;

  int write_fd() const { return wr_; }
  void poke() const noexcept { errand::poke(wr_); }
  /// Blocks until a byte is there (or 50 ms pass, without a pipe); leaves
  /// it there, so that every thread in wait() sees it.
  void await() const {
    pollfd p{rd_, POLLIN, 0};
    if (rd_ < 0 || ::poll(&p, 1, -1) < 0) ::poll(nullptr, 0, 50);
  }
  /// Empties the pipe: its bytes have been looked at.
  void drain() const {
    char buf[64];
    while (rd_ >= 0 && ::read(rd_, buf, sizeof buf) > 0) {
    }
  }

 private:
  int rd_ = -1;
  int wr_ = -1;
};

struct Server::Impl {
  QueueMap queues;
  ServerOptions options;
  WakePipe wake;
  /// Everything the threads touch. Released on purpose (never freed) only
  /// when a job ignores shutdown and its thread still runs.
  std::unique_ptr<Engine> engine;

  mutable Mutex mu;
  enum class State { idle, running, stopped } state GUARDED_BY(mu) = State::idle;
  std::atomic<bool> stop_flag{false};           // request_stop(), store TERM
  Mutex stop_mu ACQUIRED_BEFORE(mu);            // serialises stop()
  ServerCounters last_counters GUARDED_BY(mu);  // kept after the engine is gone

  void on_store_signal(const std::string& sig);
  /// The shutdown after the engine stopped fetching: wait, requeue, join.
  /// Returns false if a job's thread is stuck.
  bool drain_and_join(Engine& e) EXCLUDES(mu);
};

void Server::Impl::on_store_signal(const std::string& sig) {
  if (sig == "TSTP") {
    engine->quiet();
  } else if (sig == "TERM" || sig == "INT") {
    stop_flag.store(true);
    wake.poke();
  } else if (sig == "TTIN") {
    engine->log_running();
  } else {
    log::warn("ignoring unknown signal", {{"signal", sig}});
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
    MutexLock lk(I.mu);
    if (I.state != Impl::State::idle) return fail(Errc::invalid_argument, "server already started");
  }
  if (auto st = validate(I.options); !st) return st;
  // Two registrations of one class name: running either would be a guess.
  const Registry& registry = I.options.registry ? *I.options.registry : Registry::global();
  if (auto st = registry.check(); !st) return st;
  log::set_format(I.options.log_format);
  auto engine = Engine::build(I.queues, I.options,
                              [this](const std::string& s) { impl_->on_store_signal(s); });
  if (!engine) return engine.error();
  I.engine = std::move(engine).value();
  if (auto st = I.engine->start(); !st) {
    I.engine.reset();
    return st;
  }
  {
    MutexLock lk(I.mu);
    I.state = Impl::State::running;
  }
  std::string qs;
  for (const auto& q : I.options.queues) qs += (qs.empty() ? "" : ",") + q.name;
  log::info("worker started", {{"identity", I.engine->rt.identity},
                               {"concurrency", std::to_string(I.options.concurrency)},
                               {"queues", qs}});
  if (I.options.hooks.on_ready) I.options.hooks.on_ready();
  return {};
}

void Server::quiet() {
  auto& I = *impl_;
  {
    MutexLock lk(I.mu);
    if (I.state != Impl::State::running || !I.engine) return;
  }
  I.engine->quiet();
}

bool Server::Impl::drain_and_join(Engine& e) {
  using clock = std::chrono::steady_clock;
  // Jobs claimed but never started go straight back.
  e.requeue(e.fetcher->drain());
  if (!e.manager->wait_idle(clock::now() + options.shutdown_timeout)) {
    // Still running after the timeout: put those jobs back (they will run
    // again: at least once), and ask them to stop.
    auto unfinished = e.manager->abandon_running();
    log::warn("shutdown timeout: requeueing jobs still running",
              {{"jobs", std::to_string(unfinished.size())}});
    e.requeue(std::move(unfinished));
  }
  e.stop_services();  // no watchdog replacements from here on
  // A thread stuck in a job that ignores its stop token gets a last moment.
  return e.manager->join(clock::now() + std::chrono::seconds(3));
}

void Server::stop() {
  auto& I = *impl_;
  MutexLock stop_lk(I.stop_mu);
  {
    MutexLock lk(I.mu);
    if (I.state != Impl::State::running) return;
  }
  if (I.options.hooks.on_stopping) I.options.hooks.on_stopping();
  Engine& e = *I.engine;
  e.rt.stop_requested.store(true);
  e.quiet();
  log::info("stopping: waiting for running jobs",
            {{"timeout_ms", std::to_string(I.options.shutdown_timeout.count())}});
  const bool joined = I.drain_and_join(e);
  e.finish();  // pending acks stored, last beat, unregistered
  ServerCounters c = counters();
  if (!joined) {
    log::error("a job did not return after shutdown; leaving its thread behind");
    // Leaked on purpose: the stuck thread still uses it. LeakSanitizer is
    // told so (in its builds), so that it still reports every other leak.
    [[maybe_unused]] Engine* abandoned = I.engine.release();
#if ERRAND_HAS_LSAN
    __lsan_ignore_object(abandoned);
#endif
  }
  {
    MutexLock lk(I.mu);
    I.last_counters = c;
    I.state = Impl::State::stopped;
  }
  I.wake.poke();  // wait() returns; the byte stays for every waiter
  log::info("stopped",
            {{"processed", std::to_string(c.processed)}, {"failed", std::to_string(c.failed)}});
}

void Server::request_stop() noexcept {
  impl_->stop_flag.store(true);
  g_signals.fetch_or(kSigStop);
  impl_->wake.poke();
}

void Server::wait() {
  auto& I = *impl_;
  for (;;) {
    {
      MutexLock lk(I.mu);
      if (I.state != Impl::State::running) return;
    }
    // Asleep until a signal handler, request_stop(), a TERM through the
    // store or stop() writes to the pipe: an idle server does not wake.
    I.wake.await();
    {
      // Stopped: the byte stays for the other waiters. Drained under the
      // lock, so stop() (which pokes after changing the state under it)
      // cannot have its byte eaten here.
      MutexLock lk(I.mu);
      if (I.state != Impl::State::running) return;
      I.wake.drain();
    }
    int sig = g_signals.exchange(0);
    if (sig & kSigQuiet) quiet();
    if (sig & kSigDump) I.engine->log_running();
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
  const int prev_wake_fd = g_wake_fd.exchange(impl_->wake.write_fd());
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
  // Another server's run() may have taken the signals since: restore only
  // what is still ours.
  int own = impl_->wake.write_fd();
  g_wake_fd.compare_exchange_strong(own, prev_wake_fd);
  return st;
}

ServerCounters Server::counters() const {
  auto& I = *impl_;
  {
    MutexLock lk(I.mu);
    if (!I.engine || I.state == Impl::State::stopped) return I.last_counters;
  }
  return I.engine->counters();
}

const std::string& Server::identity() const {
  static const std::string none;
  return impl_->engine ? impl_->engine->rt.identity : none;
}

bool Server::quiet_mode() const { return impl_->engine && impl_->engine->rt.quiet.load(); }

}  // namespace errand
