// The parent side of a child process: spawn, hand over a job, wait for its
// outcome under the timeout, the stop token and the memory cap, and tell how
// a child ended when it dies.
#include "server/child.h"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "core/envelope.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "server/child_crash.h"
#include "server/frame.h"
#include "server/heartbeat.h"

namespace errand {

namespace {

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

/// One line per frame: "function+0xoff (library)", or the address.
std::vector<std::string> symbolize(const CrashPage& page) {
  std::vector<std::string> out;
  const int n = std::min(page.depth, CrashPage::kFrames);
  for (int i = 0; i < n; ++i) {
    void* addr = page.frames[i];
    Dl_info info{};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%p", addr);
    std::string line = buf;
    if (::dladdr(addr, &info) != 0) {
      if (info.dli_sname) {
        const auto off = static_cast<char*>(addr) - static_cast<char*>(info.dli_saddr);
        std::snprintf(buf, sizeof buf, "+0x%tx", off);
        line = demangle(info.dli_sname) + buf;
      }
      if (info.dli_fname) line += std::string(" (") + info.dli_fname + ")";
    }
    out.push_back(std::move(line));
  }
  return out;
}

/// Children that were idle and told to exit (EOF) but had not exited yet:
/// reaped without waiting before each spawn.
class Reaper {
 public:
  static Reaper& instance() {
    static Reaper* r = new Reaper();  // never destroyed: used until exit
    return *r;
  }
  void later(pid_t pid) EXCLUDES(mu_) {
    MutexLock lk(mu_);
    pending_.push_back(pid);
  }
  void reap() EXCLUDES(mu_) {
    MutexLock lk(mu_);
    std::erase_if(pending_, [](pid_t pid) {
      int status = 0;
      return ::waitpid(pid, &status, WNOHANG) != 0;
    });
  }

 private:
  Mutex mu_;
  std::vector<pid_t> pending_ GUARDED_BY(mu_);
};

}  // namespace

void Child::prepare() { (void)read_envelope(R"({"class":"X","jid":"x","args":[]})"); }

Result<std::unique_ptr<Child>> Child::spawn(const ChildRunner& runner, const ChildOptions& o) {
  Reaper::instance().reap();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(Errc::unavailable, std::string("socketpair: ") + std::strerror(errno));
  void* page =
      ::mmap(nullptr, sizeof(CrashPage), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) {
    ::close(sv[0]);
    ::close(sv[1]);
    return fail(Errc::unavailable, std::string("mmap: ") + std::strerror(errno));
  }
  new (page) CrashPage();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(sv[0]);
    ::close(sv[1]);
    ::munmap(page, sizeof(CrashPage));
    return fail(Errc::unavailable, std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(sv[0]);
    child_main(sv[1], page, runner, o);
  }
  ::close(sv[1]);
  auto c = std::unique_ptr<Child>(new Child());
  c->pid_ = pid;
  c->fd_ = sv[0];
  c->crash_page_ = page;
  c->alive_ = true;
  c->options_ = o;
  return c;
}

Child::~Child() {
  if (fd_ >= 0) ::close(fd_);  // an idle child reads EOF and exits
  if (alive_) {
    int status = 0;
    // Not waited for here (a job does not wait for the last one's child to
    // exit): reaped by a later spawn, or with the worker.
    if (::waitpid(pid_, &status, WNOHANG) == 0) Reaper::instance().later(pid_);
  }
  if (crash_page_) ::munmap(crash_page_, sizeof(CrashPage));
}

std::int64_t Child::rss_kb() const { return alive_ ? rss_kb_of(pid_) : 0; }

bool Child::worn_out() const {
  if (!alive_) return true;
  if (options_.max_jobs_per_child > 0 && jobs_ >= options_.max_jobs_per_child) return true;
  return options_.max_memory_mb > 0 &&
         rss_kb() > static_cast<std::int64_t>(options_.max_memory_mb) * 1024;
}

Outcome Child::run(const std::string& queue, const std::string& payload, double timeout_s,
                   std::stop_token stop, const ChildProgress& on_progress) {
  std::string frame_text;
  frame_text.reserve(queue.size() + 1 + payload.size());
  frame_text.append(queue).push_back('\0');
  frame_text.append(payload);
  ++jobs_;
  if (!frame::write(fd_, frame_text)) return reap(timeout_s);
  killed_for_.clear();
  auto got = await(timeout_s, stop, on_progress);
  if (!got) return reap(timeout_s);
  auto out = decode_outcome(*got);
  if (!out) return Outcome::failure("errand::WorkerCrashed", "malformed outcome from child");
  return std::move(*out);
}

bool Child::escalate(steady_time& asked, const char* why) {
  if (asked == steady_time{}) {
    asked = steady::now();
    killed_for_ = why;
    ::kill(pid_, SIGUSR1);  // the child requests the job's stop token
    return false;
  }
  if (steady::now() - asked < options_.kill_grace) return false;
  ::kill(pid_, SIGKILL);
  return true;
}

std::optional<std::string> Child::await(double timeout_s, std::stop_token stop,
                                        const ChildProgress& on_progress) {
  const auto started = steady::now();
  steady_time asked{};
  const std::int64_t hard_kb = static_cast<std::int64_t>(options_.hard_memory_mb) * 1024;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) return std::nullopt;
    if (ready > 0) {
      auto got = frame::read(fd_);  // nullopt at EOF: the child is gone
      if (!got || got->empty() || got->front() != 'P') return got;
      if (auto report = decode_progress(*got); report && on_progress)
        on_progress(report->fraction, report->message);
      continue;  // the outcome comes after
    }
    if (hard_kb > 0 && rss_kb() > hard_kb) {
      killed_for_ = "memory";
      ::kill(pid_, SIGKILL);
      return std::nullopt;
    }
    const bool over_time = timeout_s > 0 && seconds_since(started) > timeout_s;
    if ((over_time || stop.stop_requested()) && escalate(asked, over_time ? "timeout" : "stop"))
      return std::nullopt;
  }
}

Outcome Child::reap(double timeout_s) {
  int status = 0;
  const auto until = steady::now() + std::chrono::seconds(1);
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (steady::now() >= until) {
      ::kill(pid_, SIGKILL);  // closed its end but lives on: not ours to wait for
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  alive_ = false;
  const std::string who = " in child " + std::to_string(pid_);
  if (killed_for_ == "timeout")
    return Outcome::failure("errand::JobTimeout", "job exceeded its timeout of " +
                                                      std::to_string(static_cast<long>(timeout_s)) +
                                                      " s and did not stop; killed" + who);
  if (killed_for_ == "memory")
    return Outcome::failure("errand::MemoryLimit", "child memory passed hard_memory_mb (" +
                                                       std::to_string(options_.hard_memory_mb) +
                                                       " MiB); killed" + who);
  Outcome out;
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    out = Outcome::failure(
        "errand::WorkerCrashed",
        std::string("SIG") + (name ? name : "?") + " (signal " + std::to_string(sig) + ")" + who);
  } else {
    out = Outcome::failure("errand::WorkerCrashed",
                           "child exited with status " +
                               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                               " without reporting" + who);
  }
  const auto* page = static_cast<const CrashPage*>(crash_page_);
  if (page->signo.load() != 0) out.backtrace = symbolize(*page);
  if (killed_for_ == "stop") out.error_message += " (stopped at shutdown)";
  return out;
}

}  // namespace errand
