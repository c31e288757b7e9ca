#include "core/log_output.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace errand::log::output {

namespace {

constexpr std::size_t kWakeBytes = 64 * 1024;       // write early once this much gathered
constexpr std::size_t kMaxBytes = 4 * 1024 * 1024;  // appenders wait beyond this
constexpr auto kInterval = std::chrono::milliseconds(50);
std::atomic<int> g_fd{2};  // stderr unless set_fd()

struct Writer {
  std::mutex mu;  // guards pending and started
  std::condition_variable wake;
  std::condition_variable drained;
  std::string pending;
  bool started = false;
  std::mutex write_mu;  // one write of the fd at a time, chunks in order; guards writing
  std::string writing;
};

// Never destroyed: lines may still be written by static destructors at exit.
Writer& writer() {
  static Writer* w = new Writer;
  return *w;
}

void write_all(std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(g_fd.load(std::memory_order_relaxed), s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to write (closed, full disk): the lines are dropped
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

/// Takes everything pending and writes it; the two buffers swap, so their
/// capacity is reused and steady logging allocates nothing.
void drain(Writer& w) {
  std::lock_guard write_lock(w.write_mu);
  {
    std::lock_guard lock(w.mu);
    w.writing.swap(w.pending);
  }
  w.drained.notify_all();
  write_all(w.writing);
  w.writing.clear();
}

void run(Writer& w) {
  std::unique_lock lock(w.mu);
  for (;;) {
    w.wake.wait(lock, [&] { return !w.pending.empty(); });
    // Gather for a moment (or until a full chunk), then one write(2).
    w.wake.wait_for(lock, kInterval, [&] { return w.pending.size() >= kWakeBytes; });
    lock.unlock();
    drain(w);
    lock.lock();
  }
}

void at_exit() { flush(); }

// fork(): the child gets the buffers in a consistent state and no writer
// thread (it starts its own on its first line).
void before_fork() {
  writer().write_mu.lock();
  writer().mu.lock();
}
void after_fork_parent() {
  writer().mu.unlock();
  writer().write_mu.unlock();
}
void after_fork_child() {
  writer().started = false;
  after_fork_parent();
}

void start(Writer& w) {  // w.mu held
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(at_exit);
    ::pthread_atfork(before_fork, after_fork_parent, after_fork_child);
  });
  std::thread([&w] { run(w); }).detach();
  w.started = true;
}

}  // namespace

void append(std::string_view line, bool urgent) {
  Writer& w = writer();
  bool notify = false;
  {
    std::unique_lock lock(w.mu);
    if (!w.started) start(w);
    if (w.pending.size() >= kMaxBytes) {
      w.wake.notify_one();
      w.drained.wait(lock, [&] { return w.pending.size() < kMaxBytes; });
    }
    const std::size_t before = w.pending.size();
    w.pending.append(line);
    // Wake the writer when the buffer stops being empty (it then gathers for
    // kInterval) and when it crosses a full chunk.
    notify = before == 0 || (before < kWakeBytes && w.pending.size() >= kWakeBytes);
  }
  if (urgent) {
    drain(w);
    return;
  }
  if (notify) w.wake.notify_one();
}

void flush() {
  Writer& w = writer();
  {
    std::lock_guard lock(w.mu);
    if (w.pending.empty()) return;
  }
  drain(w);
}

}  // namespace errand::log::output

namespace errand::log::output {

void set_fd(int fd) {
  flush();
  g_fd.store(fd);
}

}  // namespace errand::log::output
