// The heartbeat: registers this process in every store it works, reports its
// running jobs and counters, and receives signals sent through the store
// (Sidekiq's `<identity>-signals`: TSTP quiets, TERM stops).
#pragma once

#include <functional>
#include <string>

#include "core/mutex.h"
#include "core/thread_annotations.h"
#include "server/runtime.h"
#include "server/service.h"

namespace errand {

/// "<hostname>:<pid>:<12 hex nonce>"; $DYNO replaces the hostname if set.
std::string make_identity();
/// This process's resident set size in KiB (0 if unknown).
std::int64_t current_rss_kb();
/// Process `pid`'s resident set size in KiB (0 if unknown or gone).
std::int64_t rss_kb_of(int pid);
/// This server's counters, read from the runtime's atomics.
ServerCounters counters_of(const Runtime& rt);

class Heartbeat {
 public:
  using SignalHandler = std::function<void(const std::string& sig)>;
  Heartbeat(Runtime& rt, SignalHandler on_signal);
  /// Beats once to every store. Returns the first error (the other stores
  /// still got their beat). Counters that could not be reported are kept for
  /// the next beat. Thread-safe (beats are serialised).
  Status beat() EXCLUDES(mu_);
  /// Whether finished jobs wait to be counted in the store.
  bool counters_pending() const;

 private:
  Json info() const;
  /// The child processes of the processors: pid, rss_kb, jobs (may be empty).
  Json children() const;

  Runtime& rt_;
  SignalHandler on_signal_;
  Mutex mu_;  // serialises beats
  std::int64_t rtt_us_ GUARDED_BY(mu_) = 0;
  Json info_ GUARDED_BY(mu_);  // built on the first beat
};

/// Beats every heartbeat_interval.
class HeartbeatService : public Service {
 public:
  HeartbeatService(Runtime& rt, Heartbeat& hb) : rt_(rt), hb_(hb) {}
  const char* name() const override { return "heartbeat"; }
  std::chrono::milliseconds first_delay() override { return rt_.options.heartbeat_interval; }
  std::chrono::milliseconds next_interval() override { return rt_.options.heartbeat_interval; }
  void run_once() override;

 private:
  Runtime& rt_;
  Heartbeat& hb_;
};

/// Flushes the processed/failed counters to the stores every stats_interval
/// when jobs finished since the last beat, so `errand stats` lags the work
/// by about that interval rather than by a whole heartbeat.
class StatsService : public Service {
 public:
  StatsService(Runtime& rt, Heartbeat& hb) : rt_(rt), hb_(hb) {}
  const char* name() const override { return "stats"; }
  std::chrono::milliseconds first_delay() override { return rt_.options.stats_interval; }
  std::chrono::milliseconds next_interval() override { return rt_.options.stats_interval; }
  void run_once() override;

 private:
  Runtime& rt_;
  Heartbeat& hb_;
};

}  // namespace errand
