#include "server/processor.h"

#include <cxxabi.h>

#include <array>
#include <chrono>
#include <cmath>
#include <random>

#include "core/envelope.h"
#include "core/invocation.h"
#include "core/job_context.h"
#include "core/log.h"
#include "server/retrier.h"
#include "server/transition.h"

namespace errand {

namespace {

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = (status == 0 && d) ? d : name;
  std::free(d);  // NOLINT: malloc'd by the C++ ABI
  return out;
}

/// The class name and message of the exception being handled.
std::pair<std::string, std::string> describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return {demangle(typeid(e).name()), e.what()};
  } catch (const std::string& s) {
    return {"std::string", s};
  } catch (const char* s) {
    return {"const char*", s};
  } catch (...) {
    auto* t = abi::__cxa_current_exception_type();
    return {t ? demangle(t->name()) : "unknown", "non-standard exception"};
  }
}

class UnknownJobClass : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string args_for_log(const Json& doc, const JobDescriptor* job) {
  if (job && job->redact_args) return "[REDACTED]";
  auto it = doc.find("args");
  if (it == doc.end()) return "[]";
  std::string s = payload::dump(*it);
  if (s.size() > 500) s = s.substr(0, 497) + "...";
  return s;
}

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
  while (auto w = fetcher_.next()) process(*w);
}

void Processor::apply(const char* what, const std::function<Status()>& op) {
  Status st = retry_transition(what, op, [this] { return rt_.stop_requested.load(); });
  if (!st && !transient(st))
    log::error("store refused a job transition", {{"op", what}, {"error", st.message()}});
}

bool Processor::abandoned() const {
  std::lock_guard lk(slot_->mu);
  return slot_->abandoned;
}

void Processor::ack_done(Source& src, Fetched job) {
  if (src.acker) {
    src.acker->add(std::move(job));
    return;
  }
  apply("ack", [&] { return src.store->ack(std::span<const Fetched>(&job, 1)); });
}

namespace {

/// Releases a unique job's lock (when the payload carries one).
void release_unique(Store& store, const Json& doc) {
  auto key = doc.find("unique_key");
  auto jid = doc.find("jid");
  if (key == doc.end() || !key->is_string() || jid == doc.end() || !jid->is_string()) return;
  (void)store.lock_release(key->get<std::string>(), jid->get<std::string>());
}

bool unique_until(const Json& doc, std::string_view when) {
  auto u = doc.find("unique_until");
  return u != doc.end() && u->is_string() && u->get_ref<const std::string&>() == when;
}

thread_local std::mt19937 t_rng{std::random_device{}()};

/// Tries to take one of `n` lock slots named `prefix:<i>`, probing at most 8
/// from a random start: never more than n holders, at most 8 round trips.
Result<std::optional<std::string>> take_slot(Store& store, const std::string& prefix, int n,
                                             const std::string& holder, double now, double until) {
  int tries = std::min(n, 8);
  int start = std::uniform_int_distribution<int>(0, n - 1)(t_rng);
  for (int t = 0; t < tries; ++t) {
    std::string key = prefix + ":" + std::to_string((start + t) % n);
    auto got = store.lock_acquire(key, holder, now, until);
    if (!got) return got.error();
    if (*got) return std::optional<std::string>(key);
  }
  return std::optional<std::string>();
}

}  // namespace

void settle_failure(Runtime& rt, Store& store, const Fetched& job, Json& doc,
                    const JobDescriptor* desc, const std::string& error_class,
                    const std::string& error_message, ErrorAction action,
                    const std::function<void(const char*, const std::function<Status()>&)>& apply) {
  const std::string jid = doc.value("jid", std::string());
  FailureInput in;
  in.error_class = error_class;
  in.error_message = error_message;
  in.fetched_queue = job.queue;
  in.job = desc;
  in.action = action;
  in.now = rt.now();
  in.max_retries = rt.options.max_retries;
  FailureOutcome out = plan_failure(doc, in);
  std::string text = payload::dump(doc);
  JobFailure failure{doc, error_class, error_message, out.kind == FailureOutcome::Kind::retry};
  for (const auto& h : rt.options.error_handlers) {
    try {
      h(failure);
    } catch (...) {
      log::error("error handler threw", {{"jid", jid}});
    }
  }
  switch (out.kind) {
    case FailureOutcome::Kind::retry:
      apply("retry", [&] { return store.retry(job, jid, text, out.at); });
      rt.retried.fetch_add(1);
      break;
    case FailureOutcome::Kind::dead:
      apply("kill", [&] { return store.kill(job, jid, text, rt.now(), rt.options.dead); });
      rt.dead.fetch_add(1);
      if (unique_until(doc, "executed")) release_unique(store, doc);
      break;
    case FailureOutcome::Kind::drop:
      apply("ack", [&] { return store.ack(std::span<const Fetched>(&job, 1)); });
      rt.discarded.fetch_add(1);
      if (unique_until(doc, "executed")) release_unique(store, doc);
      break;
  }
  if (out.run_death_handlers) {
    for (const auto& h : rt.options.death_handlers) {
      try {
        h(failure);
      } catch (...) {
        log::error("death handler threw", {{"jid", jid}});
      }
    }
  }
}

void Processor::park_bad_payload(Work& w, const std::string& why, double started) {
  // Not a job errand can run: park it in the dead set where an operator sees
  // it, with the reason when the payload is at least a JSON object.
  Store& store = *w.source->store;
  std::string text = w.job.payload;
  std::string jid;
  Json doc = Json::parse(text, nullptr, false);
  if (!doc.is_discarded() && !doc.is_object()) {
    // Valid JSON but not an object (an array, a number, ...): Sidekiq's
    // readers index every dead entry as a hash, so one such entry would
    // break DeadSet#each and the Morgue page. Wrap it, keeping the original
    // text as the one argument (how Sidekiq's UI shows unparsable entries).
    doc = Json{{"class", "errand::BadPayload"},
               {"args", Json::array({text})},
               {"jid", payload::new_jid()},
               {"queue", w.job.queue},
               {"retry", false}};
  }
  if (!doc.is_discarded() && doc.is_object()) {
    doc["error_class"] = "errand::BadPayload";
    doc["error_message"] = why;
    if (auto j = doc.find("jid"); j != doc.end() && j->is_string()) jid = j->get<std::string>();
    if (!doc.contains("failed_at")) doc["failed_at"] = started;
    text = payload::dump(doc);
  }
  log::error("bad payload moved to the dead set", {{"queue", w.job.queue}, {"error", why}});
  if (!abandoned())
    apply("kill", [&] { return store.kill(w.job, jid, text, rt_.now(), rt_.options.dead); });
  rt_.dead.fetch_add(1);
}

void Processor::process(Work& w) {
  Store& store = *w.source->store;
  const double started = rt_.now();
  std::stop_token stop;
  {
    std::lock_guard lk(slot_->mu);
    slot_->current = w;
    slot_->run_at = started;
    slot_->deadline = 0;
    slot_->timed_out = false;
    slot_->abandoned = false;
    slot_->stop = std::stop_source();
    stop = slot_->stop.get_token();
  }
  rt_.busy.fetch_add(1);
  auto finish = [&] {
    rt_.busy.fetch_sub(1);
    std::lock_guard lk(slot_->mu);
    slot_->current.reset();
  };
  auto do_apply = [this](const char* what, const std::function<Status()>& op) { apply(what, op); };

  // The plain case reads only the fields it needs (core/envelope.h); the
  // others, and every failure, get the whole document.
  Json doc;
  bool have_doc = false;
  JobContext ctx;
  ctx.queue = w.job.queue;
  ctx.stop = stop;
  std::optional<Invocation> fast;
  if (auto env = read_envelope(w.job.payload)) {
    ctx.jid = std::move(env->jid);
    ctx.job_class = env->job_class;
    ctx.retry_count = env->retry_count;
    ctx.enqueued_at = env->enqueued_at;
    ctx.set_payload(w.job.payload);
    fast = Invocation{std::move(env->job_class), std::move(env->args), false};
  } else {
    auto parsed = payload::parse_for_work(w.job.payload);
    if (!parsed) {
      park_bad_payload(w, parsed.error().message(), started);
      finish();
      return;
    }
    doc = std::move(parsed).value();
    have_doc = true;
    ctx.jid = doc["jid"].get<std::string>();
    ctx.job_class = payload::display_class(doc);
    if (auto rc = doc.find("retry_count"); rc != doc.end() && rc->is_number_integer())
      ctx.retry_count = rc->get<int>();
    ctx.enqueued_at = payload::timestamp(doc, "enqueued_at").value_or(0);
    ctx.set_payload(&doc);
  }
  // The whole document, for the paths that edit or inspect it (failures).
  auto ensure_doc = [&]() -> bool {
    if (have_doc) return true;
    auto parsed = payload::parse_for_work(w.job.payload);
    if (!parsed) return false;
    doc = std::move(parsed).value();
    have_doc = true;
    return true;
  };

  std::shared_ptr<const JobDescriptor> job;
  Result<Invocation> inv = fast ? Result<Invocation>(std::move(*fast)) : resolve_invocation(doc);
  if (inv) job = rt_.registry->find(inv->job_class);
  // Log context, built only for a line that is written (no copies per job
  // when job logging is off).
  auto job_fields = [&] {
    return std::array<log::Field, 3>{
        {{"class", ctx.job_class}, {"jid", ctx.jid}, {"queue", ctx.queue}}};
  };

  // Expired: not started in time, so not started at all.
  if (auto exp = payload::timestamp(doc, "expires_at"); exp && started > *exp) {
    if (rt_.options.log_jobs) log::write(log::Level::info, "expired", job_fields());
    apply("ack", [&] { return store.ack(std::span<const Fetched>(&w.job, 1)); });
    release_unique(store, doc);
    rt_.expired.fetch_add(1);
    finish();
    return;
  }

  // Limits: over a limit, the job goes back to the scheduled set for later
  // rather than holding this thread.
  std::vector<std::string> held_slots;
  if (job && inv && (job->concurrency_limit > 0 || job->rate_limit > 0)) {
    const std::string lk = job->limit_key ? job->limit_key(inv->args) : job->name;
    std::optional<double> retry_at;
    std::string why;
    if (job->rate_limit > 0) {
      const double period = job->rate_period;
      const double window = std::floor(started / period);
      const double window_end = (window + 1) * period;
      auto slot =
          take_slot(store, "rate:" + lk + ":" + std::to_string(static_cast<long long>(window)),
                    job->rate_limit, ctx.jid, started, window_end);
      if (!slot || !*slot) {
        retry_at = window_end + std::uniform_real_distribution<double>(0, period * 0.5)(t_rng);
        why = slot ? "rate limit reached" : "rate limit unavailable: " + slot.error().message();
      }
    }
    if (!retry_at && job->concurrency_limit > 0) {
      // Leased for the process TTL and renewed with every heartbeat (see
      // Server::Impl::renew_slot_locks): a dead worker's slot comes back
      // when its heartbeat expires, like its jobs. A store that cannot
      // extend locks gets a lease long enough for the job instead.
      const double lease = w.source->renewable_locks
                               ? std::chrono::duration<double>(rt_.options.process_ttl).count()
                               : (job->timeout > 0 ? job->timeout + 60.0 : 600.0);
      auto slot = take_slot(store, "limit:" + lk, job->concurrency_limit, ctx.jid, started,
                            started + lease);
      if (slot && *slot) {
        held_slots.push_back(**slot);
        std::lock_guard guard(slot_->mu);
        slot_->lock_holder = ctx.jid;
        slot_->locks = held_slots;
      } else {
        retry_at = started + std::uniform_real_distribution<double>(1.0, 3.0)(t_rng);
        why = slot ? "concurrency limit reached"
                   : "concurrency limit unavailable: " + slot.error().message();
      }
    }
    if (retry_at) {
      if (rt_.options.log_jobs) log::write(log::Level::debug, "deferred: " + why, job_fields());
      apply("reschedule",
            [&] { return store.reschedule(w.job, ctx.jid, w.job.payload, *retry_at); });
      rt_.deferred.fetch_add(1);
      finish();
      return;
    }
  }
  if (unique_until(doc, "executing")) release_unique(store, doc);
  if (job && job->timeout > 0) {
    std::lock_guard lk(slot_->mu);
    slot_->deadline = started + job->timeout;
  }

  if (rt_.options.log_jobs) log::write(log::Level::info, "start", job_fields());

  enum class Kind { done, failed, discarded, snoozed } kind = Kind::done;
  std::string error_class, error_message;
  ErrorAction action = ErrorAction::retry;
  std::chrono::seconds snooze{0};
  {
    ScopedJobContext scope(ctx);
    try {
      if (!inv) throw std::runtime_error(inv.error().message());
      if (!job)
        throw UnknownJobClass("no job class '" + inv->job_class +
                              "' is registered in this worker (load it with -r or ERRAND_JOB)");
      run_server_chain(rt_.chain, ctx, [&] { job->perform(inv->args); });
    } catch (const Discard& e) {
      kind = Kind::discarded;
      error_message = e.what();
    } catch (const Snooze& e) {
      kind = Kind::snoozed;
      snooze = e.delay();
    } catch (const UnknownJobClass& e) {
      // Retried by the payload's own retry field only (the class is not
      // here to say otherwise): deploying the class later lets it run.
      kind = Kind::failed;
      error_class = "errand::UnknownJobClass";
      error_message = e.what();
    } catch (const ArgumentError&) {
      kind = Kind::failed;
      std::tie(error_class, error_message) = describe_current_exception();
      error_class = "errand::ArgumentError";
      action = ErrorAction::dead;  // retrying cannot fix the arguments
    } catch (...) {
      kind = Kind::failed;
      std::tie(error_class, error_message) = describe_current_exception();
      if (job && job->classify) action = job->classify(std::current_exception());
    }
  }
  const double elapsed = rt_.now() - started;
  fetcher_.note_run(elapsed);
  if (!held_slots.empty()) {
    {
      std::lock_guard lk(slot_->mu);
      slot_->locks.clear();
    }
    for (const auto& key : held_slots) (void)store.lock_release(key, ctx.jid);
  }

  bool timed_out = false;
  {
    std::lock_guard lk(slot_->mu);
    timed_out = slot_->timed_out;
  }
  if (timed_out && kind != Kind::failed) {
    // It returned after its stop token fired: the run did not complete.
    kind = Kind::failed;
    error_class = "errand::JobTimeout";
    error_message = "job exceeded its timeout of " + std::to_string(job ? job->timeout : 0) + " s";
    action = ErrorAction::retry;
  }

  if (abandoned()) {
    // stop() or the watchdog already settled this job: do not touch it again.
    log::warn("finished after it was given up; its outcome was already recorded",
              {{"class", ctx.job_class}, {"jid", ctx.jid}});
    finish();
    return;
  }

  Source& src = *w.source;
  switch (kind) {
    case Kind::done:
    case Kind::discarded: {
      if (rt_.options.log_jobs)
        log::write(log::Level::info, kind == Kind::done ? "done" : "discarded: " + error_message,
                   job_fields(), elapsed);
      if (unique_until(doc, "executed")) {
        // The lock goes only once the ack is stored: no second copy while
        // this one could still come back.
        apply("ack", [&] { return store.ack(std::span<const Fetched>(&w.job, 1)); });
        release_unique(store, doc);
      } else {
        ack_done(src, std::move(w.job));
      }
      if (kind == Kind::discarded) rt_.discarded.fetch_add(1);
      break;
    }
    case Kind::snoozed: {
      if (rt_.options.log_jobs)
        log::write(log::Level::info, "snoozed for " + std::to_string(snooze.count()) + "s",
                   job_fields(), elapsed);
      double at = rt_.now() + static_cast<double>(snooze.count());
      apply("snooze", [&] { return store.reschedule(w.job, ctx.jid, w.job.payload, at); });
      break;
    }
    case Kind::failed: {
      if (!ensure_doc()) {
        // Only the fast reader accepted it (the full parse is stricter).
        park_bad_payload(w, "payload is not valid JSON", started);
        rt_.failed.fetch_add(1);
        src.failed.fetch_add(1);
        break;
      }
      if (rt_.options.log_jobs)
        log::write(log::Level::warn, "fail: " + error_class + ": " + error_message,
                   std::array<log::Field, 4>{{{"class", ctx.job_class},
                                              {"jid", ctx.jid},
                                              {"queue", ctx.queue},
                                              {"args", args_for_log(doc, job.get())}}},
                   elapsed);
      settle_failure(rt_, store, w.job, doc, job.get(), error_class, error_message, action,
                     do_apply);
      rt_.failed.fetch_add(1);
      src.failed.fetch_add(1);
      break;
    }
  }
  rt_.processed.fetch_add(1);
  src.processed.fetch_add(1);
  finish();
}

}  // namespace errand
