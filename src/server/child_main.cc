// The child side: set up (crash handler on its own stack, the stop thread,
// resource limits, death with the parent), then serve one job per frame
// until EOF. Nothing here touches a store or the parent's log: the child
// only runs perform() and reports how it ended.
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "server/child.h"
#include "server/child_crash.h"
#include "server/frame.h"
#include "server/progress.h"

namespace errand {

namespace {

CrashPage* g_page = nullptr;

extern "C" void errand_child_crash(int sig) {
  // Async-signal-safe only: backtrace() was called once before (so its
  // unwinder is loaded), the rest are plain stores.
  if (g_page && g_page->signo.load() == 0) {
    g_page->depth = ::backtrace(g_page->frames, CrashPage::kFrames);
    g_page->signo.store(sig);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_crash_handler(CrashPage* page) {
  g_page = page;
  void* warm[2];
  (void)::backtrace(warm, 2);
  // Its own stack, so that a stack overflow can still be reported.
  static constexpr std::size_t kAltStack = 256 * 1024;
  stack_t ss{};
  ss.ss_sp = ::operator new(kAltStack);
  ss.ss_size = kAltStack;
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = errand_child_crash;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP})
    ::sigaction(sig, &sa, nullptr);
}

/// The running job's stop source; SIGUSR1 from the parent requests it.
Mutex g_stop_mu;
std::stop_source* g_stop GUARDED_BY(g_stop_mu) = nullptr;

void start_stop_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by the thread below
  std::thread([set] {
    for (;;) {
      int sig = 0;
      if (::sigwait(&set, &sig) != 0) continue;
      MutexLock lk(g_stop_mu);
      if (g_stop) g_stop->request_stop();
    }
  }).detach();
}

/// Frames to the parent leave whole: progress (from the job's threads or the
/// flusher) and the outcome share the socket.
Mutex g_write_mu;  // serialises the writes to g_fd (guards no variable)
int g_fd = -1;     // set before the progress flusher, the first sender, starts

bool send_frame(std::string_view bytes) {
  MutexLock lk(g_write_mu);
  return frame::write(g_fd, bytes);
}

/// The running job's progress throttle; the flusher thread sends what it
/// held back every interval.
Mutex g_progress_mu;
ProgressThrottle* g_progress GUARDED_BY(g_progress_mu) = nullptr;

void start_progress_flusher(std::chrono::milliseconds interval) {
  std::thread([interval] {
    for (;;) {
      std::this_thread::sleep_for(interval);
      MutexLock lk(g_progress_mu);
      if (g_progress) g_progress->flush_due();
    }
  }).detach();
}

void apply_limits(const ChildOptions& o) {
  // Die with the parent, even when it is killed with SIGKILL.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The worker's own signal handling is not ours: the parent stops us.
  for (int sig : {SIGINT, SIGTERM, SIGTSTP, SIGTTIN, SIGHUP, SIGQUIT}) ::signal(sig, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  if (o.address_space_mb > 0) {
    // Room to grow beyond what the child inherited (the worker's threads and
    // arenas already reserve address space it never touches).
    rlim_t inherited = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      unsigned long pages = 0;
      if (std::fscanf(f, "%lu", &pages) == 1)
        inherited = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
      std::fclose(f);
    }
    rlimit lim{};
    lim.rlim_cur = lim.rlim_max = inherited + (static_cast<rlim_t>(o.address_space_mb) << 20);
    ::setrlimit(RLIMIT_AS, &lim);
  }
}

Outcome run_one(std::string_view frame_text, const ChildRunner& runner) {
  const auto nul = frame_text.find('\0');
  if (nul == std::string_view::npos) {
    Outcome bad;
    bad.kind = Outcome::Kind::bad_payload;
    bad.error_message = "malformed job frame";
    return bad;
  }
  Fetched f;
  f.queue = std::string(frame_text.substr(0, nul));
  f.payload = std::string(frame_text.substr(nul + 1));
  auto decoded = DecodedJob::decode(f);
  if (!decoded) {
    Outcome bad;
    bad.kind = Outcome::Kind::bad_payload;
    bad.error_message = decoded.error().message();
    return bad;
  }
  const auto& v = decoded->view();
  auto desc = descriptor_for(v, *runner.registry);
  std::stop_source stop;
  {
    MutexLock lk(g_stop_mu);
    g_stop = &stop;
  }
  ProgressThrottle progress(runner.progress_interval, [](double fraction, const std::string& m) {
    (void)send_frame(encode_progress(fraction, m));
  });
  {
    MutexLock lk(g_progress_mu);
    g_progress = &progress;
  }
  Outcome out = run_in_thread(RunRequest{
      &*decoded, desc.get(), runner.chain, stop.get_token(),
      [&progress](double fraction, std::string_view m) { progress.report(fraction, m); }});
  {
    MutexLock lk(g_progress_mu);
    g_progress = nullptr;
  }
  progress.flush();  // the last report, before the outcome
  MutexLock lk(g_stop_mu);
  g_stop = nullptr;
  return out;
}

/// Closes every descriptor inherited from the worker but the standard ones
/// and `keep`: the worker's store connections are not ours, and another
/// child's socket held here would hide that child's EOF from it.
void close_inherited(int keep) {
  if (keep > 3) ::close_range(3, static_cast<unsigned>(keep - 1), 0);
  ::close_range(static_cast<unsigned>(keep + 1), ~0U, 0);
}

}  // namespace

void child_main(int fd, void* crash_page, const ChildRunner& runner, const ChildOptions& o) {
  close_inherited(fd);
  apply_limits(o);
  install_crash_handler(static_cast<CrashPage*>(crash_page));
  start_stop_thread();
  g_fd = fd;
  start_progress_flusher(runner.progress_interval);
  while (auto job = frame::read(fd)) {
    Outcome out = run_one(*job, runner);
    if (!send_frame(encode_outcome(out))) break;
  }
  ::_exit(0);
}

std::string encode_outcome(const Outcome& o) {
  Json j{{"k", static_cast<int>(o.kind)},
         {"c", o.error_class},
         {"m", o.error_message},
         {"a", static_cast<int>(o.action)},
         {"d", o.delay},
         {"t", o.at},
         {"r", o.result}};
  return payload::dump(j);
}

std::string encode_progress(double fraction, const std::string& message) {
  return "P" + payload::dump(Json{{"f", fraction}, {"m", message}});
}

std::optional<ChildReport> decode_progress(std::string_view text) {
  if (text.empty() || text.front() != 'P') return std::nullopt;
  Json j = Json::parse(text.substr(1), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  auto f = j.find("f");
  auto m = j.find("m");
  if (f == j.end() || !f->is_number() || m == j.end() || !m->is_string()) return std::nullopt;
  return ChildReport{f->get<double>(), m->get<std::string>()};
}

std::optional<Outcome> decode_outcome(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    Outcome o;
    const int kind = j.at("k").get<int>();
    const int action = j.at("a").get<int>();
    if (kind < 0 || kind > static_cast<int>(Outcome::Kind::bad_payload)) return std::nullopt;
    if (action < 0 || action > static_cast<int>(ErrorAction::dead)) return std::nullopt;
    o.kind = static_cast<Outcome::Kind>(kind);
    o.action = static_cast<ErrorAction>(action);
    o.error_class = j.at("c").get<std::string>();
    o.error_message = j.at("m").get<std::string>();
    o.delay = j.at("d").get<double>();
    o.at = j.at("t").get<double>();
    o.result = j.value("r", std::string("null"));
    return o;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

}  // namespace errand
