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
#include "errand/job.h"
#include "errand/log.h"
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
  /// Jobs claimed at most per blocking fetch for the threads waiting (0:
  /// concurrency). While jobs are short (under 2 ms on average) the fetcher
  /// also reads ahead up to 8 × concurrency; see docs/internals.md.
  std::size_t fetch_batch = 0;
  int max_retries = 25;  ///< what `retry: true` means
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
  /// Lifecycle callbacks (the CLI's systemd notifications use them); each
  /// runs on an errand thread and must return quickly.
  std::function<void()> on_ready;      ///< start() succeeded: jobs are being fetched
  std::function<void()> on_stopping;   ///< stop() began (signal, TERM through the store, call)
  std::function<void()> on_heartbeat;  ///< after each successful heartbeat
};

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
