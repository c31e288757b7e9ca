#include "server/settle.h"

#include <array>
#include <optional>

#include "batch/join.h"
#include "core/log.h"
#include "errand/payload_limits.h"
#include "server/event_dispatcher.h"
#include "server/retrier.h"
#include "server/transition.h"

namespace errand {

namespace {

std::string args_for_log(const Json& doc, const JobDescriptor* job) {
  if (job && job->redact_args) return "[REDACTED]";
  auto it = doc.find("args");
  if (it == doc.end()) return "[]";
  std::string s = payload::dump(*it);
  if (s.size() > 500) s = s.substr(0, 497) + "...";
  return s;
}

/// Sidekiq's `backtrace` option: true keeps every line of the error's
/// backtrace in `error_backtrace`, a number that many.
void store_backtrace(Json& doc, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  auto bt = doc.find("backtrace");
  if (bt == doc.end()) return;
  std::size_t n = 0;
  if (bt->is_boolean() && bt->get<bool>()) n = lines.size();
  if (bt->is_number_integer() && bt->get<std::int64_t>() > 0)
    n = std::min(lines.size(), static_cast<std::size_t>(bt->get<std::int64_t>()));
  if (n == 0) return;
  doc["error_backtrace"] =
      std::vector<std::string>(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(n));
}

template <class Handlers>
void run_handlers(const Handlers& handlers, const JobFailure& failure, const char* on_throw) {
  for (const auto& h : handlers) {
    try {
      h(failure);
    } catch (...) {
      log::error(on_throw, {{"jid", failure.payload.value("jid", std::string())}});
    }
  }
}

/// The settle of one job: its context and the steps per outcome.
class Settle {
 public:
  Settle(Runtime& rt, Work& w, DecodedJob* job, const JobDescriptor* desc)
      : rt_(rt), w_(w), src_(*w.source), store_(*w.source->store), job_(job), desc_(desc) {}

  void run(const Outcome& out);

 private:
  /// Applies a store transition, retrying while the store is unreachable
  /// (unless the server is stopping: then the claim stays, and the rescuer
  /// returns the job after this process is gone).
  void apply(const char* what, const std::function<Status()>& op) {
    Status st = retry_transition(what, op, [this] { return rt_.stop_requested.load(); });
    if (!st && !transient(st))
      log::error("store refused a job transition", {{"op", what}, {"error", st.message()}});
  }
  void ack_inline() {
    apply("ack", [&] { return store_.ack(std::span<const Fetched>(&w_.job, 1)); });
  }
  void log_job(log::Level level, std::string_view message, double elapsed) {
    if (!rt_.options.log_jobs || !job_) return;
    const JobView& v = job_->view();
    log::write(
        level, message,
        std::array<log::Field, 3>{{{"class", v.display_class}, {"jid", v.jid}, {"queue", v.queue}}},
        elapsed);
  }
  /// Records the job's new state for Client::status (stores that keep it).
  /// A failure is logged, never retried: status is a view for people.
  void record(JobState state, std::string result = {}, std::string error = {}) {
    auto u = update(state, std::move(result), std::move(error));
    if (!u) return;
    if (auto st = store_.record_status(*u); !st)
      log::warn("cannot record job status", {{"jid", u->jid}, {"error", st.message()}});
  }
  /// The record of the job's new state; nullopt when none is kept (the store
  /// keeps no status, or the server records none).
  std::optional<StatusUpdate> update(JobState state, std::string result, std::string error) {
    const std::string jid = job_ ? job_->view().jid : std::string();
    if (!src_.status || !rt_.options.record_status || jid.empty()) return std::nullopt;
    StatusUpdate u;
    u.jid = jid;
    u.state = state;
    u.result = std::move(result);
    u.error = std::move(error);
    u.now = rt_.now();
    u.ttl_seconds = desc_ ? desc_->result_ttl : JobOptions{}.result_ttl;
    return u;
  }
  /// Records the job's outcome in its batch (if it is a member) before the
  /// job's own transition: the batch step is idempotent, so a crash in
  /// between runs the job again and changes nothing twice.
  void to_batch(batch::Outcome o, const std::string& result = {}) {
    if (!job_ || job_->view().bid.empty()) return;
    const std::string& bid = job_->view().bid;
    const std::string& jid = job_->view().jid;
    apply("batch", [&] { return batch::report(store_, bid, jid, o, result, rt_.now()); });
  }
  /// The job's event (with on_event or publish_events).
  void emit(JobEventKind kind, std::string error = {}) {
    if (job_) emit_event(rt_, store_, job_->view(), kind, std::move(error));
  }
  void finished(const Outcome& out);
  void cancelled();
  void failed(const Outcome& out);
  void policy(Json& doc, const Outcome& out);
  void park(const std::string& why);
  void count_processed() {
    rt_.processed.fetch_add(1);
    src_.processed.fetch_add(1);
  }

  Runtime& rt_;
  Work& w_;
  Source& src_;
  Store& store_;
  DecodedJob* job_;
  const JobDescriptor* desc_;
};

void Settle::run(const Outcome& out) {
  using K = Outcome::Kind;
  switch (out.kind) {
    case K::done:
    case K::discarded:
      finished(out);
      return;
    case K::snoozed: {
      log_job(log::Level::info, "snoozed for " + std::to_string(static_cast<long>(out.delay)) + "s",
              out.elapsed);
      const double at = rt_.now() + out.delay;
      const auto& v = job_->view();
      apply("snooze", [&] {
        return store_.reschedule(
            {.job = w_.job, .jid = v.jid, .payload = w_.job.payload, .at = at, .now = rt_.now()});
      });
      rt_.note_due(at);
      count_processed();
      emit(JobEventKind::snoozed);
      return;
    }
    case K::failed:
      failed(out);
      return;
    case K::expired:
      log_job(log::Level::info, "expired", 0);
      to_batch(batch::Outcome::died);
      ack_inline();
      flow::release(store_, job_->view().unique);
      rt_.expired.fetch_add(1);
      record(JobState::dead, {}, "errand::Expired: not started before its expires_at");
      emit(JobEventKind::dead, "errand::Expired: not started before its expires_at");
      return;
    case K::deferred: {
      log_job(log::Level::debug, "deferred: " + out.error_message, 0);
      const auto& v = job_->view();
      apply("reschedule", [&] {
        return store_.reschedule({.job = w_.job,
                                  .jid = v.jid,
                                  .payload = w_.job.payload,
                                  .at = out.at,
                                  .now = rt_.now()});
      });
      rt_.note_due(out.at);
      rt_.deferred.fetch_add(1);
      return;
    }
    case K::bad_payload:
      park(out.error_message);
      return;
    case K::cancelled:
      cancelled();
      return;
  }
}

void Settle::finished(const Outcome& out) {
  const bool done = out.kind == Outcome::Kind::done;
  if (done)
    emit(JobEventKind::succeeded);
  else
    emit(JobEventKind::dead, "errand::Discard: " + out.error_message);
  log_job(log::Level::info, done ? "done" : "discarded: " + out.error_message, out.elapsed);
  to_batch(done ? batch::Outcome::succeeded : batch::Outcome::died, out.result);
  const auto& unique = job_->view().unique;
  if (unique.held_until(flow::UniqueUntil::executed)) {
    // The lock goes only once the ack is stored: no second copy while this
    // one could still come back.
    ack_inline();
    flow::release(store_, unique);
  } else if (src_.acker) {
    // Batched, from the acker's thread, with the status record.
    auto u = done ? update(JobState::succeeded, out.result, {})
                  : update(JobState::dead, {}, "errand::Discard: " + out.error_message);
    if (u)
      src_.acker->add(std::move(w_.job), std::move(*u));
    else
      src_.acker->add(std::move(w_.job));
    if (!done) rt_.discarded.fetch_add(1);
    count_processed();
    return;
  } else {
    ack_inline();  // an in-process store: no round trip to save
  }
  if (done)
    record(JobState::succeeded, out.result);
  else
    record(JobState::dead, {}, "errand::Discard: " + out.error_message);
  if (!done) rt_.discarded.fetch_add(1);
  count_processed();
}

void Settle::cancelled() {
  log_job(log::Level::info, "cancelled", 0);
  to_batch(batch::Outcome::cancelled);
  ack_inline();
  const auto& unique = job_->view().unique;
  if (unique.held_until(flow::UniqueUntil::executed)) flow::release(store_, unique);
  record(JobState::cancelled);
  emit(JobEventKind::cancelled);
  count_processed();
}

void Settle::failed(const Outcome& out) {
  Json* doc = job_ ? job_->document() : nullptr;
  if (!doc) {
    // Only the fast reader accepted it (the full parse is stricter).
    park("payload is not valid JSON");
  } else {
    if (rt_.options.log_jobs) {
      const JobView& v = job_->view();
      log::write(log::Level::warn, "fail: " + out.error_class + ": " + out.error_message,
                 std::array<log::Field, 4>{{{"class", v.display_class},
                                            {"jid", v.jid},
                                            {"queue", v.queue},
                                            {"args", args_for_log(*doc, desc_)}}},
                 out.elapsed);
    }
    policy(*doc, out);
  }
  rt_.failed.fetch_add(1);
  src_.failed.fetch_add(1);
  count_processed();
}

void Settle::policy(Json& doc, const Outcome& out) {
  const std::string jid = job_->view().jid;
  FailureInput in;
  in.error_class = out.error_class;
  in.error_message = out.error_message;
  in.fetched_queue = w_.job.queue;
  in.job = desc_;
  in.action = out.action;
  in.now = rt_.now();
  in.max_retries = rt_.options.max_retries;
  const FailureOutcome plan = plan_failure(doc, in);
  store_backtrace(doc, out.backtrace);
  const std::string text = payload::dump(doc);
  const JobFailure failure{doc, out.error_class, out.error_message,
                           plan.kind == FailureOutcome::Kind::retry};
  run_handlers(rt_.options.error_handlers, failure, "error handler threw");
  const auto& unique = job_->view().unique;
  switch (plan.kind) {
    case FailureOutcome::Kind::retry:
      to_batch(batch::Outcome::failed);
      apply("retry", [&] {
        return store_.retry(
            {.job = w_.job, .jid = jid, .payload = text, .at = plan.at, .now = rt_.now()});
      });
      rt_.note_due(plan.at);
      rt_.retried.fetch_add(1);
      record(JobState::retrying, {}, out.error_class + ": " + out.error_message);
      emit(JobEventKind::retrying, out.error_class + ": " + out.error_message);
      break;
    case FailureOutcome::Kind::dead:
      log::warn("moved to the dead set: " + out.error_class + ": " + out.error_message,
                {{"class", job_->view().display_class}, {"jid", jid}, {"queue", w_.job.queue}});
      to_batch(batch::Outcome::died);
      apply("kill", [&] {
        return store_.kill({.job = w_.job,
                            .jid = jid,
                            .payload = text,
                            .now = rt_.now(),
                            .limits = rt_.options.dead});
      });
      rt_.dead.fetch_add(1);
      if (unique.held_until(flow::UniqueUntil::executed)) flow::release(store_, unique);
      record(JobState::dead, {}, out.error_class + ": " + out.error_message);
      emit(JobEventKind::dead, out.error_class + ": " + out.error_message);
      break;
    case FailureOutcome::Kind::drop:
      log::warn(
          "dropped (retry disabled, no dead entry): " + out.error_class + ": " + out.error_message,
          {{"class", job_->view().display_class}, {"jid", jid}, {"queue", w_.job.queue}});
      to_batch(batch::Outcome::died);
      ack_inline();
      rt_.discarded.fetch_add(1);
      if (unique.held_until(flow::UniqueUntil::executed)) flow::release(store_, unique);
      record(JobState::dead, {}, out.error_class + ": " + out.error_message);
      emit(JobEventKind::dead, out.error_class + ": " + out.error_message);
      break;
  }
  if (plan.run_death_handlers)
    run_handlers(rt_.options.death_handlers, failure, "death handler threw");
}

void Settle::park(const std::string& why) {
  // Not a job errand can run: park it in the dead set where an operator sees
  // it, with the reason when the payload is at least a JSON object.
  emit(JobEventKind::dead, "errand::BadPayload: " + why);
  auto bad = bad_payload_entry(w_.job, why, rt_.now());
  log::error("bad payload moved to the dead set", {{"queue", w_.job.queue}, {"error", why}});
  apply("kill", [&] {
    return store_.kill({.job = w_.job,
                        .jid = bad.jid,
                        .payload = bad.text,
                        .now = rt_.now(),
                        .limits = rt_.options.dead});
  });
  rt_.dead.fetch_add(1);
}

}  // namespace

BadPayloadEntry bad_payload_entry(const Fetched& job, const std::string& why, double now) {
  // The document is built only within the payload limits (payload::parse):
  // a hostile one is never copied or dumped.
  auto parsed = payload::parse(job.payload);
  Json doc;
  if (parsed && parsed->is_object()) {
    doc = std::move(parsed).value();
  } else {
    // Not valid JSON, over the limits, or valid JSON but not an object (an
    // array, a number, ...): Sidekiq's readers index every dead entry as a
    // hash, so one such entry would break DeadSet#each and the Morgue page.
    // Wrap it, keeping the original text as the one argument (how Sidekiq's
    // UI shows unparsable entries), and its jid when one can be read.
    std::string jid = payload::jid_of(job.payload);
    doc = Json{{"class", "errand::BadPayload"},
               {"args", Json::array({job.payload})},
               {"jid", jid.empty() ? payload::new_jid() : jid},
               {"queue", job.queue},
               {"retry", false}};
  }
  doc["error_class"] = "errand::BadPayload";
  doc["error_message"] = why;
  BadPayloadEntry out;
  if (auto j = doc.find("jid"); j != doc.end() && j->is_string()) out.jid = j->get<std::string>();
  if (!doc.contains("failed_at")) doc["failed_at"] = now;
  out.text = payload::dump(doc);
  return out;
}

void settle(Runtime& rt, Work& w, DecodedJob* job, const JobDescriptor* desc, const Outcome& out) {
  Settle(rt, w, job, desc).run(out);
}

}  // namespace errand
