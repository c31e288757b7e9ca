// Mutexes that clang's -Wthread-safety understands (std::mutex and
// std::shared_mutex are not annotated in libstdc++): thin wrappers, same cost.
//
//   errand::Mutex mu_;
//   errand::CondVar cv_;
//   int ready_ GUARDED_BY(mu_) = 0;
//
//   errand::MutexLock lock(mu_);
//   while (ready_ == 0) cv_.wait(lock);   // the loop keeps the analysis able to see mu_ held
//
// A predicate lambda is analysed as a function of its own: give it
// REQUIRES(mu_) (`cv_.wait(lock, [&]() REQUIRES(mu_) { return ready_ > 0; })`).
// CondVarAny is the same for a wait that a std::stop_token also ends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <stop_token>

#include "core/thread_annotations.h"

namespace errand {

class CondVar;
class CondVarAny;
class MutexLock;

/// An exclusive lock (std::mutex).
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  /// For code the analysis cannot follow (a callback run under the lock).
  void assert_held() const ASSERT_CAPABILITY(this) {}

 private:
  friend class MutexLock;
  std::mutex mu_;
};

/// Holds a Mutex for its scope; may be unlocked and locked again inside it.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void lock() ACQUIRE() { lock_.lock(); }
  void unlock() RELEASE() { lock_.unlock(); }

 private:
  friend class CondVar;
  friend class CondVarAny;
  std::unique_lock<std::mutex> lock_;
};

/// A condition variable waited on with a MutexLock.
class CondVar {
 public:
  void notify_one() noexcept { cv_.notify_one(); }
  void notify_all() noexcept { cv_.notify_all(); }

  void wait(MutexLock& lock) { cv_.wait(lock.lock_); }
  template <class Predicate>
  void wait(MutexLock& lock, Predicate ready) {
    cv_.wait(lock.lock_, std::move(ready));
  }
  template <class Rep, class Period>
  std::cv_status wait_for(MutexLock& lock, const std::chrono::duration<Rep, Period>& d) {
    return cv_.wait_for(lock.lock_, d);
  }
  template <class Rep, class Period, class Predicate>
  bool wait_for(MutexLock& lock, const std::chrono::duration<Rep, Period>& d, Predicate ready) {
    return cv_.wait_for(lock.lock_, d, std::move(ready));
  }
  template <class Clock, class Duration>
  std::cv_status wait_until(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& t) {
    return cv_.wait_until(lock.lock_, t);
  }
  template <class Clock, class Duration, class Predicate>
  bool wait_until(MutexLock& lock, const std::chrono::time_point<Clock, Duration>& t,
                  Predicate ready) {
    return cv_.wait_until(lock.lock_, t, std::move(ready));
  }

 private:
  std::condition_variable cv_;
};

/// A condition variable waited on with a MutexLock whose waits also end
/// when a std::stop_token is requested (std::condition_variable_any's
/// interruptible waits). Returns the predicate's value, like the standard's.
class CondVarAny {
 public:
  void notify_one() noexcept { cv_.notify_one(); }
  void notify_all() noexcept { cv_.notify_all(); }

  template <class Predicate>
  bool wait(MutexLock& lock, std::stop_token stop, Predicate ready) {
    return cv_.wait(lock.lock_, std::move(stop), std::move(ready));
  }
  template <class Clock, class Duration, class Predicate>
  bool wait_until(MutexLock& lock, std::stop_token stop,
                  const std::chrono::time_point<Clock, Duration>& t, Predicate ready) {
    return cv_.wait_until(lock.lock_, std::move(stop), t, std::move(ready));
  }

 private:
  std::condition_variable_any cv_;
};

/// A reader-writer lock (std::shared_mutex).
class CAPABILITY("mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  void lock_shared() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() RELEASE_SHARED() { mu_.unlock_shared(); }
  void assert_held() const ASSERT_CAPABILITY(this) {}
  void assert_held_shared() const ASSERT_SHARED_CAPABILITY(this) {}

 private:
  std::shared_mutex mu_;
};

/// Holds a SharedMutex exclusively for its scope.
class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() RELEASE() { mu_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

/// Holds a SharedMutex shared for its scope.
class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() RELEASE() { mu_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace errand
