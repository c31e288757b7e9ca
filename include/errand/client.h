// The client: builds payloads, runs client middleware and pushes jobs to the
// store their queue is defined on.
//
//   auto client = errand::Client::open("sqlite://errand.db").value();
//   auto jid = client.perform_async<SendWelcomeEmail>(42, "en");   // Result<std::string>
//   client.perform_in<SendWelcomeEmail>(std::chrono::minutes(5), 43, "fr");
//
// Every push returns the jid on success, or an Error (unavailable, busy,
// invalid_argument, ...) on failure; a failed push enqueued nothing.
//
// Thread safety: a Client may be used from many threads at once. Copies share
// their stores and middleware.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "errand/clock.h"
#include "errand/events.h"
#include "errand/job.h"
#include "errand/job_status.h"
#include "errand/middleware.h"
#include "errand/queues.h"
#include "errand/status.h"
#include "errand/store.h"

struct pg_conn;  // libpq's PGconn
struct sqlite3;

namespace errand {

struct BatchStatus;  // errand/batch.h
namespace detail {
struct BatchJoin;
}

struct ClientOptions {
  ClientChain middleware;        ///< run on every payload before it is pushed
  const Clock* clock = nullptr;  ///< nullptr: the system clock
  /// After each successful push, publish an `enqueued` JobEvent per job to
  /// its store (scheduled pushes too), for Client::subscribe. Not through
  /// within() (the push is not committed yet), nor to stores without an
  /// event channel (SQLite). A failure to publish is ignored: the jobs are
  /// enqueued either way.
  bool publish_events = false;
};

/// Per-push overrides of a job's options.
struct PushOptions {
  std::optional<std::string> queue;
  std::optional<int> priority;
  std::optional<Retry> retry;
  std::optional<SystemTime> at;  ///< schedule for this time
  /// More payload fields (a JSON object), kept with the job and readable in
  /// `current_job().payload()`; `class`, `args`, `jid` and `queue` (set it
  /// with `queue`) cannot be replaced.
  Json extra;
};

class Client {
 public:
  /// A client for the stores in `queues`.
  explicit Client(QueueMap queues, ClientOptions options = {});

  /// Opens `url` (see open_store) as the store for every queue.
  static Result<Client> open(std::string_view url, ClientOptions options = {});

  /// Enqueues J to run now with `args`; the arguments must fit J::perform
  /// (checked at compile time). Returns the jid.
  template <JobClass J, class... A>
  Result<std::string> perform_async(A&&... args) {
    return push(descriptor_of<J>(), make_args<J>(std::forward<A>(args)...), {});
  }
  /// Enqueues J to run after `delay` (now, if delay <= 0).
  template <JobClass J, class Rep, class Period, class... A>
  Result<std::string> perform_in(std::chrono::duration<Rep, Period> delay, A&&... args) {
    PushOptions o;
    o.at = now() + std::chrono::duration_cast<SystemTime::duration>(delay);
    return push(descriptor_of<J>(), make_args<J>(std::forward<A>(args)...), o);
  }
  /// Enqueues J to run at `when` (now, if `when` has passed).
  template <JobClass J, class... A>
  Result<std::string> perform_at(SystemTime when, A&&... args) {
    PushOptions o;
    o.at = when;
    return push(descriptor_of<J>(), make_args<J>(std::forward<A>(args)...), o);
  }
  /// Enqueues J with explicit per-push options (queue, priority, retry, at).
  template <JobClass J, class... A>
  Result<std::string> perform_with(const PushOptions& o, A&&... args) {
    return push(descriptor_of<J>(), make_args<J>(std::forward<A>(args)...), o);
  }

  /// Enqueues one J per element of `arg_lists` (each a JSON array of
  /// arguments) in one store round trip per queue. Returns the jids in order.
  template <JobClass J>
  Result<std::vector<std::string>> push_bulk(const std::vector<Json>& arg_lists,
                                             const PushOptions& o = {}) {
    return push_bulk(descriptor_of<J>(), arg_lists, o);
  }

  /// Untyped push by class name (for jobs defined elsewhere, e.g. in Ruby).
  /// `args` must be a JSON array. Options come from the registry if the class
  /// is registered here, else Sidekiq's defaults (queue "default", retry true).
  Result<std::string> enqueue(std::string_view job_class, Json args, const PushOptions& o = {});

  /// Pushes a complete payload (Sidekiq's `Client.push(item)`): `class` and
  /// `args` required; `queue`, `jid`, `retry`, `at`, ... optional. Returns the jid.
  Result<std::string> push(Json item);

  /// Same, for a registered descriptor.
  Result<std::string> push(const JobDescriptor& job, Json args, const PushOptions& o);
  Result<std::vector<std::string>> push_bulk(const JobDescriptor& job,
                                             const std::vector<Json>& arg_lists,
                                             const PushOptions& o);

  /// Transactional enqueue: a client whose pushes happen inside the
  /// application's own transaction, on its own connection, so that a job
  /// exists if and only if the data it refers to was committed:
  ///
  ///   PQexec(conn, "BEGIN");
  ///   PQexec(conn, "INSERT INTO users ...");
  ///   client.within(conn).perform_async<SendWelcomeEmail>(42, "en");
  ///   PQexec(conn, "COMMIT");   // the job becomes visible to workers here
  ///
  /// `conn` is a PGconn* with a transaction in progress on the database of a
  /// postgres:// store, or a sqlite3* inside BEGIN on the file of a
  /// sqlite:// store. Every push method works (perform_async, perform_in,
  /// push_bulk, unique jobs: their lock is taken in the same transaction).
  /// The returned client borrows `conn`: use it on the connection's thread,
  /// before the transaction ends. A push to a queue whose store cannot do
  /// this (memory, redis) fails with Errc::unsupported and enqueues nothing.
  /// If a push fails, roll the transaction back.
  Client within(pg_conn* conn) const;
  Client within(sqlite3* db) const;

  // ---- status, results, cancellation (stores with capabilities().status) --
  // A client with several stores asks each store that keeps status, in
  // QueueMap::stores() order; the first that knows the jid answers. With no
  // such store these return Errc::unsupported.

  /// Where the job is (queued, scheduled, running, succeeded, retrying with
  /// the last error, dead, cancelled), or JobState::unknown: never pushed,
  /// or its record outlived its result_ttl.
  Result<JobStatus> status(const std::string& jid) const;

  /// What the job's perform() returned, converted to T (any type with
  /// nlohmann JSON conversions; errand::Json takes it as is). Errc::not_found
  /// when the job has not succeeded (the message says its state and last
  /// error), Errc::invalid_argument when the result does not convert to T.
  template <class T>
  Result<T> result(const std::string& jid) const {
    auto json = result_json(jid);
    if (!json) return json.error();
    try {
      return json->template get<T>();
    } catch (const Json::exception& e) {
      return Error(Errc::invalid_argument,
                   "result of job " + jid + " (" + json->dump() +
                       ") does not convert to the requested type: " + e.what());
    }
  }
  /// The result as JSON (see result<T>).
  Result<Json> result_json(const std::string& jid) const;

  /// Blocks until the job ends (succeeded, dead, cancelled) or `timeout`
  /// passes, without polling (the store's wake-up: a condition variable,
  /// Redis pub/sub, PostgreSQL LISTEN/NOTIFY; SQLite polls its file every
  /// poll_interval for other processes). Returns the status then: not final
  /// (is_final) if the timeout passed first.
  Result<JobStatus> wait(const std::string& jid, std::chrono::milliseconds timeout) const;

  /// Cancels the job: a waiting, scheduled or retrying job is removed and
  /// marked cancelled (returns cancelled); a running one gets its stop token
  /// fired on whichever worker runs it, within about a second, and is marked
  /// cancelled when perform() returns (returns running). A job that already
  /// ended is left alone (returns its final state); unknown: no store knows
  /// the jid yet (a request is kept for the result TTL, so a job being
  /// fetched right now still stops).
  Result<JobState> cancel(const std::string& jid) const;

  // ---- batches and workflows (errand/batch.h) -----------------------------

  /// The batch's (or workflow's) counts and state; Errc::not_found for an
  /// unknown bid (or one expired: records are kept 30 days after their last
  /// change).
  Result<BatchStatus> batch_status(const std::string& bid) const;
  /// Cancels the batch: its held workflow steps never run, its waiting,
  /// scheduled and retrying jobs are removed (marked cancelled), its running
  /// jobs get their stop token, its child batches are cancelled too. No job
  /// can join it afterwards.
  Status cancel_batch(const std::string& bid) const;

  // ---- job events (docs/workflows.md, "Events") ---------------------------
  /// Calls `on_event` for every job event published to this client's stores
  /// from now on (by workers with ServerOptions::publish_events, by clients
  /// with ClientOptions::publish_events), until the returned Subscription is
  /// destroyed. Called from a thread of each store's (the publishing thread
  /// for memory://); must not throw. Stores without an event channel
  /// (SQLite) are skipped; Errc::unsupported when no store has one, or the
  /// store's error when one cannot subscribe. Delivery is at most once: an
  /// event published while a store's connection is down is missed.
  Result<Subscription> subscribe(EventCallback on_event) const;

  const QueueMap& queues() const { return *queues_; }
  SystemTime now() const;

 private:
  template <class J>
  static const JobDescriptor& descriptor_of() {
    static const JobDescriptor d = describe_job<J>(registered_name_of<J>());
    return d;
  }
  template <class J>
  static std::string registered_name_of();

  Json build(const JobDescriptor* job, std::string_view job_class, Json args,
             const PushOptions& o) const;
  /// One job of `job_class` (described by `job` when known) with `args`.
  Result<std::string> push_one(const JobDescriptor* job, std::string_view job_class, Json args,
                               const PushOptions& o);
  /// push_bulk without middleware or unique locks: payloads spliced as text.
  Result<std::vector<std::string>> push_bulk_plain(Json templ, const std::vector<Json>& arg_lists,
                                                   double at);
  Result<std::vector<std::string>> push_items(std::vector<Json> items, double at);
  /// store->push, or push_within the application's transaction (within()).
  Status store_push(Store& store, std::span<const PushItem> batch);
  /// With publish_events: the `enqueued` events of a pushed batch.
  void publish_enqueued(Store& store, std::span<const PushItem> batch) const;

  std::shared_ptr<const QueueMap> queues_;
  ClientOptions options_;
  std::optional<AppTransaction> txn_;  ///< set by within()
  /// Set by Batch::jobs(): pushes join that batch.
  std::shared_ptr<const detail::BatchJoin> batch_;
  friend class Batch;
  friend class Workflow;
};

/// The name J is registered under in the global registry, found by matching
/// its perform function type; falls back to the type's registration name.
/// Jobs must be registered (ERRAND_JOB) before they are pushed by type.
std::string registered_name_for(const std::type_info& type);

template <class J>
std::string Client::registered_name_of() {
  return registered_name_for(typeid(J));
}

}  // namespace errand
