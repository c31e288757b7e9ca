// The server: runs jobs from the queues of a QueueMap in N worker threads.
//
//   errand::ServerOptions o;
//   o.concurrency = 10;
//   o.queues = {{"critical", 3}, {"default", 1}};
//   errand::Server server(queues, o);
//   server.run();   // until SIGTERM / SIGINT; SIGTSTP quiets
//
// Lifecycle (Sidekiq's): start() begins fetching; quiet() stops fetching and
// lets running jobs finish; stop() quiets, waits for running jobs until the
// shutdown timeout, then puts every unfinished job back in its queue and
// returns. stop() is idempotent and safe without start().
//
// Delivery is at least once: a job is claimed with a lease before it runs and
// released only after it finished, failed into the retry/dead set or was put
// back; a process that dies mid-job leaves a lease that another process's
// rescuer returns to the queue once the dead process's heartbeat expires.
//
// Thread safety: start/quiet/stop may be called from any thread, and from a
// signal-handling thread; run() installs its own signal handling.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "errand/clock.h"
#include "errand/cron.h"
#include "errand/events.h"
#include "errand/job.h"
#include "errand/middleware.h"
#include "errand/queues.h"
#include "errand/status.h"
#include "errand/store.h"

namespace errand {

/// A queue to work and its weight: all weights 0 = strict order (earlier
/// queues always first); any weight > 0 = weighted random order (Sidekiq's -q name,N).
struct QueueWeight {
  std::string name;
  int weight = 0;
  /// Where this queue's jobs run, unless their class says otherwise
  /// (inherit: ServerOptions::isolation).
  Isolation isolation = Isolation::inherit;
};

/// The limits of child processes (isolation process or fork).
struct ChildOptions {
  /// A child whose resident memory is above this after a job is replaced
  /// (0: no limit).
  std::size_t max_memory_mb = 0;
  /// A child whose resident memory passes this while a job runs is killed
  /// and the job fails with errand::MemoryLimit (0: no limit).
  std::size_t hard_memory_mb = 0;
  /// How much address space each child may add to what it inherited
  /// (RLIMIT_AS): allocations past it fail with std::bad_alloc (0: no limit).
  std::size_t address_space_mb = 0;
  /// A child is replaced after this many jobs (0: never).
  std::size_t max_jobs_per_child = 0;
  /// After a job's stop token fires (timeout, shutdown), how long its child
  /// may go on before it is killed.
  std::chrono::milliseconds kill_grace{2'000};
};

/// What an error handler is told about a failed job.
struct JobFailure {
  const Json& payload;  ///< the payload after the failure fields were set
  std::string error_class;
  std::string error_message;
  bool will_retry = false;
};
using ErrorHandler = std::function<void(const JobFailure&)>;
/// Called when a job dies (retries exhausted, not retriable, or retry disabled).
using DeathHandler = std::function<void(const JobFailure&)>;

/// Counters of this server since start (not the store's lifetime counters).
struct ServerCounters {
  std::int64_t processed = 0;  ///< finished, successfully or not
  std::int64_t failed = 0;
  std::int64_t retried = 0;  ///< failures scheduled for retry
  std::int64_t dead = 0;     ///< failures sent to the dead set
  std::int64_t discarded = 0;
  std::int64_t expired = 0;   ///< dropped because not started before expires_at
  std::int64_t deferred = 0;  ///< put back for later by a concurrency or rate limit
  std::int64_t busy = 0;
};

/// Lifecycle hooks, for a service manager (the `errand` CLI wires them to
/// systemd's sd_notify) or the host application's own monitoring. Each is
/// optional; each runs on a server thread, must return quickly, must not
/// throw and must not call back into the Server.
struct ServerHooks {
  /// Once, when start() succeeded and the processors begin fetching.
  std::function<void()> on_ready;
  /// Once, when stop() begins (SIGTERM/SIGINT, TERM through the store, or a
  /// direct call), before running jobs are waited for.
  std::function<void()> on_stopping;
  /// After every periodic heartbeat (successful or not: the process is
  /// alive), with this server's counters at that moment.
  std::function<void(const ServerCounters&)> on_heartbeat;
};

enum class LogFormat { text, json };

struct ServerOptions {
  int concurrency = 10;
  std::vector<QueueWeight> queues{{"default", 0}};
  /// stop() waits this long for running jobs before putting them back.
  std::chrono::milliseconds shutdown_timeout{25'000};
  /// How long one fetch may block waiting for work.
  std::chrono::milliseconds fetch_wait{2'000};
  /// Average interval of the scheduled/retry poller.
  std::chrono::milliseconds poll_interval{5'000};
  std::chrono::milliseconds heartbeat_interval{5'000};
  /// A process whose heartbeat is older than this is gone; its claimed jobs
  /// are rescued. Must be well above heartbeat_interval.
  std::chrono::milliseconds process_ttl{60'000};
  /// How often to look for orphaned jobs.
  std::chrono::milliseconds rescue_interval{15'000};
  /// How often finished-job counters are flushed to the store when they
  /// changed (what `errand stats` and the dashboard read).
  std::chrono::milliseconds stats_interval{1'000};
  /// How often the concurrency slots of running jobs are renewed (0: every
  /// heartbeat_interval).
  std::chrono::milliseconds lease_renew_interval{0};
  /// How often running jobs are checked against their timeout.
  std::chrono::milliseconds watchdog_interval{100};
  /// How often periodic (cron) jobs are checked for a due tick.
  std::chrono::milliseconds cron_interval{250};
  /// How often the paused queues are read from the store.
  std::chrono::milliseconds pause_refresh_interval{1'000};
  /// How often, while jobs run, the stores are asked whether one of them was
  /// cancelled (Client::cancel): a cancelled job's stop token fires within
  /// about this long.
  std::chrono::milliseconds cancel_poll_interval{250};
  /// Record each job's status on stores that keep it (StoreCapabilities::
  /// status): succeeded with its result (stored with the acks, one write per
  /// batch), retrying, dead or cancelled (one write each). False: nothing
  /// is recorded (Client::status still derives queued, scheduled, running,
  /// retrying and dead from where a job sits, and cancel still works), for
  /// the last bit of throughput when nobody reads results.
  bool record_status = true;
  // ---- progress and job events (docs/workflows.md) ------------------------
  /// A running job's progress reports (JobContext::progress) are stored at
  /// most once per job per this interval, plus the last one when perform()
  /// returns; the same holds for progress events.
  std::chrono::milliseconds progress_interval{250};
  /// Sees every state change of every job this server handles: started,
  /// progress, succeeded, retrying, dead, cancelled, snoozed (JobEvent).
  /// Called on the server's event thread, in order, off the job's path (a
  /// job never waits for it); must not throw, should return quickly (events
  /// queue behind it, up to 100,000, then new ones are dropped and counted
  /// in a warning). Empty: no event is made unless publish_events.
  EventCallback on_event;
  /// Also publish each event to the job's store, for Client::subscribe in
  /// any process (Redis pub/sub, PostgreSQL NOTIFY, in-process for memory;
  /// SQLite has no channel: a warning, once). Costs one store write per
  /// batch of events, so it is opt-in (`publish_events: true`,
  /// `errand worker --publish-events`).
  bool publish_events = false;
  /// Jobs claimed at most per blocking fetch for the threads waiting (0:
  /// concurrency). While jobs are short (under 2 ms on average) the fetcher
  /// also reads ahead up to 8 × concurrency; see docs/internals.md.
  std::size_t fetch_batch = 0;
  int max_retries = 25;  ///< what `retry: true` means
  /// Poison pills: a job whose claim was rescued this many times from
  /// processes that died while running it goes to the dead set as
  /// errand::PoisonPill instead of running again (0: never). See
  /// docs/isolation.md.
  int max_crashes = 3;
  /// Where jobs run unless their queue or class says otherwise.
  Isolation isolation = Isolation::thread;
  ChildOptions children;
  DeadLimits dead;
  std::string tag;
  std::vector<std::string> labels;
  ServerChain middleware;       ///< wraps every perform(), after the job logger
  std::vector<CronEntry> cron;  ///< periodic jobs; each tick fires once across all processes
  std::vector<ErrorHandler> error_handlers;
  std::vector<DeathHandler> death_handlers;
  bool log_jobs = true;  ///< the job logger: start / done / fail lines
  LogFormat log_format = LogFormat::text;
  const Clock* clock = nullptr;  ///< nullptr: the system clock
  Registry* registry = nullptr;  ///< nullptr: Registry::global()
  ServerHooks hooks;
};

/// Checks `o`: invalid_argument naming the first field out of range
/// (concurrency < 1, no queues, a non-positive interval, process_ttl not
/// above heartbeat_interval, ...). Server::start() calls it.
Status validate(const ServerOptions& o);

class Server {
 public:
  Server(QueueMap queues, ServerOptions options = {});
  ~Server();  ///< stop()s if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Starts the threads. Fails if a store cannot be reached for the first
  /// heartbeat or the options are invalid.
  Status start();
  /// Stops fetching new jobs; running jobs go on. Idempotent.
  void quiet();
  /// Quiets, waits up to the shutdown timeout for running jobs, requeues the
  /// rest, unregisters, joins every thread. Idempotent; safe without start().
  void stop();
  /// start(), then block until SIGINT/SIGTERM (stop) or a TERM signal through
  /// the store; SIGTSTP or a TSTP signal quiets. Returns when stopped.
  Status run();
  /// Blocks until stop() completed (e.g. because the store sent TERM).
  void wait();
  /// Asks a running run()/wait() to stop, from any thread (async-signal-safe).
  void request_stop() noexcept;

  ServerCounters counters() const;
  const std::string& identity() const;
  bool quiet_mode() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace errand
