// Time, injected. Every part of errand that asks "what time is it?" asks a
// Clock, so tests drive retries, schedules and cron with a ManualClock instead
// of sleeping.
//
// errand's wire format stores times as epoch seconds in a double (Sidekiq's
// `Time.now.to_f`); `to_epoch` / `from_epoch` convert.
#pragma once

#include <atomic>
#include <chrono>

namespace errand {

using SystemTime = std::chrono::system_clock::time_point;

/// Epoch seconds with a fraction, as Sidekiq writes them.
inline double to_epoch(SystemTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
inline SystemTime from_epoch(double seconds) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(seconds)));
}

/// Thread-safe: implementations must allow concurrent calls to now().
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;
  double epoch() const { return to_epoch(now()); }
};

/// The real wall clock.
class SystemClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
  /// A process-wide instance; never destroyed.
  static const SystemClock& instance();
};

/// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start = std::chrono::system_clock::now())
      : ns_(start.time_since_epoch().count()) {}
  SystemTime now() const override { return SystemTime(SystemTime::duration(ns_.load())); }
  void set(SystemTime t) { ns_.store(t.time_since_epoch().count()); }
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    ns_.fetch_add(std::chrono::duration_cast<SystemTime::duration>(d).count());
  }

 private:
  std::atomic<SystemTime::rep> ns_;
};

}  // namespace errand
