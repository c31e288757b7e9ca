#include "server/processor.h"

#include <cxxabi.h>

#include <chrono>

#include "core/invocation.h"
#include "core/job_context.h"
#include "core/log.h"
#include "server/retrier.h"

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
  for (int attempt = 0;; ++attempt) {
    Status st = op();
    if (st.ok()) return;
    if (st.code() != Errc::unavailable && st.code() != Errc::busy) {
      log::error("store refused a job transition", {{"op", what}, {"error", st.message()}});
      return;
    }
    if (attempt == 0 || attempt % 20 == 0)
      log::warn("store unreachable; retrying job transition",
                {{"op", what}, {"error", st.message()}});
    if (rt_.stop_requested.load() && attempt >= 3) {
      log::error(
          "giving up on job transition at shutdown; the job stays claimed and returns "
          "to its queue once this process is gone",
          {{"op", what}});
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50 * (attempt + 1), 2000)));
  }
}

void Processor::process(Work& w) {
  Store& store = *w.source->store;
  const double started = rt_.now();
  std::stop_token stop;
  {
    std::lock_guard lk(slot_->mu);
    slot_->current = w;
    slot_->run_at = started;
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
  auto abandoned = [&] {
    std::lock_guard lk(slot_->mu);
    return slot_->abandoned;
  };

  auto parsed = payload::parse_for_work(w.job.payload);
  if (!parsed) {
    // Not a job errand can run: park it in the dead set where an operator
    // sees it, with the reason when the payload is at least a JSON object.
    std::string text = w.job.payload;
    std::string jid;
    Json doc = Json::parse(text, nullptr, false);
    if (!doc.is_discarded() && doc.is_object()) {
      doc["error_class"] = "errand::BadPayload";
      doc["error_message"] = parsed.error().message();
      if (auto j = doc.find("jid"); j != doc.end() && j->is_string()) jid = j->get<std::string>();
      if (!doc.contains("failed_at")) doc["failed_at"] = started;
      text = payload::dump(doc);
    }
    log::error("bad payload moved to the dead set",
               {{"queue", w.job.queue}, {"error", parsed.error().message()}});
    if (!abandoned())
      apply("kill", [&] { return store.kill(w.job, jid, text, rt_.now(), rt_.options.dead); });
    rt_.dead.fetch_add(1);
    finish();
    return;
  }
  Json doc = std::move(parsed).value();

  JobContext ctx;
  ctx.jid = doc["jid"].get<std::string>();
  ctx.job_class = payload::display_class(doc);
  ctx.queue = w.job.queue;
  if (auto rc = doc.find("retry_count"); rc != doc.end() && rc->is_number_integer())
    ctx.retry_count = rc->get<int>();
  ctx.payload = &doc;
  ctx.stop = stop;

  std::shared_ptr<const JobDescriptor> job;
  auto inv = resolve_invocation(doc);
  if (inv) job = rt_.registry->find(inv->job_class);

  if (rt_.options.log_jobs)
    log::write(log::Level::info, "start",
               {{"class", ctx.job_class}, {"jid", ctx.jid}, {"queue", ctx.queue}});

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

  if (abandoned()) {
    // stop() already put this job back in its queue: it will run again.
    log::warn("finished after shutdown requeued it; it will run again",
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
                   {{"class", ctx.job_class}, {"jid", ctx.jid}, {"queue", ctx.queue}}, elapsed);
      const Fetched* one = &w.job;
      apply("ack", [&] { return store.ack(std::span<const Fetched>(one, 1)); });
      if (kind == Kind::discarded) rt_.discarded.fetch_add(1);
      break;
    }
    case Kind::snoozed: {
      if (rt_.options.log_jobs)
        log::write(log::Level::info, "snoozed for " + std::to_string(snooze.count()) + "s",
                   {{"class", ctx.job_class}, {"jid", ctx.jid}, {"queue", ctx.queue}}, elapsed);
      double at = rt_.now() + static_cast<double>(snooze.count());
      apply("snooze", [&] { return store.retry(w.job, ctx.jid, w.job.payload, at); });
      break;
    }
    case Kind::failed: {
      FailureInput in;
      in.error_class = error_class;
      in.error_message = error_message;
      in.fetched_queue = w.job.queue;
      in.job = job.get();
      in.action = action;
      in.now = rt_.now();
      in.max_retries = rt_.options.max_retries;
      FailureOutcome out = plan_failure(doc, in);
      if (rt_.options.log_jobs)
        log::write(log::Level::warn, "fail: " + error_class + ": " + error_message,
                   {{"class", ctx.job_class},
                    {"jid", ctx.jid},
                    {"queue", ctx.queue},
                    {"args", args_for_log(doc, job.get())}},
                   elapsed);
      std::string text = payload::dump(doc);
      JobFailure failure{doc, error_class, error_message, out.kind == FailureOutcome::Kind::retry};
      for (const auto& h : rt_.options.error_handlers) {
        try {
          h(failure);
        } catch (...) {
          log::error("error handler threw", {{"jid", ctx.jid}});
        }
      }
      switch (out.kind) {
        case FailureOutcome::Kind::retry:
          apply("retry", [&] { return store.retry(w.job, ctx.jid, text, out.at); });
          rt_.retried.fetch_add(1);
          break;
        case FailureOutcome::Kind::dead:
          apply("kill",
                [&] { return store.kill(w.job, ctx.jid, text, rt_.now(), rt_.options.dead); });
          rt_.dead.fetch_add(1);
          break;
        case FailureOutcome::Kind::drop: {
          const Fetched* one = &w.job;
          apply("ack", [&] { return store.ack(std::span<const Fetched>(one, 1)); });
          rt_.discarded.fetch_add(1);
          break;
        }
      }
      if (out.run_death_handlers) {
        for (const auto& h : rt_.options.death_handlers) {
          try {
            h(failure);
          } catch (...) {
            log::error("death handler threw", {{"jid", ctx.jid}});
          }
        }
      }
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
