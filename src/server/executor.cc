#include "server/executor.h"

#include <cxxabi.h>

#include "core/job_context.h"

namespace errand {

namespace {

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

JobContext context_for(DecodedJob& job, std::stop_token stop, JobContext::ProgressSink progress) {
  const JobView& v = job.view();
  JobContext ctx;
  ctx.jid = v.jid;
  ctx.job_class = v.display_class;
  ctx.queue = v.queue;
  ctx.retry_count = v.retry_count;
  ctx.enqueued_at = v.enqueued_at;
  ctx.batch_id = v.bid.empty() ? v.callback_bid : v.bid;
  ctx.stop = std::move(stop);
  ctx.set_progress_sink(std::move(progress));
  if (const Json* doc = job.parsed())
    ctx.set_payload(doc);
  else
    ctx.set_payload(job.text());
  return ctx;
}

/// A job that cannot run here: why, or nullopt when it can.
std::optional<Outcome> refuse(const JobView& v, const JobDescriptor* d) {
  if (v.invocation_error) return Outcome::failure("std::runtime_error", *v.invocation_error);
  // Retried by the payload's own retry field only (the class is not here to
  // say otherwise): deploying the class later lets it run.
  if (!d)
    return Outcome::failure("errand::UnknownJobClass",
                            "no job class '" + v.job_class +
                                "' is registered in this worker (load it with -r or ERRAND_JOB)");
  return std::nullopt;
}

}  // namespace

std::string demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = (status == 0 && d) ? d : name;
  std::free(d);  // NOLINT: malloc'd by the C++ ABI
  return out;
}

Outcome run_in_thread(const RunRequest& req) {
  const JobView& v = req.job->view();
  if (auto refused = refuse(v, req.descriptor)) return std::move(*refused);
  const JobDescriptor& d = *req.descriptor;
  JobContext ctx = context_for(*req.job, req.stop, req.progress);
  ScopedJobContext scope(ctx);
  Outcome out;
  try {
    Json result;
    run_server_chain(*req.chain, ctx, [&] { result = d.perform(v.args); });
    out.result = payload::dump(result);
  } catch (const Discard& e) {
    out.kind = Outcome::Kind::discarded;
    out.error_message = e.what();
  } catch (const Snooze& e) {
    out.kind = Outcome::Kind::snoozed;
    out.delay = static_cast<double>(e.delay().count());
  } catch (const ArgumentError&) {
    auto [cls, msg] = describe_current_exception();
    // Retrying cannot fix the arguments.
    out = Outcome::failure("errand::ArgumentError", std::move(msg), ErrorAction::dead);
  } catch (...) {
    auto [cls, msg] = describe_current_exception();
    out = Outcome::failure(std::move(cls), std::move(msg),
                           d.classify ? d.classify(std::current_exception()) : ErrorAction::retry);
  }
  return out;
}

}  // namespace errand
