// ForwardingStore: every Store call passed to the wrapped store.
#include "errand/batch_store.h"
#include "errand/store.h"

namespace errand {

std::string_view ForwardingStore::scheme() const { return inner_->scheme(); }
StoreCapabilities ForwardingStore::capabilities() const { return inner_->capabilities(); }
Status ForwardingStore::push(const PushParams& p) { return inner_->push(p); }
Result<std::vector<Fetched>> ForwardingStore::fetch(const FetchParams& p) {
  return inner_->fetch(p);
}
Status ForwardingStore::ack(std::span<const Fetched> jobs) { return inner_->ack(jobs); }
Status ForwardingStore::requeue(const RequeueParams& p) { return inner_->requeue(p); }
Status ForwardingStore::retry(const RetryParams& p) { return inner_->retry(p); }
Status ForwardingStore::kill(const KillParams& p) { return inner_->kill(p); }
Result<std::size_t> ForwardingStore::promote_due(const PromoteParams& p) {
  return inner_->promote_due(p);
}
Result<std::size_t> ForwardingStore::rescue_orphans(const RescueParams& p) {
  return inner_->rescue_orphans(p);
}
Result<std::vector<std::string>> ForwardingStore::heartbeat(const ProcessBeat& beat) {
  return inner_->heartbeat(beat);
}
Status ForwardingStore::unregister(const std::string& identity) {
  return inner_->unregister(identity);
}
Result<Stats> ForwardingStore::stats(double now) { return inner_->stats(now); }
Result<std::vector<std::int64_t>> ForwardingStore::history(std::string_view what, int days,
                                                           double now) {
  return inner_->history(what, days, now);
}
Status ForwardingStore::reset_stats() { return inner_->reset_stats(); }
Result<std::vector<QueueInfo>> ForwardingStore::queues(double now) { return inner_->queues(now); }
Result<std::vector<std::string>> ForwardingStore::queue_jobs(const std::string& queue,
                                                             std::size_t offset,
                                                             std::size_t count) {
  return inner_->queue_jobs(queue, offset, count);
}
Status ForwardingStore::queue_delete(const std::string& queue, const std::string& jid) {
  return inner_->queue_delete(queue, jid);
}
Status ForwardingStore::clear_queue(const std::string& queue) { return inner_->clear_queue(queue); }
Result<std::size_t> ForwardingStore::set_size(SetKind kind) { return inner_->set_size(kind); }
Result<std::vector<SetEntry>> ForwardingStore::set_range(SetKind kind, std::size_t offset,
                                                         std::size_t count) {
  return inner_->set_range(kind, offset, count);
}
Result<SetEntry> ForwardingStore::set_find(SetKind kind, double score, const std::string& jid) {
  return inner_->set_find(kind, score, jid);
}
Status ForwardingStore::set_delete(SetKind kind, double score, const std::string& jid) {
  return inner_->set_delete(kind, score, jid);
}
Status ForwardingStore::set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                                 const std::string& queue, const std::string& new_payload,
                                 double now, const DeadLimits& limits) {
  return inner_->set_move(kind, score, jid, to, queue, new_payload, now, limits);
}
Status ForwardingStore::set_clear(SetKind kind) { return inner_->set_clear(kind); }
Status ForwardingStore::set_paused(const std::string& queue, bool paused) {
  return inner_->set_paused(queue, paused);
}
Result<std::vector<std::string>> ForwardingStore::paused_queues() {
  return inner_->paused_queues();
}
Result<bool> ForwardingStore::lock_acquire(const std::string& key, const std::string& holder,
                                           double now, double expires_at) {
  return inner_->lock_acquire(key, holder, now, expires_at);
}
Status ForwardingStore::lock_release(const std::string& key, const std::string& holder) {
  return inner_->lock_release(key, holder);
}
Result<bool> ForwardingStore::lock_extend(const std::string& key, const std::string& holder,
                                          double now, double expires_at) {
  return inner_->lock_extend(key, holder, now, expires_at);
}
Status ForwardingStore::reschedule(const RescheduleParams& p) { return inner_->reschedule(p); }
Status ForwardingStore::batch_update(const std::string& bid, double now,
                                     const std::function<Status(BatchTxn&)>& fn) {
  return inner_->batch_update(bid, now, fn);
}
Result<BatchRecord> ForwardingStore::batch_read(const std::string& bid) {
  return inner_->batch_read(bid);
}
Result<std::vector<std::string>> ForwardingStore::batch_list(std::size_t offset, std::size_t count,
                                                             double now) {
  return inner_->batch_list(offset, count, now);
}

Result<std::vector<ProcessRecord>> ForwardingStore::processes(double now) {
  return inner_->processes(now);
}
Result<std::vector<WorkRecord>> ForwardingStore::workers(double now) {
  return inner_->workers(now);
}
Status ForwardingStore::push_within(const AppTransaction& txn, const PushParams& p) {
  return inner_->push_within(txn, p);
}
Result<bool> ForwardingStore::lock_acquire_within(const AppTransaction& txn, const std::string& key,
                                                  const std::string& holder, double now,
                                                  double expires_at) {
  return inner_->lock_acquire_within(txn, key, holder, now, expires_at);
}
Status ForwardingStore::signal(const std::string& identity, const std::string& sig) {
  return inner_->signal(identity, sig);
}

}  // namespace errand
