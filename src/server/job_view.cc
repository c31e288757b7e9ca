#include "server/job_view.h"

#include "core/envelope.h"
#include "core/invocation.h"

namespace errand {

namespace {

void fill_from_document(JobView& v, const Json& doc) {
  v.jid = doc["jid"].get<std::string>();
  v.display_class = payload::display_class(doc);
  if (auto rc = doc.find("retry_count"); rc != doc.end() && rc->is_number_integer())
    v.retry_count = rc->get<int>();
  v.enqueued_at = payload::timestamp(doc, "enqueued_at").value_or(0);
  v.expires_at = payload::timestamp(doc, "expires_at");
  if (auto c = doc.find("errand_crashes"); c != doc.end() && c->is_number_integer())
    v.crashes = c->get<int>();
  v.unique = flow::UniqueLock::of(doc);
  if (auto b = doc.find("bid"); b != doc.end() && b->is_string()) v.bid = b->get<std::string>();
  if (auto b = doc.find("cb_bid"); b != doc.end() && b->is_string())
    v.callback_bid = b->get<std::string>();
  auto inv = resolve_invocation(doc);
  if (!inv) {
    v.job_class = v.display_class;
    v.invocation_error = inv.error().message();
    return;
  }
  v.job_class = std::move(inv->job_class);
  v.args = std::move(inv->args);
}

}  // namespace

Result<DecodedJob> DecodedJob::decode(const Fetched& job) {
  DecodedJob d;
  d.text_ = job.payload;
  d.view_.queue = job.queue;
  if (auto env = read_envelope(job.payload)) {
    // A plain payload: no expiry, no unique lock, no wrapper (the envelope
    // reader leaves those to the full parse).
    d.view_.jid = std::move(env->jid);
    d.view_.display_class = env->job_class;
    d.view_.job_class = std::move(env->job_class);
    d.view_.args = std::move(env->args);
    d.view_.retry_count = env->retry_count;
    d.view_.enqueued_at = env->enqueued_at;
    return d;
  }
  auto parsed = payload::parse_for_work(job.payload);
  if (!parsed) return parsed.error();
  d.doc_ = std::move(parsed).value();
  fill_from_document(d.view_, *d.doc_);
  return d;
}

std::shared_ptr<const JobDescriptor> descriptor_for(const JobView& v, const Registry& registry) {
  return v.invocation_error ? nullptr : registry.find(v.job_class);
}

Json* DecodedJob::document() {
  if (doc_) return &*doc_;
  if (doc_failed_) return nullptr;
  auto parsed = payload::parse_for_work(text_);
  if (!parsed) {
    doc_failed_ = true;
    return nullptr;
  }
  doc_ = std::move(parsed).value();
  return &*doc_;
}

}  // namespace errand
