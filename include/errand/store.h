// The store seam: the one interface between errand and its storage.
//
// A Store is a list of job state transitions (enqueue, fetch, ack, retry,
// kill, promote due, rescue orphans) plus the admin reads and writes the CLI
// and the dashboard share. Stores hold no policy: backoff, retry counts,
// uniqueness and limits are decided above this seam and handed down as
// finished payloads and times. A store says what it can do in
// capabilities(); a call to something it lacks returns Errc::unsupported.
//
// Every store passes the shared conformance suite in tests/store_conformance/
// (the errand_store_conformance library), which also checks that each
// store's declared capabilities match what it does.
//
// Thread safety: every Store method may be called from many threads at once.
// Ownership: a Store is shared (std::shared_ptr) between the clients and
// servers that use it; it closes its connections when the last owner lets go.
//
// Times are epoch seconds (double), as in the wire format. Stores never read
// the wall clock: every call that dates something (an enqueue, a claim, a
// dead entry, a day's counter, a queue's latency) is handed `now`, read by
// the caller from its Clock, so a ManualClock drives a store as it drives
// the server. A call that blocks (fetch, wait_status) dates what it does
// after waking as `now` plus the time it waited (a steady clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "errand/events.h"
#include "errand/job_status.h"
#include "errand/payload.h"
#include "errand/status.h"

namespace errand {

class BatchTxn;      // errand/batch_store.h
struct BatchRecord;  // errand/batch_store.h

/// One job to enqueue.
struct PushItem {
  std::string queue;    ///< queue name without any prefix
  std::string jid;      ///< the payload's jid (stores index by it)
  std::string payload;  ///< the payload JSON text, stored as given
  double at = 0;        ///< 0: ready now; otherwise epoch seconds when due (scheduled set)
  int priority = 0;     ///< higher runs first within a queue, on stores that can order
};

/// A job claimed by a worker. The claim (a lease owned by the worker's process
/// identity) holds until the job is acked, retried, killed or requeued; if the
/// process dies first, rescue_orphans() puts the job back in its queue.
/// Everything a store needs to settle the claim travels in this value: the
/// settling calls (ack, requeue, retry, kill, reschedule) take no owner.
struct Fetched {
  std::string queue;    ///< the queue it came from
  std::string payload;  ///< the payload text exactly as stored
  /// Where the fetching store instance finds the claim (a row id on SQLite,
  /// the owner's index on Redis); 0 if unused or unknown. Meaningful only to
  /// the store object that set it.
  std::int64_t id = 0;
  /// The one owner of the claim: the identity fetch() claimed it for. A late
  /// ack from an owner whose claim was rescued and claimed again by another
  /// process leaves the new claim alone. Empty: any owner (a Fetched made by
  /// hand).
  std::string owner;
};

/// What a store can do, declared once so that callers need not probe (a
/// probe may write, and an unsupported answer comes too late). The
/// conformance suite checks each declaration against the store's behaviour.
struct StoreCapabilities {
  /// fetch() honours PushItem::priority: within a queue, higher priority runs
  /// first, then oldest first. False: priority is ignored, queues are FIFO.
  bool ordering = false;
  /// set_paused() and paused_queues() work, and every process sharing the
  /// store sees the same paused queues. False: set_paused() is unsupported.
  bool pause = false;
  /// lock_acquire() and lock_release() work (unique jobs, concurrency and
  /// rate limits, cron ticks), atomically across processes. False: both are
  /// unsupported, and so are the features built on them.
  bool locks = false;
  /// lock_extend() works: a holder can move its lock's end. False: it is
  /// unsupported, and concurrency slots are leased for a job's whole possible
  /// run instead of renewed.
  bool lock_extend = false;
  /// Calls are in-process work without I/O (the memory store): the server
  /// then acknowledges jobs one by one instead of batching them from a
  /// separate thread. Same as in_process().
  bool in_process = false;
  /// push() can run inside the application's own open database transaction,
  /// committed or rolled back with it (enqueue "within" a transaction).
  /// False: a push is its own write, whatever the application does.
  bool transactional_push = false;
  /// A fetch() waiting for work is woken at once by a push from any process
  /// sharing the store (Redis: a blocking pop; PostgreSQL: LISTEN/NOTIFY).
  /// False: pushes from other processes are noticed at the next poll
  /// (pushes through the same store object still wake it at once).
  bool listen_notify = false;
  /// Job status, results and cancellation work: record_status(),
  /// job_status(), wait_status(), cancel_job() and cancel_requests(). False:
  /// all five are unsupported.
  bool status = false;
  /// Batches and workflows work: batch_update(), batch_read(), batch_list().
  bool batches = false;
  /// ack_with_status() stores a batch's acks and status records in one
  /// atomic step (PostgreSQL: one transaction, one commit). False: it is
  /// unsupported, and the server makes the two calls.
  bool ack_with_status = false;
};

/// The three sorted sets, as in Sidekiq.
enum class SetKind { scheduled, retry, dead };
std::string_view to_string(SetKind kind) noexcept;

/// An entry of a sorted set, addressed as Sidekiq's Web UI does: by score and jid.
struct SetEntry {
  double score = 0;  ///< when due (scheduled, retry) or when it died (dead)
  std::string jid;
  std::string payload;  ///< exact stored text
};

/// Where set_move() sends an entry.
enum class MoveTo { queue, dead };

/// How the dead set is bounded (Sidekiq: 10,000 jobs, 180 days).
struct DeadLimits {
  std::size_t max_jobs = 10'000;
  double max_age_seconds = 180.0 * 24 * 3600;
};

struct QueueInfo {
  std::string name;
  std::size_t size = 0;
  double latency = 0;  ///< seconds since the oldest waiting job was enqueued; 0 if empty
  bool paused = false;
};

struct Stats {
  std::int64_t processed = 0;
  std::int64_t failed = 0;
  std::size_t scheduled = 0;
  std::size_t retries = 0;
  std::size_t dead = 0;
  std::size_t processes = 0;
  std::size_t busy = 0;
  std::size_t enqueued = 0;  ///< jobs waiting in all queues
};

/// A job running now, as the Busy page shows it.
struct WorkRecord {
  std::string process;  ///< the identity of the process running it
  std::string thread;   ///< any id unique per worker thread
  std::string queue;
  std::string payload;  ///< exact payload text
  double run_at = 0;    ///< when it started
};

/// What a process reports about itself on every heartbeat (SIDEKIQ_WIRE.md §7).
struct ProcessBeat {
  std::string identity;  ///< "<hostname>:<pid>:<nonce>"
  Json info;             ///< hostname, started_at, pid, tag, concurrency, queues, labels, identity
  std::size_t busy = 0;
  double beat = 0;
  bool quiet = false;
  std::int64_t rss_kb = 0;
  std::int64_t rtt_us = 0;
  std::vector<WorkRecord> work;  ///< running jobs (process field may be empty)
  std::int64_t processed = 0;    ///< jobs finished since the last beat (added to the counters)
  std::int64_t failed = 0;       ///< jobs failed since the last beat
  double ttl_seconds = 60;       ///< the process counts as gone this long after its last beat
};

/// A registered process, as read back.
struct ProcessRecord {
  std::string identity;
  Json info;
  std::size_t busy = 0;
  double beat = 0;
  bool quiet = false;
  std::int64_t rss_kb = 0;
};

/// An application's own database connection with a transaction in progress,
/// handed to Store::push_within() (through Client::within()). The application
/// owns the connection and ends the transaction; errand only adds rows to it.
struct AppTransaction {
  enum class Kind { postgres, sqlite };
  Kind kind = Kind::postgres;
  void* handle = nullptr;  ///< a PGconn* (postgres) or a sqlite3* (sqlite)
};

// ---- transition parameters --------------------------------------------------
// One struct per job state transition (River's drivers do the same): new
// fields can be added without touching every store, and each carries `now`.

/// push(): enqueue `jobs` at `now` (queue latency counts from it).
struct PushParams {
  std::span<const PushItem> jobs;
  double now = 0;
};

/// fetch(): claim up to `max` jobs of `queues` for `owner`, at `now`.
struct FetchParams {
  std::span<const std::string> queues;  ///< drained in this order
  std::size_t max = 1;
  std::chrono::milliseconds wait{0};  ///< how long to wait if none is ready
  std::string_view owner;             ///< the claiming process's identity
  double now = 0;                     ///< the claim time (plus any time waited)
};

/// requeue(): put claimed `jobs` back at the front of their queues at `now`.
struct RequeueParams {
  std::span<const Fetched> jobs;
  double now = 0;
};

/// retry(): release the claim on `job` and add `payload` to the retry set,
/// due at `at`.
struct RetryParams {
  const Fetched& job;
  const std::string& jid;
  const std::string& payload;
  double at = 0;
  double now = 0;
};

/// reschedule(): release the claim on `job` and schedule `payload` at `at`.
struct RescheduleParams {
  const Fetched& job;
  const std::string& jid;
  const std::string& payload;
  double at = 0;
  double now = 0;
};

/// kill(): release the claim on `job`, add `payload` to the dead set at score
/// `now`, trim the dead set to `limits`.
struct KillParams {
  const Fetched& job;
  const std::string& jid;
  const std::string& payload;
  double now = 0;
  DeadLimits limits;
};

/// promote_due(): move up to `limit` entries due at `now` to their queues.
struct PromoteParams {
  double now = 0;
  std::size_t limit = 100;
};

/// rescue_orphans(): put back the claims of processes gone at `now`.
struct RescueParams {
  double now = 0;
  double grace_seconds = 60;  ///< for owners that never sent a heartbeat
};

class Store {
 public:
  virtual ~Store() = default;

  /// "memory", "sqlite", "redis", "postgres".
  virtual std::string_view scheme() const = 0;

  /// What this store can do (see StoreCapabilities). Constant for the
  /// store's life.
  virtual StoreCapabilities capabilities() const = 0;

  // ---- enqueue -----------------------------------------------------------

  /// Enqueues `p.jobs`: those with at == 0 into their queue (in order: the
  /// first one runs first), the others into the scheduled set. On stores that
  /// allow it the whole batch lands or none does.
  virtual Status push(const PushParams& p) = 0;

  // ---- worker side -------------------------------------------------------

  /// Claims up to `p.max` jobs for the process `p.owner`, draining the queues
  /// in the order given (strict order; the caller shuffles for weights): all
  /// of the first queue's ready jobs before any of the second's, oldest first
  /// (and on ordering stores, highest priority first).
  /// If none is ready, waits up to `p.wait` for one. An empty result is not
  /// an error.
  virtual Result<std::vector<Fetched>> fetch(const FetchParams& p) = 0;

  /// The jobs finished: releases their claims for good. Takes no time:
  /// nothing it leaves behind is dated.
  virtual Status ack(std::span<const Fetched> jobs) = 0;

  /// Puts claimed jobs back at the front of their queue (they run next), with
  /// their payload unchanged. Used on shutdown and when a worker gives up a job.
  virtual Status requeue(const RequeueParams& p) = 0;

  /// Releases the claim on `p.job` and adds `p.payload` to the retry set, due
  /// at `p.at`.
  virtual Status retry(const RetryParams& p) = 0;

  /// Releases the claim on `p.job` and adds `p.payload` to the dead set at
  /// score `p.now`, then trims the dead set to `p.limits`.
  virtual Status kill(const KillParams& p) = 0;

  /// Moves up to `p.limit` scheduled and retry entries due at `p.now` into
  /// their queues (the queue named in each payload, `enqueued_at` set to
  /// `p.now`). Safe to call from many processes at once: each entry moves
  /// exactly once. Returns how many moved.
  virtual Result<std::size_t> promote_due(const PromoteParams& p) = 0;

  /// Puts back into their queues the jobs claimed by processes whose last
  /// heartbeat is older than their ttl at `p.now` (or that never registered
  /// and whose claim is older than `p.grace_seconds`). Returns how many moved.
  virtual Result<std::size_t> rescue_orphans(const RescueParams& p) = 0;

  /// Registers or refreshes the process, adds its counters, records its
  /// running jobs, and returns the signals sent to it since the last beat
  /// ("TSTP", "TERM", ...), oldest first.
  virtual Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) = 0;

  /// Removes the process from the registry (clean shutdown).
  virtual Status unregister(const std::string& identity) = 0;

  // ---- admin -------------------------------------------------------------

  /// The counters; `now` picks today's (UTC) entry where stores keep days.
  virtual Result<Stats> stats(double now) = 0;
  /// Daily counters, newest first, `days` of them ending today (UTC); `what`
  /// is "processed" or "failed". Missing days are 0.
  virtual Result<std::vector<std::int64_t>> history(std::string_view what, int days,
                                                    double now) = 0;
  virtual Status reset_stats() = 0;

  /// All known queues, sorted by name, their latency measured at `now`.
  virtual Result<std::vector<QueueInfo>> queues(double now) = 0;
  /// A page of a queue's waiting jobs, next-to-run first.
  virtual Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                                      std::size_t count) = 0;
  /// Removes one waiting job by jid. not_found if it is not waiting there.
  virtual Status queue_delete(const std::string& queue, const std::string& jid) = 0;
  /// Removes every waiting job of the queue and forgets the queue.
  virtual Status clear_queue(const std::string& queue) = 0;

  virtual Result<std::size_t> set_size(SetKind kind) = 0;
  /// A page of a set: by score ascending (scheduled, retry) or descending (dead).
  virtual Result<std::vector<SetEntry>> set_range(SetKind kind, std::size_t offset,
                                                  std::size_t count) = 0;
  /// Finds one entry; not_found if absent.
  virtual Result<SetEntry> set_find(SetKind kind, double score, const std::string& jid) = 0;
  virtual Status set_delete(SetKind kind, double score, const std::string& jid) = 0;
  /// Atomically removes the entry and, if it was still there, enqueues
  /// `new_payload` into `queue` (MoveTo::queue) or adds it to the dead set at
  /// `now` (MoveTo::dead). not_found if the entry was gone.
  virtual Status set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                          const std::string& queue, const std::string& new_payload, double now,
                          const DeadLimits& limits) = 0;
  virtual Status set_clear(SetKind kind) = 0;

  // ---- flow control ------------------------------------------------------
  // Stores that lack one of these return Errc::unsupported (the defaults) and
  // say so in capabilities().

  /// Pauses or resumes `queue` for every process sharing the store: a paused
  /// queue keeps accepting jobs and is not fetched.
  virtual Status set_paused(const std::string& queue, bool paused);
  /// The paused queues.
  virtual Result<std::vector<std::string>> paused_queues();

  /// Takes the named lock for `holder` until `expires_at`, if it is free or
  /// its previous holder's time ran out at `now`. Atomic across processes:
  /// of many concurrent callers exactly one gets true. Used for unique jobs,
  /// concurrency and rate limits, and cron ticks.
  virtual Result<bool> lock_acquire(const std::string& key, const std::string& holder, double now,
                                    double expires_at);
  /// Releases the lock if `holder` still holds it (otherwise does nothing).
  virtual Status lock_release(const std::string& key, const std::string& holder);
  /// Moves the lock's end to `expires_at` if `holder` still holds it; false
  /// if it does not (it expired and another took it, or it was released).
  /// `now` is the time of the call (Redis sets the lock key's own expiry
  /// from it).
  /// The server renews concurrency slots with it; where it is unsupported,
  /// slots are leased for a job's whole possible run instead.
  virtual Result<bool> lock_extend(const std::string& key, const std::string& holder, double now,
                                   double expires_at);

  /// capabilities().in_process, kept for the callers that predate
  /// capabilities().
  virtual bool in_process() const { return capabilities().in_process; }

  /// Releases the claim on `p.job` and schedules `p.payload` to run at `p.at`
  /// (the scheduled set). The default pushes, then acks: a crash in between
  /// runs the job twice, never zero times.
  virtual Status reschedule(const RescheduleParams& p);

  // ---- transactional enqueue --------------------------------------------

  /// Enqueues `jobs` as push() does, but inside the application's transaction
  /// `txn`, on its own connection to the database this store uses: the jobs
  /// exist if and only if that transaction commits (workers see them after
  /// the commit). Not thread-safe for one `txn` (the application's
  /// connection is used by one thread at a time). If it fails, roll the
  /// transaction back: on PostgreSQL the failed statement has already
  /// aborted it. Stores whose jobs cannot live in the application's database
  /// (memory, redis) return Errc::unsupported (the default); a connection of
  /// the wrong kind, without a transaction in progress, or (SQLite) to
  /// another file is Errc::invalid_argument.
  virtual Status push_within(const AppTransaction& txn, const PushParams& p);
  /// lock_acquire() inside `txn` (unique jobs enqueued within it): a rollback
  /// releases the lock with the job. Errc::unsupported by default.
  virtual Result<bool> lock_acquire_within(const AppTransaction& txn, const std::string& key,
                                           const std::string& holder, double now,
                                           double expires_at);

  // ---- job status, results, cancellation ---------------------------------
  // Stores without capabilities().status return Errc::unsupported (the
  // defaults). Records expire `ttl_seconds` after they were written.

  /// Records each update for its jid, in order, in one write where the store
  /// can (the server batches the statuses of finished jobs with their acks):
  /// running (keeps a pending cancel request), succeeded (with the result),
  /// retrying, dead, cancelled. Wakes wait_status() callers in every process
  /// for each final state.
  virtual Status record_status(std::span<const StatusUpdate> updates);
  /// One update (the batch of one).
  Status record_status(const StatusUpdate& update) {
    return record_status(std::span<const StatusUpdate>(&update, 1));
  }
  /// ack(jobs) and record_status(statuses) as one atomic step: both stored,
  /// or neither (then the caller may make the two calls). Stores with
  /// capabilities().ack_with_status; the others return Errc::unsupported.
  /// A ForwardingStore passes it (and the capability) to the inner store:
  /// a wrapper that overrides ack() or record_status() must override this
  /// too, or clear the capability.
  virtual Status ack_with_status(std::span<const Fetched> jobs,
                                 std::span<const StatusUpdate> statuses);
  /// The job's status at `now`. A job waiting in a queue is queued, one in
  /// the scheduled set scheduled, in the retry set retrying, in the dead set
  /// dead (with the payload's error); a claimed job running; otherwise the
  /// record's state (a final record wins over where the job sits), or
  /// unknown.
  virtual Result<JobStatus> job_status(const std::string& jid, double now);
  /// Blocks until the job's state is final (is_final) or `timeout` passed,
  /// without polling the store in a loop (each store's wake-up: a condition
  /// variable, pub/sub, LISTEN/NOTIFY); returns the status then (not final on
  /// timeout), as job_status() at `now` plus the time waited.
  virtual Result<JobStatus> wait_status(const std::string& jid, double now,
                                        std::chrono::milliseconds timeout);
  /// Cancels the job: one waiting in a queue, scheduled or in the retry set
  /// is removed at once and recorded cancelled (returns cancelled). Otherwise
  /// a cancel request is recorded for cancel_requests() (returns running, or
  /// unknown when nothing is known of the jid yet: a job being fetched still
  /// sees the request), unless the job's state is final (returns it,
  /// unchanged).
  virtual Result<JobState> cancel_job(const std::string& jid, double now, double ttl_seconds);
  /// Of `jids` (jobs running in this process), those with a cancel request.
  virtual Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids);

  // ---- batches and workflows (errand/batch.h, errand/batch_store.h) -------
  // Stores without capabilities().batches return Errc::unsupported.

  /// Runs `fn` on batch `bid`'s records as one atomic step: its reads see
  /// the records as they are, and its buffered writes and pushes are applied
  /// together if it returns success (nothing is, if it fails); the pushes
  /// are enqueued at `now`. `fn` may run more than once (Redis reruns it
  /// when another process wrote first), so it must have no other effects.
  virtual Status batch_update(const std::string& bid, double now,
                              const std::function<Status(BatchTxn&)>& fn);
  /// Batch `bid`'s records; Errc::not_found if there is none.
  virtual Result<BatchRecord> batch_read(const std::string& bid);
  /// Bids, newest first, skipping `offset`; drops expired batches first.
  virtual Result<std::vector<std::string>> batch_list(std::size_t offset, std::size_t count,
                                                      double now);

  // ---- progress and job events (docs/workflows.md) ------------------------
  /// Sets the progress fields of each job's status record (creating one in
  /// state unknown when there is none: where the job sits still says
  /// running), leaving its state, result and error alone; record_status()
  /// keeps them in turn. Stores without capabilities().status return
  /// Errc::unsupported. The server calls it at most once per job per
  /// ServerOptions::progress_interval, plus the last report.
  virtual Status record_progress(std::span<const ProgressUpdate> updates);
  /// Sends `events` to every subscribe_events() callback of every process
  /// sharing the store (Redis PUBLISH, PostgreSQL NOTIFY, in-process for
  /// memory). Delivery is at most once: a subscriber that is not connected
  /// misses them. Errc::unsupported where the store has no channel (SQLite).
  virtual Status publish_events(std::span<const JobEvent> events);
  /// Calls `on_event` (from a thread of the store's) for each event
  /// published from now on, until the returned object is destroyed.
  /// Errc::unsupported as publish_events.
  virtual Result<std::unique_ptr<EventSubscription>> subscribe_events(EventCallback on_event);

  virtual Result<std::vector<ProcessRecord>> processes(double now) = 0;
  virtual Result<std::vector<WorkRecord>> workers(double now) = 0;
  /// Sends a signal ("TSTP" quiet, "TERM" stop) to a process through the store.
  virtual Status signal(const std::string& identity, const std::string& sig) = 0;
};

/// A Store that passes every call to another store: the base for decorators
/// (the aggregate enqueue stage, test doubles) that change a few transitions
/// and must forward all the others, including ones added to Store later.
class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(std::shared_ptr<Store> inner) : inner_(std::move(inner)) {}
  /// The wrapped store.
  const std::shared_ptr<Store>& inner() const { return inner_; }

  std::string_view scheme() const override;
  StoreCapabilities capabilities() const override;
  Status push(const PushParams& p) override;
  Result<std::vector<Fetched>> fetch(const FetchParams& p) override;
  Status ack(std::span<const Fetched> jobs) override;
  Status requeue(const RequeueParams& p) override;
  Status retry(const RetryParams& p) override;
  Status kill(const KillParams& p) override;
  Result<std::size_t> promote_due(const PromoteParams& p) override;
  Result<std::size_t> rescue_orphans(const RescueParams& p) override;
  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override;
  Status unregister(const std::string& identity) override;
  Result<Stats> stats(double now) override;
  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override;
  Status reset_stats() override;
  Result<std::vector<QueueInfo>> queues(double now) override;
  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) override;
  Status queue_delete(const std::string& queue, const std::string& jid) override;
  Status clear_queue(const std::string& queue) override;
  Result<std::size_t> set_size(SetKind kind) override;
  Result<std::vector<SetEntry>> set_range(SetKind kind, std::size_t offset,
                                          std::size_t count) override;
  Result<SetEntry> set_find(SetKind kind, double score, const std::string& jid) override;
  Status set_delete(SetKind kind, double score, const std::string& jid) override;
  Status set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                  const std::string& queue, const std::string& new_payload, double now,
                  const DeadLimits& limits) override;
  Status set_clear(SetKind kind) override;
  Status set_paused(const std::string& queue, bool paused) override;
  Result<std::vector<std::string>> paused_queues() override;
  Result<bool> lock_acquire(const std::string& key, const std::string& holder, double now,
                            double expires_at) override;
  Status lock_release(const std::string& key, const std::string& holder) override;
  Result<bool> lock_extend(const std::string& key, const std::string& holder, double now,
                           double expires_at) override;
  Status reschedule(const RescheduleParams& p) override;
  Status push_within(const AppTransaction& txn, const PushParams& p) override;
  Result<bool> lock_acquire_within(const AppTransaction& txn, const std::string& key,
                                   const std::string& holder, double now,
                                   double expires_at) override;
  using Store::record_status;
  Status record_status(std::span<const StatusUpdate> updates) override;
  Status ack_with_status(std::span<const Fetched> jobs,
                         std::span<const StatusUpdate> statuses) override;
  Result<JobStatus> job_status(const std::string& jid, double now) override;
  Result<JobStatus> wait_status(const std::string& jid, double now,
                                std::chrono::milliseconds timeout) override;
  Result<JobState> cancel_job(const std::string& jid, double now, double ttl_seconds) override;
  Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids) override;
  Status batch_update(const std::string& bid, double now,
                      const std::function<Status(BatchTxn&)>& fn) override;
  Result<BatchRecord> batch_read(const std::string& bid) override;
  Result<std::vector<std::string>> batch_list(std::size_t offset, std::size_t count,
                                              double now) override;

  Status record_progress(std::span<const ProgressUpdate> updates) override;
  Status publish_events(std::span<const JobEvent> events) override;
  Result<std::unique_ptr<EventSubscription>> subscribe_events(EventCallback on_event) override;
  Result<std::vector<ProcessRecord>> processes(double now) override;
  Result<std::vector<WorkRecord>> workers(double now) override;
  Status signal(const std::string& identity, const std::string& sig) override;

 protected:
  std::shared_ptr<Store> inner_;
};

/// Opens a store from a URL:
///   memory://NAME        in-process; the same NAME in one process is the same store
///   sqlite://PATH        SQLite file (relative or absolute; sqlite:///abs/path also works)
///   redis://[:password@]host:port/db
///   postgres://[user[:password]@]host[:port]/db[?schema=NAME]   (tables in that schema, "errand")
/// Returns invalid_argument for an unknown scheme or malformed URL, and the
/// store's own error (unavailable, busy, io, corrupt) if it cannot be opened.
Result<std::shared_ptr<Store>> open_store(std::string_view url);

}  // namespace errand
