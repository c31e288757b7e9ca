// The Redis store's job status, results and cancellation (redis-layout.md
// §10). errand's own keys, which Sidekiq never reads:
//   errand:status:<jid>   HASH state, result, error, process, at, cancel;
//                         or, for a success with nothing recorded before,
//                         STRING `succeeded\n<at>\n<process>\n<result>`;
//                         expires with the job's result_ttl
//   errand:status:<jid>   also the pub/sub channel a final state is
//                         PUBLISHed on (the message is the state), while
//   errand:waiters        ZSET (waiter → its deadline) is not empty
// Where a job sits (queued, scheduled, retrying, dead, claimed) is found by a
// Lua scan of the queues and sets for its jid: linear in their size, and run
// only for status reads and cancels, never on the job path.
//
// Thread safety: as the store (every method from many threads).
#pragma once

#include <atomic>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "errand/store.h"
#include "store/redis/connection.h"

namespace errand::redis {

/// Whether the server that wrote `info` (INFO server's text) has SET's EXAT
/// option (Redis 6.2 and later).
bool has_set_exat(std::string_view info);

class StatusKeeper {
 public:
  StatusKeeper(Client& client, std::string prefix);

  Status record(std::span<const StatusUpdate> updates);
  /// One in-progress list and the payload to remove from it.
  struct Claim {
    std::string_view list;  // both live with the caller until the call returns
    const std::string* payload;
  };
  /// The claims' LREMs and the records, in one script call (one atomic step).
  Status ack_and_record(std::span<const Claim> claims, std::span<const StatusUpdate> updates);
  Result<JobStatus> get(const std::string& jid);
  /// Subscribes on a connection of its own, registers in errand:waiters
  /// (dated `now`), then waits for the PUBLISH of a final state (or the
  /// timeout).
  Result<JobStatus> wait(const std::string& jid, double now, std::chrono::milliseconds timeout);
  Result<JobState> cancel(const std::string& jid, double now, double ttl_seconds);
  Result<std::vector<std::string>> requested(std::span<const std::string> jids);

 private:
  std::string status_key(const std::string& jid) const { return prefix_ + "errand:status:" + jid; }
  std::string waiters_key() const { return prefix_ + "errand:waiters"; }
  /// A Client::wait's entry in errand:waiters: its member, the time it
  /// registers (members whose deadline is before it are dropped) and its
  /// deadline (epoch s).
  struct Waiter {
    std::string member;
    double since, deadline;
  };
  /// get(), registering `registering` (if not null) in the same script call.
  Result<JobStatus> look(const std::string& jid, const Waiter* registering);
  Argv scan_keys() const;
  /// The records' keys and their seven arguments each, appended.
  void append_records(std::span<const StatusUpdate> updates, Argv& keys, Argv& args) const;
  /// Successes only: the keys and, per key, the compact record and its ttl
  /// (kAckSucceeded).
  void append_successes(std::span<const StatusUpdate> updates, Argv& keys, Argv& args) const;

  Client& client_;
  const std::string prefix_;
  /// has_set_exat of the server, asked once (kAckSucceeded's last argument).
  bool exat();

  const Script locate_, cancel_, record_, ack_record_, ack_succeeded_, read_, requested_;
  std::atomic<int> exat_{-1};  ///< -1 not asked yet, else 0 or 1
};

}  // namespace errand::redis
