// The PostgreSQL store's admin reads and writes: queues and the sorted sets,
// as the CLI and the dashboard see them.
#include <algorithm>
#include <limits>

#include "store/memory/store_util.h"
#include "store/postgres/store_impl.h"

namespace errand::pg {
namespace {

// Scores come back from the UI as text ("<score>-<jid>"); match within a
// millisecond rather than bit for bit.
constexpr double kScoreSlack = 1e-3;

std::int64_t clamp(std::size_t n) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(n, std::numeric_limits<std::int64_t>::max()));
}

Error not_in_set(SetKind kind, double score, const std::string& jid) {
  return Error(Errc::not_found, "no entry " + store_util::format_score(score) + "-" + jid +
                                    " in the " + std::string(to_string(kind)) + " set");
}

Params entry_params(SetKind kind, double score, const std::string& jid) {
  Params p;
  p.add(jid).add(state_name(kind)).add(score - kScoreSlack).add(score + kScoreSlack);
  return p;
}

}  // namespace

const char* state_name(SetKind kind) {
  switch (kind) {
    case SetKind::scheduled:
      return "scheduled";
    case SetKind::retry:
      return "retry";
    case SetKind::dead:
      return "dead";
  }
  return "?";
}

Result<std::vector<QueueInfo>> PgStore::queues(double now) {
  return guarded("queues", [&]() -> Result<std::vector<QueueInfo>> {
    Lease conn = lease();
    auto q = conn->run(kQueues, Params());
    std::vector<QueueInfo> out;
    for (int r = 0; r < q.rows(); ++r) {
      QueueInfo info{q.str(r, 0), static_cast<std::size_t>(q.integer(r, 2)), 0, q.boolean(r, 1)};
      if (info.size > 0 && !q.null(r, 3)) {
        // Sidekiq's latency reads the next job's enqueued_at; the column is
        // the fallback for payloads without one.
        const double enqueued = store_util::enqueued_at(q.text(r, 3)).value_or(q.real(r, 4));
        info.latency = std::max(0.0, now - enqueued);
      }
      out.push_back(std::move(info));
    }
    return out;
  });
}

Result<std::vector<std::string>> PgStore::queue_jobs(const std::string& queue, std::size_t offset,
                                                     std::size_t count) {
  return guarded("queue_jobs", [&]() -> Result<std::vector<std::string>> {
    Lease conn = lease();
    auto q = conn->run(kQueueJobs, Params().add(queue).add(clamp(count)).add(clamp(offset)));
    std::vector<std::string> out;
    for (int r = 0; r < q.rows(); ++r) out.push_back(q.str(r, 0));
    return out;
  });
}

Status PgStore::queue_delete(const std::string& queue, const std::string& jid) {
  return guarded("queue_delete", [&]() -> Status {
    Lease conn = lease();
    if (conn->run(kQueueDelete, Params().add(queue).add(jid)).affected() == 0)
      return Error(Errc::not_found, "no job " + jid + " waiting in queue '" + queue + "'");
    return {};
  });
}

Status PgStore::clear_queue(const std::string& queue) {
  return guarded("clear_queue", [&]() -> Status {
    Lease conn = lease();
    conn->run(kClearQueue, Params().add(queue));
    return {};
  });
}

Result<std::size_t> PgStore::set_size(SetKind kind) {
  return guarded("set_size", [&]() -> Result<std::size_t> {
    Lease conn = lease();
    return static_cast<std::size_t>(
        conn->run(kSetSize, Params().add(state_name(kind))).integer(0, 0));
  });
}

Result<std::vector<SetEntry>> PgStore::set_range(SetKind kind, std::size_t offset,
                                                 std::size_t count) {
  return guarded("set_range", [&]() -> Result<std::vector<SetEntry>> {
    Lease conn = lease();
    // The dead set reads newest first, as Sidekiq's morgue.
    auto q = conn->run(kind == SetKind::dead ? kSetRangeDesc : kSetRangeAsc,
                       Params().add(state_name(kind)).add(clamp(count)).add(clamp(offset)));
    std::vector<SetEntry> out;
    for (int r = 0; r < q.rows(); ++r)
      out.push_back(SetEntry{q.real(r, 0), q.str(r, 1), q.str(r, 2)});
    return out;
  });
}

Result<SetEntry> PgStore::set_find(SetKind kind, double score, const std::string& jid) {
  return guarded("set_find", [&]() -> Result<SetEntry> {
    Lease conn = lease();
    auto q = conn->run(kSetFind, entry_params(kind, score, jid));
    if (q.rows() == 0) return not_in_set(kind, score, jid);
    return SetEntry{q.real(0, 0), q.str(0, 1), q.str(0, 2)};
  });
}

Status PgStore::set_delete(SetKind kind, double score, const std::string& jid) {
  return guarded("set_delete", [&]() -> Status {
    Lease conn = lease();
    if (conn->run(kSetDelete, entry_params(kind, score, jid)).affected() == 0)
      return not_in_set(kind, score, jid);
    return {};
  });
}

Status PgStore::set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                         const std::string& queue, const std::string& new_payload, double now,
                         const DeadLimits& limits) {
  if (to == MoveTo::queue && queue.empty())
    return fail(Errc::invalid_argument, "set_move: empty queue name");
  auto st = guarded("set_move", [&]() -> Status {
    Lease conn = lease();
    if (to == MoveTo::queue) {
      // A new row id: the job joins the tail of the queue, as a push would.
      auto p = entry_params(kind, score, jid);
      p.add(queue).add(new_payload).add(now).add(channel_);
      if (conn->run(kSetMoveQueue, p).rows() == 0) return not_in_set(kind, score, jid);
      return {};
    }
    Txn txn(*conn);
    auto p = entry_params(kind, score, jid);
    p.add(new_payload).add(now);
    if (conn->run(kSetMoveDead, p).affected() == 0) return not_in_set(kind, score, jid);
    trim_dead(*conn, now, limits);
    txn.commit();
    return {};
  });
  if (st.ok() && to == MoveTo::queue) listener_.wake();
  return st;
}

Status PgStore::set_clear(SetKind kind) {
  return guarded("set_clear", [&]() -> Status {
    Lease conn = lease();
    conn->run(kSetClear, Params().add(state_name(kind)));
    return {};
  });
}

}  // namespace errand::pg
