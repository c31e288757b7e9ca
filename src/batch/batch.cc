// Batch (errand/batch.h) and the batch side of Client: opening a batch,
// joining pushes to it, callbacks, status and cancel.
#include "errand/batch.h"

#include "batch/join.h"
#include "errand/payload.h"

namespace errand {

namespace batch {

namespace {

bool has_batches(const Store& s) { return s.capabilities().batches; }

/// The store a batch lives on: the store of `queue` ("default" when empty),
/// else the first store.
Store* store_of(const QueueMap& queues, const std::string& queue) {
  if (Store* s = queues.store_for(queue.empty() ? "default" : queue)) return s;
  auto all = queues.stores();
  return all.empty() ? nullptr : all.front().get();
}

const char* event_name(BatchEvent e) {
  switch (e) {
    case BatchEvent::complete:
      return "complete";
    case BatchEvent::success:
      return "success";
    case BatchEvent::death:
      return "death";
  }
  return "?";
}

}  // namespace

Status join_push(const detail::BatchJoin& join, Store& store, bool within_txn,
                 std::span<const PushItem> jobs, double now) {
  if (within_txn)
    return fail(Errc::unsupported,
                "a batch's jobs cannot be pushed within an application "
                "transaction");
  if (&store != join.store)
    return fail(Errc::unsupported, "batch " + join.bid +
                                       ": every job of a batch must go to a queue on the store "
                                       "the batch lives on");
  std::vector<std::string> members;
  members.reserve(jobs.size());
  for (const auto& j : jobs) members.push_back(j.jid);
  return store.batch_update(join.bid, now, [&](BatchTxn& t) -> Status {
    auto m = t.meta();
    if (!m) return m.error();
    if (!*m) return fail(Errc::not_found, "no batch " + join.bid + " (expired?)");
    return add_members(t, Json(), members, {jobs.begin(), jobs.end()}, now);
  });
}

Status report(Store& store, const std::string& bid, const std::string& member, Outcome outcome,
              const std::string& result, double now) {
  std::vector<ParentNote> notes;
  Status st = store.batch_update(bid, now, [&](BatchTxn& t) -> Status {
    auto r = record(t, member, outcome, result, now);
    if (!r) return r.status();
    notes = std::move(r).value();
    return {};
  });
  if (!st) return st.code() == Errc::not_found ? Status() : st;  // batch gone: nothing to tell
  for (const auto& n : notes) {
    if (auto told = report(store, n.parent, "batch:" + bid, n.outcome, {}, now); !told) return told;
    std::vector<ParentNote> one{n};
    if (auto marked =
            store.batch_update(bid, now, [&](BatchTxn& t) { return mark_told(t, one, now); });
        !marked)
      return marked;
  }
  return {};
}

}  // namespace batch

// ---- Batch -----------------------------------------------------------------

Batch::Batch(Client client, std::string description, std::string queue)
    : Batch(std::move(client), payload::new_jid(), std::move(description), std::move(queue), true) {
}

Batch::Batch(Client client, std::string bid, std::string description, std::string queue, bool fresh)
    : client_(std::move(client)),
      bid_(std::move(bid)),
      description_(std::move(description)),
      fresh_(fresh) {
  store_ = batch::store_of(client_.queues(), queue);
}

Batch Batch::reopen(Client client, std::string bid, std::string queue) {
  return Batch(std::move(client), std::move(bid), {}, std::move(queue), false);
}

Batch& Batch::callback(BatchEvent event, std::string job_class, Json args, const PushOptions& o) {
  auto known = Registry::global().find(job_class);
  if (known) return callback(event, *known, std::move(args), o);
  JobDescriptor elsewhere;  // Sidekiq's defaults for a class defined elsewhere
  elsewhere.name = job_class;
  return callback(event, elsewhere, std::move(args), o);
}

Batch& Batch::callback(BatchEvent event, const JobDescriptor& job, Json args,
                       const PushOptions& o) {
  Json item = client_.build(&job, job.name, std::move(args), o);
  item["cb_bid"] = bid_;
  item["cb_event"] = batch::event_name(event);
  Json entry{{"queue", item["queue"]}, {"payload", payload::dump(item)}};
  if (auto p = item.find("priority"); p != item.end()) entry["priority"] = *p;
  callbacks_[batch::event_name(event)] = std::move(entry);
  return *this;
}

Batch Batch::child(std::string description) {
  Batch c(client_, payload::new_jid(), std::move(description), {}, true);
  c.store_ = store_;
  c.parent_ = bid_;
  return c;
}

Status Batch::open() {
  if (!store_) return fail(Errc::invalid_argument, "batch: the client has no store");
  if (!has_batches_or_error()) return no_batches();
  const double now = to_epoch(client_.now());
  if (fresh_ && !parent_.empty()) {
    // The parent counts this batch before it exists, so it cannot complete
    // in between.
    auto st = store_->batch_update(parent_, now, [&](BatchTxn& t) -> Status {
      auto m = t.meta();
      if (!m) return m.error();
      if (!*m) return fail(Errc::not_found, "no parent batch " + parent_);
      return batch::add_members(t, Json(), {"batch:" + bid_}, {}, now);
    });
    if (!st) return st;
  }
  Json init{{"bid", bid_},
            {"description", description_},
            {"parent", parent_},
            {"workflow", false},
            {"callbacks", callbacks_}};
  open_member_ = "open:" + payload::new_jid();
  auto st = store_->batch_update(bid_, now, [&](BatchTxn& t) -> Status {
    if (!fresh_) {
      auto m = t.meta();
      if (!m) return m.error();
      if (!*m) return fail(Errc::not_found, "no batch " + bid_ + " (expired?)");
      if (!callbacks_.empty())
        if (auto cb = batch::set_callbacks(t, callbacks_, now); !cb) return cb;
    }
    return batch::add_members(t, init, {open_member_}, {}, now);
  });
  if (st) fresh_ = false;
  return st;
}

Status Batch::jobs(const std::function<void(Client&)>& fn) {
  if (auto st = open(); !st) return st;
  Client scoped = client_;
  scoped.batch_ = std::make_shared<const detail::BatchJoin>(detail::BatchJoin{bid_, store_});
  fn(scoped);
  // Closing: the open member succeeds; the batch may complete now.
  return batch::report(*store_, bid_, open_member_, batch::Outcome::succeeded, {},
                       to_epoch(client_.now()));
}

bool Batch::has_batches_or_error() const { return store_ && batch::has_batches(*store_); }

Error Batch::no_batches() const {
  return Error(Errc::unsupported,
               std::string(store_ ? store_->scheme() : "no") + " store keeps no batches");
}

// ---- Client ----------------------------------------------------------------

Result<BatchStatus> Client::batch_status(const std::string& bid) const {
  bool any = false;
  for (const auto& s : queues_->stores()) {
    if (!batch::has_batches(*s)) continue;
    any = true;
    auto rec = s->batch_read(bid);
    if (!rec && rec.code() == Errc::not_found) continue;
    if (!rec) return rec.error();
    return batch::status_of(*rec);
  }
  if (!any) return fail(Errc::unsupported, "no store of this client keeps batches");
  return fail(Errc::not_found, "no batch " + bid);
}

Status Client::cancel_batch(const std::string& bid) const {
  const double now = to_epoch(this->now());
  for (const auto& s : queues_->stores()) {
    if (!batch::has_batches(*s)) continue;
    std::vector<std::string> open;
    std::vector<batch::ParentNote> notes;
    auto st = s->batch_update(bid, now, [&](BatchTxn& t) -> Status {
      auto r = batch::cancel(t, now);
      if (!r) return r.status();
      open = std::move(r).value();
      return {};
    });
    if (!st && st.code() == Errc::not_found) continue;
    if (!st) return st;
    for (const auto& m : open) {
      if (m.rfind("batch:", 0) == 0) {
        if (auto c = cancel_batch(m.substr(6)); !c && c.code() != Errc::not_found) return c;
        continue;
      }
      auto state = cancel(m);
      if (!state) return state.status();
      if (*state == JobState::cancelled || *state == JobState::unknown)
        if (auto r = batch::report(*s, bid, m, batch::Outcome::cancelled, {}, now); !r) return r;
    }
    // What the cancel itself fired reaches the enclosing batches.
    return batch::report(*s, bid, "open:cancel", batch::Outcome::cancelled, {}, now);
  }
  return fail(Errc::not_found, "no batch " + bid);
}

}  // namespace errand
