// The Redis store, admin side: stats, history, queues, sets, processes and
// workers; pause, locks and signals (see store_impl.h).
#include "store/redis/store_impl.h"

namespace errand::redis_store {

Result<Stats> RedisStore::stats(double now) {
  auto r = client_.pipe({{"GET", key("stat:processed")},
                         {"GET", key("stat:failed")},
                         {"ZCARD", key("schedule")},
                         {"ZCARD", key("retry")},
                         {"ZCARD", key("dead")}});
  if (!r) return r.error();
  Stats s;
  s.processed = redis::integer((*r)[0].get());
  s.failed = redis::integer((*r)[1].get());
  s.scheduled = static_cast<std::size_t>(redis::integer((*r)[2].get()));
  s.retries = static_cast<std::size_t>(redis::integer((*r)[3].get()));
  s.dead = static_cast<std::size_t>(redis::integer((*r)[4].get()));
  auto procs = scan_set(key("processes"));
  if (!procs) return procs.error();
  auto qs = scan_set(key("queues"));
  if (!qs) return qs.error();
  std::vector<Argv> cmds;
  for (const auto& p : *procs) {
    cmds.push_back({"HGET", key(p), "busy"});
    cmds.push_back({"HGET", key("errand:alive"), p});
  }
  for (const auto& q : *qs) cmds.push_back({"LLEN", queue_key(q)});
  auto r2 = client_.pipe(cmds);
  if (!r2) return r2.error();
  for (std::size_t i = 0; i < procs->size(); ++i) {
    const redisReply* busy = (*r2)[2 * i].get();
    if (redis::is_nil(busy)) continue;  // hash expired: not a live process
    auto deadline = parse_double(redis::str((*r2)[2 * i + 1].get()));
    if (deadline && *deadline < now) continue;  // beat + ttl already past
    ++s.processes;
    s.busy += static_cast<std::size_t>(std::max<std::int64_t>(0, redis::integer(busy)));
  }
  for (std::size_t i = 2 * procs->size(); i < r2->size(); ++i)
    s.enqueued += static_cast<std::size_t>(redis::integer((*r2)[i].get()));
  return s;
}

Result<std::vector<std::int64_t>> RedisStore::history(std::string_view what, int days, double now) {
  if (what != "processed" && what != "failed")
    return fail(Errc::invalid_argument,
                "history: '" + std::string(what) + "' is not 'processed' or 'failed'");
  std::vector<std::int64_t> out;
  if (days <= 0) return out;
  Argv mget{"MGET"};
  for (int d = 0; d < days; ++d)
    mget.push_back(key("stat:" + std::string(what) + ":" + utc_date(now - 86400.0 * d)));
  auto r = client_.cmd(mget);
  if (!r) return r.error();
  for (std::size_t i = 0; i < redis::size(r->get()); ++i)
    out.push_back(redis::integer(redis::at(r->get(), i)));
  return out;
}

Result<std::vector<QueueInfo>> RedisStore::queues(double now) {
  auto names = scan_set(key("queues"));
  if (!names) return names.error();
  std::sort(names->begin(), names->end());
  std::vector<Argv> cmds;
  for (const auto& q : *names) {
    cmds.push_back({"LLEN", queue_key(q)});
    cmds.push_back({"LRANGE", queue_key(q), "-1", "-1"});
  }
  auto r = client_.pipe(cmds);
  if (!r) return r.error();
  auto paused = paused_queues();
  if (!paused) return paused.error();
  std::vector<QueueInfo> out;
  for (std::size_t i = 0; i < names->size(); ++i) {
    QueueInfo info;
    info.name = (*names)[i];
    info.size = static_cast<std::size_t>(redis::integer((*r)[2 * i].get()));
    info.paused = std::binary_search(paused->begin(), paused->end(), info.name);
    const redisReply* tail = (*r)[2 * i + 1].get();
    if (redis::size(tail) == 1) {
      Json doc = Json::parse(redis::str(redis::at(tail, 0)), nullptr, false);
      if (auto t = payload_time(doc, "enqueued_at")) info.latency = std::max(0.0, now - *t);
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<std::string>> RedisStore::queue_jobs(const std::string& queue,
                                                        std::size_t offset, std::size_t count) {
  std::vector<std::string> out;
  // Past any real list (and before offset + count could wrap): nothing.
  if (count == 0 || offset > kMaxIndex || count > kMaxIndex) return out;
  // Next to run is the tail: read the page counting back from the end.
  auto start = -static_cast<std::int64_t>(offset + count);
  auto stop = -static_cast<std::int64_t>(offset + 1);
  auto r = client_.cmd({"LRANGE", queue_key(queue), std::to_string(start), std::to_string(stop)});
  if (!r) return r.error();
  for (std::size_t i = redis::size(r->get()); i > 0; --i)
    out.emplace_back(redis::str(redis::at(r->get(), i - 1)));
  return out;
}

Status RedisStore::queue_delete(const std::string& queue, const std::string& jid) {
  const std::string k = queue_key(queue);
  constexpr std::int64_t kPage = 200;
  for (std::int64_t start = 0;; start += kPage) {
    auto r = client_.cmd({"LRANGE", k, std::to_string(start), std::to_string(start + kPage - 1)});
    if (!r) return r.status();
    const redisReply* page = r->get();
    for (std::size_t i = 0; i < redis::size(page); ++i) {
      std::string_view job = redis::str(redis::at(page, i));
      if (job.find(jid) == std::string_view::npos || jid_of(job) != jid) continue;
      auto rem = client_.cmd({"LREM", k, "1", std::string(job)});
      if (!rem) return rem.status();
      if (redis::integer(rem->get()) > 0) return {};
    }
    if (redis::size(page) < static_cast<std::size_t>(kPage)) break;
  }
  return fail(Errc::not_found, "no job " + jid + " waiting in queue '" + queue + "'");
}

Result<std::size_t> RedisStore::set_size(SetKind kind) {
  auto r = client_.cmd({"ZCARD", set_key(kind)});
  if (!r) return r.error();
  return static_cast<std::size_t>(redis::integer(r->get()));
}

Result<std::vector<SetEntry>> RedisStore::set_range(SetKind kind, std::size_t offset,
                                                    std::size_t count) {
  std::vector<SetEntry> out;
  if (count == 0 || offset > kMaxIndex || count > kMaxIndex) return out;
  auto r = client_.cmd({kind == SetKind::dead ? "ZREVRANGE" : "ZRANGE", set_key(kind),
                        std::to_string(offset), std::to_string(offset + count - 1), "WITHSCORES"});
  if (!r) return r.error();
  const redisReply* a = r->get();
  for (std::size_t i = 0; i + 1 < redis::size(a); i += 2) {
    SetEntry e;
    e.payload = std::string(redis::str(redis::at(a, i)));
    e.score = parse_double(redis::str(redis::at(a, i + 1))).value_or(0);
    e.jid = jid_of(e.payload);
    out.push_back(std::move(e));
  }
  return out;
}

Result<SetEntry> RedisStore::set_find(SetKind kind, double score, const std::string& jid) {
  const std::string s = number_text(score);
  auto r = client_.cmd({"ZRANGEBYSCORE", set_key(kind), s, s});
  if (!r) return r.error();
  for (std::size_t i = 0; i < redis::size(r->get()); ++i) {
    std::string_view member = redis::str(redis::at(r->get(), i));
    if (member.find(jid) != std::string_view::npos && jid_of(member) == jid)
      return SetEntry{score, jid, std::string(member)};
  }
  return fail(Errc::not_found,
              "no entry " + s + "-" + jid + " in the " + std::string(to_string(kind)) + " set");
}

Status RedisStore::set_delete(SetKind kind, double score, const std::string& jid) {
  auto found = set_find(kind, score, jid);
  if (!found) return found.status();
  auto r = client_.cmd({"ZREM", set_key(kind), found->payload});
  if (!r) return r.status();
  if (redis::integer(r->get()) == 0)
    return fail(Errc::not_found, "entry " + number_text(score) + "-" + jid + " already gone");
  return {};
}

Status RedisStore::set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                            const std::string& queue, const std::string& new_payload, double now,
                            const DeadLimits& limits) {
  if (to == MoveTo::queue && queue.empty())
    return fail(Errc::invalid_argument, "set_move: empty queue name");
  auto r =
      client_.eval(set_move_, {set_key(kind), key("dead"), key("queues"), queue_key(queue)},
                   {number_text(score), jid, to == MoveTo::queue ? "queue" : "dead", new_payload,
                    queue, number_text(now), number_text(now - limits.max_age_seconds),
                    std::to_string(-static_cast<std::int64_t>(limits.max_jobs))});
  if (!r) return r.status();
  if (redis::integer(r->get()) == 0)
    return fail(Errc::not_found, "no entry " + number_text(score) + "-" + jid + " in the " +
                                     std::string(to_string(kind)) + " set");
  return {};
}

Result<std::vector<ProcessRecord>> RedisStore::processes(double now) {
  auto live = live_processes(now);
  if (!live) return live.error();
  return std::move(live).value();
}

Result<std::vector<WorkRecord>> RedisStore::workers(double now) {
  auto live = live_processes(now);
  if (!live) return live.error();
  std::vector<Argv> cmds;
  for (const auto& p : *live) {
    cmds.push_back({"HGETALL", key(p.identity + ":workers")});
    cmds.push_back({"HGETALL", key(p.identity + ":work")});
  }
  auto r = client_.pipe(cmds);
  if (!r) return r.error();
  std::vector<WorkRecord> out;
  for (std::size_t i = 0; i < live->size(); ++i) {
    // 6.4 writes :workers, 6.5+ only :work; errand writes both.
    const redisReply* h = (*r)[2 * i].get();
    if (redis::size(h) == 0) h = (*r)[2 * i + 1].get();
    std::vector<WorkRecord> mine;
    for (std::size_t j = 0; j + 1 < redis::size(h); j += 2) {
      WorkRecord w;
      w.process = (*live)[i].identity;
      w.thread = std::string(redis::str(redis::at(h, j)));
      Json doc = payload::parse(redis::str(redis::at(h, j + 1))).value_or(Json());
      if (!doc.is_object()) continue;
      if (auto q = doc.find("queue"); q != doc.end() && q->is_string()) w.queue = *q;
      if (auto p = doc.find("payload"); p != doc.end())
        w.payload = p->is_string() ? p->get<std::string>() : p->dump();
      if (auto t = doc.find("run_at"); t != doc.end() && t->is_number())
        w.run_at = t->get<double>();
      if (auto t = doc.find("errand_run_at"); t != doc.end() && t->is_number())
        w.run_at = t->get<double>();
      mine.push_back(std::move(w));
    }
    std::sort(mine.begin(), mine.end(),
              [](const WorkRecord& a, const WorkRecord& b) { return a.thread < b.thread; });
    out.insert(out.end(), std::make_move_iterator(mine.begin()),
               std::make_move_iterator(mine.end()));
  }
  return out;
}

Result<std::vector<std::string>> RedisStore::paused_queues() {
  auto names = scan_set(key("errand:paused"));
  if (!names) return names.error();
  std::sort(names->begin(), names->end());
  return std::move(names).value();
}

Result<bool> RedisStore::lock_acquire(const std::string& name, const std::string& holder,
                                      double now, double expires_at) {
  auto r = client_.eval(lock_acquire_, {key("errand:lock:" + name)},
                        {holder, number_text(now), number_text(expires_at)});
  if (!r) return r.error();
  return redis::integer(r->get()) == 1;
}

Result<bool> RedisStore::lock_extend(const std::string& name, const std::string& holder, double now,
                                     double expires_at) {
  auto r = client_.eval(lock_extend_, {key("errand:lock:" + name)},
                        {holder, number_text(expires_at), number_text(now)});
  if (!r) return r.error();
  return redis::integer(r->get()) == 1;
}

Status RedisStore::signal(const std::string& identity, const std::string& sig) {
  const std::string k = key(identity + "-signals");
  auto r = client_.multi({{"LPUSH", k, sig}, {"EXPIRE", k, std::to_string(kSignalsTtl)}});
  return r ? Status() : r.status();
}

Result<std::vector<std::string>> RedisStore::scan_set(const std::string& k) {
  std::vector<std::string> out;
  std::string cursor = "0";
  do {
    auto r = client_.cmd({"SSCAN", k, cursor, "COUNT", "1000"});
    if (!r) return r.error();
    const redisReply* a = r->get();
    if (redis::size(a) != 2) return fail(Errc::internal, "redis: unexpected SSCAN reply for " + k);
    cursor = std::string(redis::str(redis::at(a, 0)));
    const redisReply* members = redis::at(a, 1);
    for (std::size_t i = 0; i < redis::size(members); ++i)
      out.emplace_back(redis::str(redis::at(members, i)));
  } while (cursor != "0");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// redis-layout.md §7: members of `processes` whose hash expired are removed; errand
// processes whose deadline (beat + ttl) is before `now` are left out.
Result<std::vector<ProcessRecord>> RedisStore::live_processes(double now) {
  auto ids = scan_set(key("processes"));
  if (!ids) return ids.error();
  std::vector<Argv> cmds;
  for (const auto& id : *ids) {
    cmds.push_back({"HMGET", key(id), "info", "busy", "beat", "quiet", "rss"});
    cmds.push_back({"HGET", key("errand:alive"), id});
  }
  auto r = client_.pipe(cmds);
  if (!r) return r.error();
  std::vector<ProcessRecord> out;
  Argv srem{"SREM", key("processes")};
  for (std::size_t i = 0; i < ids->size(); ++i) {
    const redisReply* h = (*r)[2 * i].get();
    if (redis::size(h) != 5 || redis::is_nil(redis::at(h, 0))) {
      srem.push_back((*ids)[i]);
      continue;
    }
    if (auto deadline = parse_double(redis::str((*r)[2 * i + 1].get()));
        deadline && *deadline < now)
      continue;
    ProcessRecord p;
    p.identity = (*ids)[i];
    p.info = payload::parse(redis::str(redis::at(h, 0))).value_or(Json());
    if (p.info.is_discarded()) p.info = Json();
    p.busy = static_cast<std::size_t>(std::max<std::int64_t>(0, redis::integer(redis::at(h, 1))));
    p.beat = parse_double(redis::str(redis::at(h, 2))).value_or(0);
    p.quiet = redis::str(redis::at(h, 3)) == "true";
    p.rss_kb = redis::integer(redis::at(h, 4));
    out.push_back(std::move(p));
  }
  if (srem.size() > 2) {
    auto pruned = client_.cmd(srem);
    if (!pruned) return pruned.error();
  }
  return out;
}

}  // namespace errand::redis_store
