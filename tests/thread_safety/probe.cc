// Compiled by tests/thread_safety/check.sh with clang -Wthread-safety -Werror:
// as is it must compile; with -DPROBE_CASE=n each case must be rejected. This
// proves the annotations of src/core/mutex.h reach the analysis (a macro that
// expanded to nothing would let every case through).
#include <chrono>
#include <stop_token>

#include "core/mutex.h"

namespace {

class Probe {
 public:
  int locked_read() {
    errand::MutexLock lock(mu_);
    while (value_ == 0) cv_.wait(lock);
    cv_.wait(lock, [&]() REQUIRES(mu_) { return value_ > 0; });
    lock.unlock();
    lock.lock();
    return value_;
  }
  bool stoppable_wait(std::stop_token stop) {
    errand::MutexLock lock(mu_);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
    return any_.wait_until(lock, stop, until, [&]() REQUIRES(mu_) { return value_ > 0; });
  }
  void locked_write() {
    errand::MutexLock lock(mu_);
    bump_locked();
    cv_.notify_all();
  }
  int shared_read() {
    errand::ReaderLock lock(rw_);
    return shared_;
  }
  void exclusive_write() {
    errand::WriterLock lock(rw_);
    shared_ = 1;
  }
  void bump_locked() REQUIRES(mu_) { ++value_; }

#if PROBE_CASE == 1
  int unlocked_read() { return value_; }
#elif PROBE_CASE == 2
  void write_under_reader_lock() {
    errand::ReaderLock lock(rw_);
    shared_ = 2;
  }
#elif PROBE_CASE == 3
  void predicate_without_requires() {
    errand::MutexLock lock(mu_);
    cv_.wait(lock, [&] { return value_ > 0; });
  }
#elif PROBE_CASE == 4
  int read_after_unlock() {
    errand::MutexLock lock(mu_);
    lock.unlock();
    return value_;
  }
#elif PROBE_CASE == 5
  void call_without_lock() { bump_locked(); }
#elif PROBE_CASE == 6
  void lock_twice() {
    errand::MutexLock a(mu_);
    errand::MutexLock b(mu_);
  }
#elif PROBE_CASE == 7
  void stoppable_predicate_without_requires(std::stop_token stop) {
    errand::MutexLock lock(mu_);
    any_.wait(lock, stop, [&] { return value_ > 0; });
  }
#endif

 private:
  errand::Mutex mu_;
  errand::CondVar cv_;
  errand::CondVarAny any_;
  int value_ GUARDED_BY(mu_) = 0;
  errand::SharedMutex rw_;
  int shared_ GUARDED_BY(rw_) = 0;
};

}  // namespace

int main() {
  Probe p;
  p.locked_write();
  p.exclusive_write();
  std::stop_source stop;
  if (!p.stoppable_wait(stop.get_token())) return 1;
  return p.locked_read() + p.shared_read() == 2 ? 0 : 1;
}
