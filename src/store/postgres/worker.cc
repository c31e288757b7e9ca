// The PostgreSQL store's job transitions: push, fetch, ack, requeue, retry,
// kill, reschedule, promote_due, rescue_orphans.
#include <algorithm>
#include <limits>
#include <set>

#include "store/memory/store_util.h"
#include "store/postgres/store_impl.h"

namespace errand::pg {

Params push_params(std::span<const PushItem> jobs, double now, const std::string& channel) {
  std::vector<std::string_view> jids, queues, payloads, ready;
  std::vector<double> ats;
  std::vector<std::int64_t> priorities;
  std::set<std::string_view> seen;
  for (const auto& item : jobs) {
    if (item.at == 0 && item.queue.empty())
      throw Error(Errc::invalid_argument, "push: job " + item.jid + " has an empty queue name");
    jids.push_back(item.jid);
    queues.push_back(item.queue);
    payloads.push_back(item.payload);
    ats.push_back(item.at);
    priorities.push_back(item.priority);
    if (item.at == 0 && seen.insert(item.queue).second) ready.push_back(item.queue);
  }
  Params p;
  p.add(text_array(jids))
      .add(text_array(queues))
      .add(text_array(payloads))
      .add(number_array(ats))
      .add(number_array(priorities))
      .add(now)
      .add(text_array(ready))
      .add(channel);
  return p;
}

Status PgStore::push(const PushParams& p) {
  if (p.jobs.empty()) return {};
  auto st = guarded("push", [&]() -> Status {
    auto params = push_params(p.jobs, p.now, channel_);
    Lease conn = lease();
    conn->run(kPush, params);
    return {};
  });
  // Our own fetchers need not wait for the round trip through the server.
  if (st.ok()) listener_.wake();
  return st;
}

Result<std::vector<Fetched>> PgStore::fetch(const FetchParams& p) {
  const std::string owner(p.owner);
  return guarded("fetch", [&]() -> Result<std::vector<Fetched>> {
    std::vector<Fetched> out;
    if (p.max == 0 || p.queues.empty()) return out;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + p.wait;
    if (p.wait.count() > 0) listener_.ensure_started();
    for (;;) {
      const std::uint64_t seen = listener_.generation();
      {
        Lease conn = lease();
        claim(*conn, p.queues, p.max, owner, store_util::advanced(p.now, start), out);
      }
      if (!out.empty()) return out;
      const auto tick = std::chrono::steady_clock::now();
      if (tick >= deadline) return out;
      listener_.wait(seen, std::min(deadline, tick + options_.poll_interval));
    }
  });
}

// Claims up to `max` jobs across `queues` in order: one statement per queue,
// each its own transaction (a claim is complete by itself).
void PgStore::claim(Conn& conn, std::span<const std::string> queues, std::size_t max,
                    const std::string& owner, double now, std::vector<Fetched>& out) {
  for (const auto& queue : queues) {
    if (out.size() >= max) break;
    auto res = conn.run(kClaim, Params().add(queue).add(max - out.size()).add(owner).add(now));
    struct Row {
      std::int64_t priority, id;
      int row;
    };
    std::vector<Row> rows;
    for (int r = 0; r < res.rows(); ++r)
      rows.push_back(Row{res.integer(r, 0), res.integer(r, 1), r});
    // RETURNING has no defined order: restore the queue's.
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return a.priority != b.priority ? a.priority > b.priority : a.id < b.id;
    });
    for (const auto& r : rows) out.push_back(Fetched{queue, res.str(r.row, 2), r.id, owner});
  }
}

Params ack_params(std::span<const Fetched> jobs) {
  std::vector<std::int64_t> ids;
  std::vector<std::string_view> owners;
  for (const auto& job : jobs) {
    ids.push_back(job.id);
    owners.push_back(job.owner);
  }
  Params p;
  p.add(number_array(ids)).add(text_array(owners));
  return p;
}

Status PgStore::ack(std::span<const Fetched> jobs) {
  if (jobs.empty()) return {};
  return guarded("ack", [&]() -> Status {
    Lease conn = lease();
    conn->run(kAck, ack_params(jobs));
    return {};
  });
}

Status PgStore::requeue(const RequeueParams& p) {
  if (p.jobs.empty()) return {};
  auto st = guarded("requeue", [&]() -> Status {
    std::vector<std::int64_t> ids;
    std::vector<std::string_view> queues;
    for (const auto& job : p.jobs)
      if (job.id != 0) ids.push_back(job.id);
    Lease conn = lease();
    Txn txn(*conn);
    // If a claim is gone (rescued, acked) there is nothing to do for it.
    if (!ids.empty()) conn->run(kRequeueClaimed, Params().add(number_array(ids)));
    // Jobs this store never handed out go in front, in the batch's order.
    for (auto it = p.jobs.rbegin(); it != p.jobs.rend(); ++it) {
      if (it->id != 0) continue;
      auto doc = Json::parse(it->payload, nullptr, /*allow_exceptions=*/false);
      std::string jid;
      if (doc.is_object() && doc.contains("jid") && doc["jid"].is_string())
        jid = doc["jid"].get<std::string>();
      conn->run(kRequeueFront, Params().add(jid).add(it->queue).add(it->payload).add(p.now));
    }
    for (const auto& job : p.jobs) queues.push_back(job.queue);
    conn->run(kNotify, Params().add(channel_).add(text_array(queues)));
    txn.commit();
    return {};
  });
  if (st.ok()) listener_.wake();
  return st;
}

void PgStore::park(Conn& conn, const Fetched& job, const std::string& jid,
                   const std::string& payload, const char* state, double score) {
  conn.run(kPark,
           Params().add(job.id).add(state).add(jid).add(payload).add(score).add(job.queue).add(
               job.owner));
}

// Sidekiq's dead-set trim (WIRE §6.4): drop entries older than max_age, then
// keep at most max_jobs - 1 (its ZREMRANGEBYRANK dead 0 -max).
void PgStore::trim_dead(Conn& conn, double now, const DeadLimits& limits) {
  const auto max = static_cast<std::int64_t>(
      std::min<std::size_t>(limits.max_jobs, std::numeric_limits<std::int64_t>::max()));
  const std::int64_t keep = max > 0 ? max - 1 : 0;
  conn.run(kTrimDead, Params().add(now - limits.max_age_seconds).add(keep));
}

Status PgStore::retry(const RetryParams& p) {
  return guarded("retry", [&]() -> Status {
    Lease conn = lease();
    park(*conn, p.job, p.jid, p.payload, "retry", p.at);
    return {};
  });
}

Status PgStore::kill(const KillParams& p) {
  return guarded("kill", [&]() -> Status {
    Lease conn = lease();
    Txn txn(*conn);
    park(*conn, p.job, p.jid, p.payload, "dead", p.now);
    trim_dead(*conn, p.now, p.limits);
    txn.commit();
    return {};
  });
}

// One statement: the claim becomes a scheduled entry, so a crash cannot run
// the job twice (the default pushes, then acks).
Status PgStore::reschedule(const RescheduleParams& p) {
  return guarded("reschedule", [&]() -> Status {
    Lease conn = lease();
    park(*conn, p.job, p.jid, p.payload, "scheduled", p.at);
    return {};
  });
}

Result<std::size_t> PgStore::promote_due(const PromoteParams& p) {
  auto moved = guarded("promote_due", [&]() -> Result<std::size_t> {
    Lease conn = lease();
    // Cheap read first: pollers in every process call this every few
    // seconds, and most calls find nothing due.
    if (p.limit == 0 || !conn->run(kPromoteProbe, Params().add(p.now)).boolean(0, 0))
      return std::size_t{0};
    Txn txn(*conn);
    // Rows another process is promoting right now are skipped, not waited for.
    auto rows = conn->run(kPromoteSelect, Params().add(p.now).add(p.limit));
    std::vector<std::int64_t> ids, bad;
    std::vector<std::string> queues, payloads;
    for (int r = 0; r < rows.rows(); ++r) {
      auto promoted = store_util::promote_payload(rows.text(r, 1), p.now);
      // Not a JSON object: park it in the dead set (as Sidekiq does with
      // unparseable jobs) instead of tripping over it on every poll.
      if (!promoted) {
        bad.push_back(rows.integer(r, 0));
        continue;
      }
      ids.push_back(rows.integer(r, 0));
      queues.push_back(std::move(promoted->queue));
      payloads.push_back(std::move(promoted->payload));
    }
    if (!bad.empty()) conn->run(kPromoteDead, Params().add(number_array(bad)).add(p.now));
    if (!ids.empty())
      conn->run(kPromoteApply, Params()
                                   .add(number_array(ids))
                                   .add(text_array(queues))
                                   .add(text_array(payloads))
                                   .add(p.now)
                                   .add(channel_));
    txn.commit();
    return ids.size();
  });
  if (moved.ok() && *moved > 0) listener_.wake();
  return moved;
}

Result<std::size_t> PgStore::rescue_orphans(const RescueParams& p) {
  auto moved = guarded("rescue_orphans", [&]() -> Result<std::size_t> {
    Lease conn = lease();
    if (conn->run(kRescueProbe, Params()).rows() == 0) return std::size_t{0};
    // Orphaned: the owner's heartbeat expired, or the owner never registered
    // (or was pruned) and the claim is older than the grace. Rows keep their
    // id, so rescued jobs run before later pushes.
    auto res = conn->run(kRescue, Params().add(p.now).add(p.now - p.grace_seconds).add(channel_));
    std::size_t count = 0;
    for (int r = 0; r < res.rows(); ++r) count += static_cast<std::size_t>(res.integer(r, 0));
    return count;
  });
  if (moved.ok() && *moved > 0) listener_.wake();
  return moved;
}

}  // namespace errand::pg
