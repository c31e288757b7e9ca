// The Redis store's class: Sidekiq 6.4.1's layout (docs/redis-layout.md) plus errand's
// reliable fetch.
//
// What a Ruby Sidekiq sharing the server sees is exactly Sidekiq's keys:
// `queues`, `queue:<q>` (LPUSH at the head, run from the tail), `schedule`,
// `retry`, `dead`, `processes`, `<identity>` hashes, `<identity>:workers` and
// `:work`, `<identity>-signals`, `stat:*`. errand adds only keys under
// `errand:` (listed in lua_scripts.h), which Sidekiq never scans or lists;
// the in-progress queues are not added to `queues`.
//
// Reliable fetch: a claimed job moves atomically from `queue:<q>` to the
// owner's list `errand:inprogress:<owner>:queue:<q>` (RPOPLPUSH in a Lua script
// for batches, BRPOPLPUSH while waiting). ack LREMs it from there; requeue,
// retry and kill remove it as they write it elsewhere; rescue_orphans moves the
// lists of dead owners back. The claim's list is found from Fetched::id, this
// store instance's numeric handle for Fetched::owner; a Fetched with an
// unknown id (one made by hand) is looked up across all owners.
//
// Lost fetch replies: a fetch that fails on the connection (Redis restarting,
// a network cut) may still have run in Redis, leaving jobs in the owner's
// in-progress lists that nobody in this process knows about; the owner is
// alive, so the rescuer would never return them. The store therefore keeps
// the claims it handed out and has not settled (ack, requeue, retry, kill),
// and after such a failure its next fetch for that owner first puts every
// claim it did not hand out back in its queue (reconcile_claims).
//
// Every key name, and nothing else, gets the namespace prefix (redis-layout.md §9).
//
// One role per file: redis_store.cc (opening, push), worker.cc (fetch, ack,
// requeue, retry, kill, promote, rescue, heartbeat, and the claims handed
// out), admin.cc (stats, queues, sets, processes, pause, locks, signals),
// status.cc (job status, results, cancellation), url.cc (redis:// URLs).
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "errand/clock.h"
#include "errand/payload_limits.h"
#include "store/redis/connection.h"
#include "store/redis/events.h"
#include "store/redis/lua_scripts.h"
#include "store/redis/redis_store.h"
#include "store/redis/status.h"

namespace errand::redis_store {

/// The largest list or set index a range read asks for: Redis counts in
/// signed 64 bits, and offset + count must not wrap.
constexpr std::size_t kMaxIndex = std::size_t{1} << 40;

using redis::Argv;
using redis::Reply;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::int64_t kDailyStatTtl = 157'680'000;  // 5 × 365 days (redis-layout.md §8)
constexpr int kWorkersTtl = 60;
constexpr int kSignalsTtl = 60;
constexpr std::size_t kPromoteChunk = 100;  // entries per promote script run
// While waiting on several queues, fetch blocks on the first one for at most
// this long, then checks all of them again (Redis cannot atomically move from
// whichever of several lists gets a job first).
constexpr milliseconds kMultiQueueSlice{20};

// Shortest text that reads back as the same double (sorted-set scores).
inline std::string number_text(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// A payload timestamp: always with a decimal point, as Ruby's Float#to_s.
inline std::string float_text(double v) {
  std::string s = number_text(v);
  if (s.find_first_of(".eE") == std::string::npos && std::isfinite(v)) s += ".0";
  return s;
}

inline std::optional<double> parse_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc()) return std::nullopt;
  return v;
}

// "YYYY-MM-DD" of an epoch time, UTC.
inline std::string utc_date(double epoch) {
  std::time_t t = static_cast<std::time_t>(std::floor(epoch));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

// A payload timestamp field in seconds: floats are seconds, integers above
// 10^11 milliseconds (Sidekiq 8).
inline std::optional<double> payload_time(const Json& doc, const char* key) {
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  if (it->is_number_integer() && v > 1e11) v /= 1000.0;
  return v;
}

inline std::string jid_of(std::string_view payload) {
  Json doc = Json::parse(payload, nullptr, false);
  if (doc.is_object()) {
    auto it = doc.find("jid");
    if (it != doc.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

class RedisStore final : public Store {
 public:
  explicit RedisStore(const RedisOptions& o)
      : client_(redis::Endpoint{o.host, o.port, o.db, o.username, o.password, o.connect_timeout,
                                o.command_timeout},
                o.pool_size),
        prefix_(o.ns.empty() ? std::string() : o.ns + ":"),
        fetch_(redis::lua::kFetch),
        find_claim_(redis::lua::kFindClaim),
        requeue_(redis::lua::kRequeue),
        promote_(redis::lua::kPromote),
        rescue_(redis::lua::kRescue),
        set_move_(redis::lua::kSetMove),
        lock_acquire_(redis::lua::kLockAcquire),
        lock_release_(redis::lua::kLockRelease),
        lock_extend_(redis::lua::kLockExtend),
        status_(client_, prefix_),
        events_(client_, prefix_) {}

  Status ping() {
    auto r = client_.cmd({"PING"});
    return r ? Status() : r.status();
  }

  std::string_view scheme() const override { return "redis"; }

  StoreCapabilities capabilities() const override;

  // ---- enqueue -------------------------------------------------------------

  Status push(const PushParams& p) override;
  /// push()'s commands, for a caller's MULTI.
  Result<std::vector<Argv>> push_commands(std::span<const PushItem> jobs) const;

  // ---- batches (batches.cc) ----
  Status batch_update(const std::string& bid, double now,
                      const std::function<Status(BatchTxn&)>& fn) override;
  Result<BatchRecord> batch_read(const std::string& bid) override;
  Result<std::vector<std::string>> batch_list(std::size_t offset, std::size_t count,
                                              double now) override;

  // ---- worker side ---------------------------------------------------------

  Result<std::vector<Fetched>> fetch(const FetchParams& p) override;

  Status ack(std::span<const Fetched> jobs) override;

  Status requeue(const RequeueParams& p) override;

  Status retry(const RetryParams& p) override;

  Status kill(const KillParams& p) override;

  Result<std::size_t> promote_due(const PromoteParams& p) override;

  Result<std::size_t> rescue_orphans(const RescueParams& p) override;

  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override;

  Status unregister(const std::string& identity) override;

  // ---- admin ---------------------------------------------------------------

  Result<Stats> stats(double now) override;

  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override;

  Status reset_stats() override {
    auto r = client_.cmd({"MSET", key("stat:processed"), "0", key("stat:failed"), "0"});
    return r ? Status() : r.status();
  }

  Result<std::vector<QueueInfo>> queues(double now) override;

  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) override;

  Status ack_with_status(std::span<const Fetched> jobs,
                         std::span<const StatusUpdate> statuses) override;
  Status record_status(std::span<const StatusUpdate> updates) override {
    return status_.record(updates);
  }
  Result<JobStatus> job_status(const std::string& jid, double) override { return status_.get(jid); }
  Result<JobStatus> wait_status(const std::string& jid, double now, milliseconds timeout) override {
    return status_.wait(jid, now, timeout);
  }
  Result<JobState> cancel_job(const std::string& jid, double now, double ttl) override {
    return status_.cancel(jid, now, ttl);
  }
  Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids) override {
    return status_.requested(jids);
  }

  // ---- progress and job events (events.cc) ---------------------------------
  Status record_progress(std::span<const ProgressUpdate> updates) override {
    return events_.progress(updates);
  }
  Status publish_events(std::span<const JobEvent> events) override {
    return events_.publish(events);
  }
  Result<std::unique_ptr<EventSubscription>> subscribe_events(EventCallback on_event) override {
    return events_.subscribe(std::move(on_event));
  }

  Status queue_delete(const std::string& queue, const std::string& jid) override;

  Status clear_queue(const std::string& queue) override {
    auto r = client_.multi({{"UNLINK", queue_key(queue)}, {"SREM", key("queues"), queue}});
    return r ? Status() : r.status();
  }

  Result<std::size_t> set_size(SetKind kind) override;

  Result<std::vector<SetEntry>> set_range(SetKind kind, std::size_t offset,
                                          std::size_t count) override;

  Result<SetEntry> set_find(SetKind kind, double score, const std::string& jid) override;

  Status set_delete(SetKind kind, double score, const std::string& jid) override;

  Status set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                  const std::string& queue, const std::string& new_payload, double now,
                  const DeadLimits& limits) override;

  Status set_clear(SetKind kind) override {
    auto r = client_.cmd({"UNLINK", set_key(kind)});
    return r ? Status() : r.status();
  }

  Result<std::vector<ProcessRecord>> processes(double now) override;

  Result<std::vector<WorkRecord>> workers(double now) override;

  // ---- flow control --------------------------------------------------------

  Status set_paused(const std::string& queue, bool paused) override {
    auto r = client_.cmd({paused ? "SADD" : "SREM", key("errand:paused"), queue});
    return r ? Status() : r.status();
  }

  Result<std::vector<std::string>> paused_queues() override;

  Result<bool> lock_acquire(const std::string& name, const std::string& holder, double now,
                            double expires_at) override;

  Status lock_release(const std::string& name, const std::string& holder) override {
    auto r = client_.eval(lock_release_, {key("errand:lock:" + name)}, {holder});
    return r ? Status() : r.status();
  }

  Result<bool> lock_extend(const std::string& name, const std::string& holder, double now,
                           double expires_at) override;

  Status signal(const std::string& identity, const std::string& sig) override;

 private:
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }
  std::string queue_key(const std::string& q) const { return prefix_ + "queue:" + q; }
  std::string set_key(SetKind kind) const { return key(to_string(kind)); }
  std::string owner_set_key(const std::string& owner) const {
    return prefix_ + "errand:inprogress:" + owner;
  }
  std::string claim_key(const std::string& owner, const std::string& q) const {
    return owner_set_key(owner) + ":queue:" + q;
  }

  std::int64_t owner_id(const std::string& owner);

  // ---- claims handed out (see "Lost fetch replies" at the top) --------------

  void track_claims(const std::string& owner, const std::vector<Fetched>& jobs);

  void settle_claim(const Fetched& job);
  /// settle_claim of each, under one taking of the locks.
  void settle_claims(std::span<const Fetched> jobs);

  void mark_suspect(const std::string& owner) {
    std::lock_guard lock(claims_mu_);
    suspect_.insert(owner);
  }

  Status reconcile_claims(const std::string& owner);

  Result<std::string> claim_key_of(const Fetched& job);

  void append_dead(std::vector<Argv>& cmds, const std::string& payload, double now,
                   const DeadLimits& limits) const;

  Result<std::vector<std::string>> scan_set(const std::string& k);

  Result<std::vector<ProcessRecord>> live_processes(double now);

  redis::Client client_;
  const std::string prefix_;  // "" or "<namespace>:"
  const redis::Script fetch_, find_claim_, requeue_, promote_, rescue_, set_move_;
  const redis::Script lock_acquire_, lock_release_, lock_extend_;
  redis::StatusKeeper status_;  // job status, results, cancellation (status.cc)
  redis::EventChannel events_;  // progress and job events (events.cc)

  std::shared_mutex fetch_rw_;  // fetches share it; reconcile_claims takes it alone

  // owner -> in-progress list -> payload -> how many claims this store handed
  // out and has not settled; owners whose last fetch failed on the connection.
  std::mutex claims_mu_;  // taken after owners_mu_ when both are needed
  std::unordered_map<std::string,
                     std::unordered_map<std::string, std::unordered_map<std::string, int>>>
      claims_;                               // guarded by claims_mu_
  std::unordered_set<std::string> suspect_;  // guarded by claims_mu_

  std::mutex owners_mu_;
  std::vector<std::string> owner_names_;                     // guarded by owners_mu_
  std::unordered_map<std::string, std::int64_t> owner_ids_;  // guarded by owners_mu_
};

}  // namespace errand::redis_store
