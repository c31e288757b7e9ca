// errand::testing::Harness: a Client whose store records pushes (fake mode)
// or runs them at once (inline mode), and a drain that runs recorded jobs
// with the worker's own runner (server/executor.h) and retry policy
// (server/retrier.h), so that a job behaves in a test as it does in a worker.
#include <algorithm>
#include <mutex>
#include <utility>

#include "core/mutex.h"
#include "errand/testing.h"
#include "server/executor.h"
#include "server/job_view.h"
#include "server/retrier.h"
#include "store/memory/memory_store.h"

namespace errand::testing {

struct Harness::State {
  HarnessOptions options;
  const ManualClock* clock = nullptr;
  const Registry* registry = nullptr;
  Mutex mu;
  std::vector<EnqueuedJob> jobs GUARDED_BY(mu);
  std::vector<EnqueuedJob> dead GUARDED_BY(mu);
  std::vector<ProgressReport> progress GUARDED_BY(mu);
  std::vector<std::pair<CronEntry, CronExpression>> cron;

  /// Runs `job` as a worker would, without its store: the Outcome.
  Outcome run(const EnqueuedJob& job);
  /// What happens after a run: nothing, back into `jobs` for later, into
  /// `dead`, or JobFailed when retries are disabled.
  void settle(EnqueuedJob job, const Outcome& out);
  void record(EnqueuedJob job);
  /// The first recorded job due at `now`, taken out of `jobs`.
  std::optional<EnqueuedJob> take_due(SystemTime now);
};

namespace {

thread_local Harness* t_current = nullptr;
Harness* g_current = nullptr;  // the innermost harness of any thread
std::mutex g_current_mu;

EnqueuedJob from_push(const PushItem& item) {
  EnqueuedJob job;
  job.payload = Json::parse(item.payload);
  job.job_class = job.payload.value("class", "");
  job.args = job.payload.value("args", Json::array());
  job.queue = item.queue;
  job.jid = item.jid;
  if (item.at > 0) job.at = from_epoch(item.at);
  return job;
}

/// The memory store, except that pushes are handed to the harness.
class CapturingStore final : public ForwardingStore {
 public:
  explicit CapturingStore(Harness::State& state)
      : ForwardingStore(memory_store("")), state_(state) {}

  Status push(const PushParams& p) override {
    for (const auto& item : p.jobs) {
      EnqueuedJob job = from_push(item);
      if (state_.options.mode == Mode::fake) {
        state_.record(std::move(job));
      } else {
        job.at.reset();  // inline: now, whenever it was meant for
        state_.settle(job, state_.run(job));
      }
    }
    return {};
  }

 private:
  Harness::State& state_;
};

}  // namespace

JobFailed::JobFailed(EnqueuedJob job, std::string error_class, const std::string& message)
    : std::runtime_error(job.job_class + " (jid " + job.jid + ") failed: " + error_class + ": " +
                         message),
      job_(std::move(job)),
      error_class_(std::move(error_class)) {}

Outcome Harness::State::run(const EnqueuedJob& job) {
  Fetched f;
  f.queue = job.queue;
  f.payload = job.payload.dump();
  auto decoded = DecodedJob::decode(f);
  if (!decoded) return Outcome::failure("errand::BadPayload", decoded.error().message());
  auto descriptor = descriptor_for(decoded->view(), *registry);
  RunRequest req;
  req.job = &decoded.value();
  req.descriptor = descriptor.get();
  req.chain = &options.server_middleware;
  req.progress = [this, &job](double fraction, std::string_view message) {
    MutexLock lk(mu);
    progress.push_back(ProgressReport{job.jid, job.job_class, fraction, std::string(message)});
  };
  return run_in_thread(req);
}

void Harness::State::settle(EnqueuedJob job, const Outcome& out) {
  using K = Outcome::Kind;
  const SystemTime now = clock->now();
  switch (out.kind) {
    case K::done:
    case K::discarded:
    case K::expired:
    case K::cancelled:  // acknowledged, as the server does
      return;
    case K::snoozed:
      job.at = now + std::chrono::duration_cast<SystemTime::duration>(
                         std::chrono::duration<double>(out.delay));
      return record(std::move(job));
    case K::deferred:
      job.at = from_epoch(out.at);
      return record(std::move(job));
    case K::failed:
    case K::bad_payload:
      break;
  }
  if (options.retries == Retries::disabled)
    throw JobFailed(std::move(job), out.error_class, out.error_message);
  auto descriptor = registry->find(job.job_class);
  FailureInput in;
  in.error_class = out.error_class;
  in.error_message = out.error_message;
  in.fetched_queue = job.queue;
  in.job = descriptor.get();
  in.action = out.kind == K::bad_payload ? ErrorAction::dead : out.action;
  in.now = to_epoch(now);
  in.max_retries = options.max_retries;
  in.random_digit = [] { return 0; };  // no jitter: a test can advance to the retry
  const FailureOutcome plan = plan_failure(job.payload, in);
  job.queue = job.payload.value("queue", job.queue);
  if (plan.kind == FailureOutcome::Kind::retry) {
    job.at = from_epoch(plan.at);
    return record(std::move(job));
  }
  if (plan.kind == FailureOutcome::Kind::dead) {
    MutexLock lk(mu);
    dead.push_back(std::move(job));
  }
}

void Harness::State::record(EnqueuedJob job) {
  MutexLock lk(mu);
  jobs.push_back(std::move(job));
}

std::optional<EnqueuedJob> Harness::State::take_due(SystemTime now) {
  MutexLock lk(mu);
  // Payload times are epoch seconds in a double (sub-microsecond rounding):
  // a job due "at now" must not miss by a few hundred nanoseconds.
  const SystemTime due_by = now + std::chrono::microseconds(1);
  auto it = std::find_if(jobs.begin(), jobs.end(),
                         [&](const EnqueuedJob& j) { return !j.at || *j.at <= due_by; });
  if (it == jobs.end()) return std::nullopt;
  EnqueuedJob job = std::move(*it);
  jobs.erase(it);
  return job;
}

Harness::Harness(HarnessOptions options)
    : clock_(options.start.value_or(
          std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()))),
      state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->clock = &clock_;
  state_->registry = state_->options.registry ? state_->options.registry : &Registry::global();
  ClientOptions co;
  co.middleware = state_->options.client_middleware;
  co.clock = &clock_;
  client_ = std::make_unique<Client>(QueueMap(std::make_shared<CapturingStore>(*state_)), co);
  std::lock_guard lk(g_current_mu);
  previous_ = t_current ? t_current : g_current;
  t_current = this;
  g_current = this;
}

Harness::~Harness() {
  std::lock_guard lk(g_current_mu);
  if (t_current == this) t_current = previous_;
  if (g_current == this) g_current = previous_;
}

Harness& Harness::current() {
  std::lock_guard lk(g_current_mu);
  Harness* h = t_current ? t_current : g_current;
  if (!h)
    throw std::logic_error(
        "errand::testing: no harness is live (declare an errand::testing::Fake or Inline in the "
        "test first)");
  return *h;
}

std::vector<EnqueuedJob> Harness::jobs() const {
  MutexLock lk(state_->mu);
  return state_->jobs;
}

std::vector<EnqueuedJob> Harness::jobs(std::string_view job_class) const {
  std::vector<EnqueuedJob> out;
  MutexLock lk(state_->mu);
  for (const auto& j : state_->jobs)
    if (j.job_class == job_class) out.push_back(j);
  return out;
}

std::vector<EnqueuedJob> Harness::dead() const {
  MutexLock lk(state_->mu);
  return state_->dead;
}

void Harness::clear() {
  MutexLock lk(state_->mu);
  state_->jobs.clear();
  state_->dead.clear();
  state_->progress.clear();
}

std::vector<ProgressReport> Harness::progress_reports() const {
  MutexLock lk(state_->mu);
  return state_->progress;
}

std::size_t Harness::drain() {
  // A job that enqueues itself at once would never let drain() return.
  constexpr std::size_t kMaxRuns = 100'000;
  std::size_t ran = 0;
  while (auto job = state_->take_due(clock_.now())) {
    if (++ran > kMaxRuns)
      throw std::runtime_error(
          "errand::testing::drain: over 100000 jobs in one drain; does a "
          "job enqueue itself at once?");
    state_->settle(*job, state_->run(*job));
  }
  return ran;
}

void Harness::add_cron(CronEntry entry) {
  auto expr = CronExpression::parse(entry.expression);
  if (!expr)
    throw std::invalid_argument("cron entry '" + entry.name + "': " + expr.error().message());
  state_->cron.emplace_back(std::move(entry), std::move(expr).value());
}

void Harness::advance_to(SystemTime t) {
  // Every tick in (now, t], in time order, each enqueued at its own time as
  // the cron scheduler would.
  std::vector<std::pair<SystemTime, const CronEntry*>> ticks;
  for (const auto& [entry, expr] : state_->cron) {
    auto tick = expr.next(clock_.now(), entry.time_zone);
    for (; tick && *tick && **tick <= t; tick = expr.next(**tick, entry.time_zone))
      ticks.emplace_back(**tick, &entry);
    if (!tick)
      throw std::invalid_argument("cron entry '" + entry.name + "': " + tick.error().message());
  }
  std::stable_sort(ticks.begin(), ticks.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [when, entry] : ticks) {
    clock_.set(when);
    PushOptions o;
    o.queue = cron_queue(*entry, state_->registry);
    client_->enqueue(entry->job_class, entry->args, o).value();
  }
  clock_.set(t);
}

::testing::AssertionResult enqueued_with(std::string_view job_class,
                                         const std::optional<Json>& args) {
  const auto recorded = Harness::current().jobs(job_class);
  std::string seen;
  for (const auto& j : recorded) {
    if (!args || j.args == *args)
      return ::testing::AssertionSuccess()
             << job_class << " is enqueued with " << j.args.dump() << " (jid " << j.jid << ")";
    seen += "\n  " + j.args.dump();
  }
  auto failure = ::testing::AssertionFailure() << "no " << job_class << " is enqueued";
  if (args) failure << " with " << args->dump();
  if (recorded.empty())
    failure << " (none of that class is)";
  else
    failure << "; recorded:" << seen;
  return failure;
}

}  // namespace errand::testing
