// ForwardingStore: every Store call passed to the wrapped store.
#include "errand/batch_store.h"
#include "errand/store.h"

namespace errand {

std::string_view ForwardingStore::scheme() const { return inner_->scheme(); }
StoreCapabilities ForwardingStore::capabilities() const { return inner_->capabilities(); }
Status ForwardingStore::push(std::span<const PushItem> jobs) { return inner_->push(jobs); }
Result<std::vector<Fetched>> ForwardingStore::fetch(std::span<const std::string> queues,
                                                    std::size_t max, std::chrono::milliseconds wait,
                                                    const std::string& owner) {
  return inner_->fetch(queues, max, wait, owner);
}
Status ForwardingStore::ack(std::span<const Fetched> jobs) { return inner_->ack(jobs); }
Status ForwardingStore::requeue(std::span<const Fetched> jobs) { return inner_->requeue(jobs); }
Status ForwardingStore::retry(const Fetched& job, const std::string& jid,
                              const std::string& payload, double at) {
  return inner_->retry(job, jid, payload, at);
}
Status ForwardingStore::kill(const Fetched& job, const std::string& jid, const std::string& payload,
                             double now, const DeadLimits& limits) {
  return inner_->kill(job, jid, payload, now, limits);
}
Result<std::size_t> ForwardingStore::promote_due(double now, std::size_t limit) {
  return inner_->promote_due(now, limit);
}
Result<std::size_t> ForwardingStore::rescue_orphans(double now, double grace_seconds) {
  return inner_->rescue_orphans(now, grace_seconds);
}
Result<std::vector<std::string>> ForwardingStore::heartbeat(const ProcessBeat& beat) {
  return inner_->heartbeat(beat);
}
Status ForwardingStore::unregister(const std::string& identity) {
  return inner_->unregister(identity);
}
Result<Stats> ForwardingStore::stats() { return inner_->stats(); }
Result<std::vector<std::int64_t>> ForwardingStore::history(std::string_view what, int days,
                                                           double now) {
  return inner_->history(what, days, now);
}
Status ForwardingStore::reset_stats() { return inner_->reset_stats(); }
Result<std::vector<QueueInfo>> ForwardingStore::queues() { return inner_->queues(); }
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
                                          double expires_at) {
  return inner_->lock_extend(key, holder, expires_at);
}
Status ForwardingStore::reschedule(const Fetched& job, const std::string& jid,
                                   const std::string& payload, double at) {
  return inner_->reschedule(job, jid, payload, at);
}
Status ForwardingStore::batch_update(const std::string& bid,
                                     const std::function<Status(BatchTxn&)>& fn) {
  return inner_->batch_update(bid, fn);
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
Status ForwardingStore::push_within(const AppTransaction& txn, std::span<const PushItem> jobs) {
  return inner_->push_within(txn, jobs);
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
