#include "server/processor.h"

#include "core/log.h"
#include "server/event_dispatcher.h"
#include "server/executor.h"
#include "server/progress.h"
#include "server/settle.h"

namespace errand {

namespace {

/// Marks the slot busy with `w` for the life of one job (RAII): the
/// heartbeat and the watchdog see it; busy is counted.
class SlotClaim {
 public:
  SlotClaim(Runtime& rt, Slot& slot, const Work& w, double started) : rt_(rt), slot_(slot) {
    {
      MutexLock lk(slot_.mu);
      slot_.current = w;
      slot_.run_at = started;
      slot_.deadline = 0;
      slot_.timed_out = false;
      slot_.cancelled = false;
      slot_.jid.clear();
      slot_.abandoned = false;
      slot_.stop = std::stop_source();
      stop_ = slot_.stop.get_token();
    }
    rt_.note_busy();  // after the slot is filled: a woken watchdog sees the job
  }
  ~SlotClaim() {
    rt_.busy.fetch_sub(1);
    {
      MutexLock lk(slot_.mu);
      slot_.current.reset();
      slot_.jid.clear();
      slot_.locks.clear();
      slot_.progress.reset();
    }
    rt_.note_idle();
  }
  SlotClaim(const SlotClaim&) = delete;
  SlotClaim& operator=(const SlotClaim&) = delete;

  std::stop_token stop() const { return stop_; }
  /// The concurrency slots the job holds, renewed by the heartbeat.
  void hold(const flow::HeldSlots& held) {
    MutexLock lk(slot_.mu);
    slot_.lock_holder = held.holder();
    slot_.locks = held.keys();
  }
  void set_deadline(double at) {
    MutexLock lk(slot_.mu);
    slot_.deadline = at;
  }
  /// The job's locks no longer need renewing (they are being released).
  void drop_locks() {
    MutexLock lk(slot_.mu);
    slot_.locks.clear();
  }
  bool timed_out() const {
    MutexLock lk(slot_.mu);
    return slot_.timed_out;
  }
  /// The job runs as `jid`: the cancel watcher may stop it from now on.
  void set_jid(const std::string& jid) {
    MutexLock lk(slot_.mu);
    slot_.jid = jid;
  }
  bool cancelled() const {
    MutexLock lk(slot_.mu);
    return slot_.cancelled;
  }
  /// stop() or the watchdog settled the job already: do not touch it.
  bool abandoned() const {
    MutexLock lk(slot_.mu);
    return slot_.abandoned;
  }
  /// The job's progress throttle, for the ProgressFlusher.
  void set_progress(std::shared_ptr<ProgressThrottle> p) {
    MutexLock lk(slot_.mu);
    slot_.progress = std::move(p);
  }

 private:
  Runtime& rt_;
  Slot& slot_;
  std::stop_token stop_;
};

/// While a suspect runs (a job that workers died running), nothing is
/// claimed ahead of it (Fetcher::begin_suspect), and it starts only once the
/// acks of the jobs finished before it are stored (Acker::sync): if it kills
/// the worker again, only the jobs running beside it count the crash.
class SuspectScope {
 public:
  SuspectScope(Fetcher& fetcher, Acker* acker, const JobView& v) {
    if (v.crashes <= 0) return;
    log::warn("running a job that " + std::to_string(v.crashes) +
                  (v.crashes == 1 ? " worker" : " workers") + " died running",
              {{"class", v.display_class}, {"jid", v.jid}, {"queue", v.queue}});
    fetcher_ = &fetcher;
    fetcher_->begin_suspect();
    if (acker) acker->sync();
  }
  ~SuspectScope() {
    if (fetcher_) fetcher_->end_suspect();
  }
  SuspectScope(const SuspectScope&) = delete;
  SuspectScope& operator=(const SuspectScope&) = delete;

 private:
  Fetcher* fetcher_ = nullptr;
};

}  // namespace

Processor::Processor(Runtime& rt, Fetcher& fetcher, std::shared_ptr<Slot> slot)
    : rt_(rt), fetcher_(fetcher), slot_(std::move(slot)) {}

void Processor::start() {
  thread_ = std::thread([this] { loop(); });
}

void Processor::join() {
  if (thread_.joinable()) thread_.join();
}

void Processor::loop() {
  slot_->tid = log::thread_id();
  if (rt_.options.isolation == Isolation::process) {
    // Pre-forked: the first job does not wait for a fork.
    if (auto c = Child::spawn(runner(), rt_.options.children)) child_ = std::move(c).value();
    publish_child();
  }
  while (auto w = fetcher_.next()) process(*w);
}

std::optional<Outcome> Processor::admit(Work& w, DecodedJob& job, const JobDescriptor* desc,
                                        double started, flow::HeldSlots& held) {
  const JobView& v = job.view();
  // A poison pill: it took down max_crashes workers already; never again.
  const int max_crashes = rt_.options.max_crashes;
  if (max_crashes > 0 && v.crashes >= max_crashes)
    return Outcome::failure("errand::PoisonPill",
                            std::to_string(v.crashes) +
                                " workers died while running this job (max_crashes " +
                                std::to_string(max_crashes) + "); it is not run again",
                            ErrorAction::dead);
  // Expired: not started in time, so not started at all.
  if (v.expires_at && started > *v.expires_at) {
    Outcome out;
    out.kind = Outcome::Kind::expired;
    return out;
  }
  // Limits: over a limit, the job goes back to the scheduled set for later
  // rather than holding this thread.
  if (!desc) return std::nullopt;
  const double lease =
      flow::slot_lease(*desc, w.source->renewable_locks,
                       std::chrono::duration<double>(rt_.options.process_ttl).count());
  auto a = flow::admit(*w.source->store, *desc, v.args, v.jid, started, lease);
  if (!a.admitted) {
    Outcome out;
    out.kind = Outcome::Kind::deferred;
    out.at = a.retry_at;
    out.error_message = std::move(a.why);
    return out;
  }
  held = std::move(a.slots);
  return std::nullopt;
}

Isolation Processor::isolation_for(const Work& w, const JobDescriptor* desc) const {
  if (desc && desc->isolation != Isolation::inherit) return desc->isolation;
  if (w.source->isolated_queues)
    for (const auto& q : w.source->queues)
      if (q.name == w.job.queue && q.isolation != Isolation::inherit) return q.isolation;
  return rt_.options.isolation == Isolation::inherit ? Isolation::thread : rt_.options.isolation;
}

Outcome Processor::run_in_child(Work& w, const JobDescriptor& desc, Isolation mode,
                                std::stop_token stop, ProgressThrottle& progress) {
  if (mode == Isolation::fork || (child_ && child_->worn_out())) child_.reset();
  if (!child_) {
    auto spawned = Child::spawn(runner(), rt_.options.children);
    if (!spawned)
      return Outcome::failure("errand::ChildUnavailable",
                              "cannot start a child process: " + spawned.error().message());
    child_ = std::move(spawned).value();
  }
  Outcome out = child_->run(w.job.queue, w.job.payload, desc.timeout, std::move(stop),
                            [&progress](double f, const std::string& m) { progress.report(f, m); });
  if (!child_->alive()) {
    std::string trace;
    for (const auto& line : out.backtrace) trace += "\n    " + line;
    log::error("child process ended during a job: " + out.error_message + trace,
               {{"class", desc.name}, {"queue", w.job.queue}});
    child_.reset();
  } else if (mode == Isolation::fork) {
    child_.reset();
  }
  return out;
}

ChildRunner Processor::runner() const {
  return ChildRunner{rt_.registry, &rt_.chain, rt_.options.progress_interval};
}

void Processor::publish_child() {
  MutexLock lk(slot_->mu);
  slot_->child_pid = child_ ? child_->pid() : 0;
  slot_->child_jobs = child_ ? child_->jobs_run() : 0;
}

Outcome Processor::run(Work& w, DecodedJob& job, const JobDescriptor* desc, Isolation mode,
                       std::stop_token stop, double started, ProgressThrottle& progress) {
  Outcome out;
  if (mode == Isolation::thread || !desc || job.view().invocation_error)
    out = run_in_thread(
        RunRequest{&job, desc, &rt_.chain, std::move(stop),
                   [&progress](double f, std::string_view m) { progress.report(f, m); }});
  else
    out = run_in_child(w, *desc, mode, std::move(stop), progress);
  progress.flush();  // the last report, before the outcome is stored
  if (mode != Isolation::thread) publish_child();
  out.elapsed = rt_.now() - started;
  return out;
}

void Processor::process(Work& w) {
  const double started = rt_.now();
  SlotClaim claim(rt_, *slot_, w, started);
  auto decoded = DecodedJob::decode(w.job);
  if (!decoded) {
    Outcome bad;
    bad.kind = Outcome::Kind::bad_payload;
    bad.error_message = decoded.error().message();
    settle(rt_, w, nullptr, nullptr, bad);
    return;
  }
  DecodedJob& job = *decoded;
  const JobView& v = job.view();
  const auto desc = descriptor_for(v, *rt_.registry);
  flow::HeldSlots held;
  if (auto refused = admit(w, job, desc.get(), started, held)) {
    settle(rt_, w, &job, desc.get(), *refused);
    return;
  }
  claim.hold(held);
  SuspectScope suspect(fetcher_, w.source->acker.get(), v);
  if (v.unique.held_until(flow::UniqueUntil::executing)) flow::release(*w.source->store, v.unique);
  const Isolation mode = isolation_for(w, desc.get());
  // In a child, the timeout is enforced by the child's processor (it kills).
  if (desc && desc->timeout > 0 && mode == Isolation::thread)
    claim.set_deadline(started + desc->timeout);
  claim.set_jid(v.jid);
  if (rt_.options.log_jobs)
    log::write(log::Level::info, "start",
               {{"class", v.display_class}, {"jid", v.jid}, {"queue", v.queue}});

  auto progress = job_progress(rt_, *w.source, v, desc.get());
  claim.set_progress(progress);
  emit_event(rt_, *w.source->store, v, JobEventKind::started);
  Outcome out = run(w, job, desc.get(), mode, claim.stop(), started, *progress);
  fetcher_.note_run(out.elapsed);
  claim.drop_locks();
  held.release();
  if (claim.cancelled()) {
    // Stopped by Client::cancel: whatever it returned or threw, it was cancelled.
    out.kind = Outcome::Kind::cancelled;
  } else if (claim.timed_out() && out.kind != Outcome::Kind::failed) {
    // It returned after its stop token fired: the run did not complete.
    out =
        Outcome::failure("errand::JobTimeout", "job exceeded its timeout of " +
                                                   std::to_string(desc ? desc->timeout : 0) + " s");
    out.elapsed = rt_.now() - started;
  }
  if (claim.abandoned()) {
    // stop() or the watchdog already settled this job: do not touch it again.
    log::warn("finished after it was given up; its outcome was already recorded",
              {{"class", v.display_class}, {"jid", v.jid}});
    return;
  }
  settle(rt_, w, &job, desc.get(), out);
}

}  // namespace errand
