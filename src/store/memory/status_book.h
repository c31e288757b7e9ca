// StatusBook: the memory store's job status records (Store::record_status
// and friends), with their TTLs, cancel requests and the condition variable
// wait_status() sleeps on. Where a job sits (queued, scheduled, ...) is the
// store's business; this keeps only what was recorded.
//
// Thread safety: every method may be called from many threads at once. It
// never calls out while holding its mutex, so a caller may hold its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "errand/job_status.h"

namespace errand::store_util {

class StatusBook {
 public:
  /// Stores `u` (a running record keeps a pending cancel request); wakes the
  /// waiters when the state is final.
  void record(const StatusUpdate& u);
  /// Sets the progress of `u.jid`'s record (creating one in state unknown),
  /// keeping its state; the record lives at least until u.now + u.ttl_seconds.
  void progress(const ProgressUpdate& u);
  /// The record of `jid`, unless absent or expired at `now`.
  std::optional<JobStatus> find(const std::string& jid, double now);
  /// Flags a cancel request on the record (creating one in state unknown)
  /// unless its state is final; returns the recorded state.
  JobState request_cancel(const std::string& jid, double now, double ttl_seconds);
  /// Of `jids`, those with a pending cancel request.
  std::vector<std::string> requested(std::span<const std::string> jids);
  /// Waits until `jid`'s record is final or `timeout` passes.
  void wait_final(const std::string& jid, std::chrono::milliseconds timeout);

 private:
  struct Entry {
    JobStatus status;
    double expires_at = 0;
  };
  /// Drops expired records, at most once a minute of `now`.
  void purge_locked(double now);

  std::mutex mu_;
  std::condition_variable cv_;                      // waiters; guarded by mu_
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
  double purged_at_ = 0;                            // guarded by mu_
};

/// "ErrorClass: message" from a retry or dead entry's payload ("" if none).
std::string payload_error(std::string_view payload);

}  // namespace errand::store_util
