// The Redis store: Sidekiq 6.4.1's layout (docs/redis-layout.md) plus errand's
// reliable fetch.
//
// What a Ruby Sidekiq sharing the server sees is exactly Sidekiq's keys:
// `queues`, `queue:<q>` (LPUSH at the head, run from the tail), `schedule`,
// `retry`, `dead`, `processes`, `<identity>` hashes, `<identity>:workers` and
// `:work`, `<identity>-signals`, `stat:*`. errand adds only keys under
// `errand:` (listed in lua_scripts.h), which Sidekiq never scans or lists;
// the in-progress queues are not added to `queues`.
//
// Reliable fetch: a claimed job moves atomically from `queue:<q>` to the
// owner's list `errand:inprogress:<owner>:queue:<q>` (RPOPLPUSH in a Lua script
// for batches, BRPOPLPUSH while waiting). ack LREMs it from there; requeue,
// retry and kill remove it as they write it elsewhere; rescue_orphans moves the
// lists of dead owners back. The claim's list is found from Fetched::id, this
// store instance's numeric handle for Fetched::owner; a Fetched with an
// unknown id (one made by hand) is looked up across all owners.
//
// Lost fetch replies: a fetch that fails on the connection (Redis restarting,
// a network cut) may still have run in Redis, leaving jobs in the owner's
// in-progress lists that nobody in this process knows about; the owner is
// alive, so the rescuer would never return them. The store therefore keeps
// the claims it handed out and has not settled (ack, requeue, retry, kill),
// and after such a failure its next fetch for that owner first puts every
// claim it did not hand out back in its queue (reconcile_claims).
//
// Every key name, and nothing else, gets the namespace prefix (redis-layout.md §9).
#include "store/redis/redis_store.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "errand/clock.h"
#include "errand/payload_limits.h"
#include "store/redis/connection.h"
#include "store/redis/lua_scripts.h"
#include "store/redis/status.h"

namespace errand {
namespace {

/// The largest list or set index a range read asks for: Redis counts in
/// signed 64 bits, and offset + count must not wrap.
constexpr std::size_t kMaxIndex = std::size_t{1} << 40;

using redis::Argv;
using redis::Reply;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::int64_t kDailyStatTtl = 157'680'000;  // 5 × 365 days (redis-layout.md §8)
constexpr int kWorkersTtl = 60;
constexpr int kSignalsTtl = 60;
constexpr std::size_t kPromoteChunk = 100;  // entries per promote script run
// While waiting on several queues, fetch blocks on the first one for at most
// this long, then checks all of them again (Redis cannot atomically move from
// whichever of several lists gets a job first).
constexpr milliseconds kMultiQueueSlice{20};

double wall_now() { return to_epoch(std::chrono::system_clock::now()); }

// Shortest text that reads back as the same double (sorted-set scores).
std::string number_text(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// A payload timestamp: always with a decimal point, as Ruby's Float#to_s.
std::string float_text(double v) {
  std::string s = number_text(v);
  if (s.find_first_of(".eE") == std::string::npos && std::isfinite(v)) s += ".0";
  return s;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (res.ec != std::errc()) return std::nullopt;
  return v;
}

// "YYYY-MM-DD" of an epoch time, UTC.
std::string utc_date(double epoch) {
  std::time_t t = static_cast<std::time_t>(std::floor(epoch));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

// A payload timestamp field in seconds: floats are seconds, integers above
// 10^11 milliseconds (Sidekiq 8).
std::optional<double> payload_time(const Json& doc, const char* key) {
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  if (it->is_number_integer() && v > 1e11) v /= 1000.0;
  return v;
}

std::string jid_of(std::string_view payload) {
  Json doc = Json::parse(payload, nullptr, false);
  if (doc.is_object()) {
    auto it = doc.find("jid");
    if (it != doc.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

class RedisStore final : public Store {
 public:
  explicit RedisStore(const RedisOptions& o)
      : client_(redis::Endpoint{o.host, o.port, o.db, o.username, o.password, o.connect_timeout,
                                o.command_timeout},
                o.pool_size),
        prefix_(o.ns.empty() ? std::string() : o.ns + ":"),
        fetch_(redis::lua::kFetch),
        find_claim_(redis::lua::kFindClaim),
        requeue_(redis::lua::kRequeue),
        promote_(redis::lua::kPromote),
        rescue_(redis::lua::kRescue),
        set_move_(redis::lua::kSetMove),
        lock_acquire_(redis::lua::kLockAcquire),
        lock_release_(redis::lua::kLockRelease),
        lock_extend_(redis::lua::kLockExtend),
        status_(client_, prefix_) {}

  Status ping() {
    auto r = client_.cmd({"PING"});
    return r ? Status() : r.status();
  }

  std::string_view scheme() const override { return "redis"; }

  StoreCapabilities capabilities() const override {
    StoreCapabilities c;
    c.ordering = false;  // Sidekiq's lists: FIFO, priority ignored
    c.pause = true;
    c.locks = true;
    c.lock_extend = true;
    // A waiting fetch blocks in Redis (BRPOPLPUSH) on its first queue and
    // rechecks the others every kMultiQueueSlice.
    c.listen_notify = true;
    c.status = true;  // errand:status:<jid> hashes (status.cc)
    return c;
  }

  // ---- enqueue -------------------------------------------------------------

  Status push(std::span<const PushItem> jobs) override {
    if (jobs.empty()) return {};
    // Ready jobs: one SADD + one multi-value LPUSH per queue, in the order the
    // queues first appear. LPUSH a b c leaves a nearest the tail, so the first
    // job runs first (redis-layout.md §3). Scheduled: one ZADD. One MULTI, so the batch
    // lands whole.
    std::vector<std::string> order;
    std::map<std::string, Argv> lpush;
    Argv zadd{"ZADD", key("schedule")};
    for (const auto& job : jobs) {
      if (job.at > 0) {
        zadd.push_back(number_text(job.at));
        zadd.push_back(job.payload);
        continue;
      }
      if (job.queue.empty())
        return fail(Errc::invalid_argument, "push: job " + job.jid + " has an empty queue name");
      auto [it, inserted] = lpush.try_emplace(job.queue);
      if (inserted) {
        order.push_back(job.queue);
        it->second = {"LPUSH", queue_key(job.queue)};
      }
      it->second.push_back(job.payload);
    }
    std::vector<Argv> cmds;
    for (const auto& q : order) {
      cmds.push_back({"SADD", key("queues"), q});
      cmds.push_back(std::move(lpush[q]));
    }
    if (zadd.size() > 2) cmds.push_back(std::move(zadd));
    auto r = client_.multi(cmds);
    return r ? Status() : r.status();
  }

  // ---- worker side ---------------------------------------------------------

  Result<std::vector<Fetched>> fetch(std::span<const std::string> queues, std::size_t max,
                                     milliseconds wait, const std::string& owner) override {
    std::vector<Fetched> out;
    if (queues.empty() || max == 0) return out;
    if (owner.empty()) return fail(Errc::invalid_argument, "fetch: empty owner");
    // Strict order: drop repeated names (weighted lists shuffled by the caller).
    std::vector<std::string> qs;
    for (const auto& q : queues)
      if (std::find(qs.begin(), qs.end(), q) == qs.end()) qs.push_back(q);
    const std::int64_t id = owner_id(owner);
    if (auto st = reconcile_claims(owner); !st) return st.error();
    // Reconciling waits for fetches in flight: their claims are not tracked yet.
    std::shared_lock in_flight(fetch_rw_);
    const auto deadline = steady_clock::now() + wait;

    Argv keys{key("errand:inprogress"), owner_set_key(owner)};
    Argv args{owner, float_text(wall_now()), std::to_string(max)};
    for (const auto& q : qs) {
      keys.push_back(queue_key(q));
      keys.push_back(claim_key(owner, q));
      args.push_back(q);
    }
    bool registered = false;
    for (;;) {
      args[1] = float_text(wall_now());
      auto r = client_.eval(fetch_, keys, args);
      if (!r) {
        mark_suspect(owner);  // the script may have run: claims without a reply
        return r.error();
      }
      const redisReply* reply = r->get();
      if (redis::size(reply) > 0) {
        for (std::size_t i = 0; i + 1 < redis::size(reply); i += 2) {
          auto qi = static_cast<std::size_t>(redis::integer(redis::at(reply, i)));
          if (qi < 1 || qi > qs.size())
            return fail(Errc::internal,
                        "redis fetch script returned queue index " + std::to_string(qi));
          out.push_back(
              Fetched{qs[qi - 1], std::string(redis::str(redis::at(reply, i + 1))), id, owner});
        }
        track_claims(owner, out);
        return out;
      }
      auto remaining = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
      if (remaining.count() <= 0) return out;

      // Nothing ready: wait on the first queue with BRPOPLPUSH straight into
      // the in-progress list. The owner is registered for that queue first, so
      // a crash right after the move still leaves the job rescuable.
      const std::string& q = qs.front();
      if (!registered) {
        auto reg = client_.pipe({{"SADD", owner_set_key(owner), q},
                                 {"HSET", key("errand:inprogress"), owner, args[1]}});
        if (!reg) return reg.error();
        registered = true;
      }
      auto block = qs.size() == 1 ? remaining : std::min(remaining, kMultiQueueSlice);
      block = std::max(block, milliseconds(1));
      char timeout[32];
      std::snprintf(timeout, sizeof timeout, "%.3f", static_cast<double>(block.count()) / 1000.0);
      auto got =
          client_.blocking({"BRPOPLPUSH", queue_key(q), claim_key(owner, q), timeout}, block);
      if (!got) {
        mark_suspect(owner);  // BRPOPLPUSH may have moved a job before the cut
        return got.error();
      }
      if (!redis::is_nil(got->get())) {
        out.push_back(Fetched{q, std::string(redis::str(got->get())), id, owner});
        track_claims(owner, out);
        return out;
      }
    }
  }

  Status ack(std::span<const Fetched> jobs) override {
    // LREM -1 searches from the tail, where the oldest claims are (the fetch
    // pushes new ones at the head), so a finished job is found in a few steps.
    std::vector<Argv> cmds;
    for (const auto& job : jobs) {
      auto k = claim_key_of(job);
      if (!k) return k.status();
      if (!k->empty()) cmds.push_back({"LREM", *k, "-1", job.payload});
    }
    auto r = client_.pipe(cmds);
    if (!r) return r.status();
    for (const auto& job : jobs) settle_claim(job);
    return {};
  }

  Status requeue(std::span<const Fetched> jobs) override {
    // RPUSH puts a job at the tail, next to run; pushing the batch in reverse
    // leaves the first job of `jobs` running first.
    std::vector<std::pair<Argv, Argv>> calls;
    for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
      auto k = claim_key_of(*it);
      if (!k) return k.status();
      if (k->empty()) continue;  // no claim any more: already back in a queue
      calls.push_back({{*k, queue_key(it->queue), key("queues")}, {it->payload, it->queue}});
    }
    auto r = client_.eval_many(requeue_, calls);
    if (!r) return r.status();
    for (const auto& job : jobs) settle_claim(job);
    return {};
  }

  Status retry(const Fetched& job, const std::string&, const std::string& payload,
               double at) override {
    auto k = claim_key_of(job);
    if (!k) return k.status();
    std::vector<Argv> cmds;
    if (!k->empty()) cmds.push_back({"LREM", *k, "-1", job.payload});
    cmds.push_back({"ZADD", key("retry"), number_text(at), payload});
    auto r = client_.multi(cmds);
    if (!r) return r.status();
    settle_claim(job);
    return {};
  }

  Status kill(const Fetched& job, const std::string&, const std::string& payload, double now,
              const DeadLimits& limits) override {
    auto k = claim_key_of(job);
    if (!k) return k.status();
    std::vector<Argv> cmds;
    if (!k->empty()) cmds.push_back({"LREM", *k, "-1", job.payload});
    append_dead(cmds, payload, now, limits);
    auto r = client_.multi(cmds);
    if (!r) return r.status();
    settle_claim(job);
    return {};
  }

  Result<std::size_t> promote_due(double now, std::size_t limit) override {
    std::size_t total = 0;
    const std::string stamp = float_text(now);
    while (total < limit) {
      std::size_t chunk = std::min(kPromoteChunk, limit - total);
      auto r = client_.eval(promote_, {key("retry"), key("schedule"), key("queues")},
                            {number_text(now), std::to_string(chunk), stamp, prefix_});
      if (!r) return r.error();
      auto moved = static_cast<std::size_t>(redis::integer(r->get()));
      total += moved;
      if (moved < chunk) break;
    }
    return total;
  }

  Result<std::size_t> rescue_orphans(double now, double grace_seconds) override {
    auto r = client_.eval(rescue_, {key("errand:inprogress"), key("errand:alive"), key("queues")},
                          {number_text(now), number_text(grace_seconds), prefix_});
    if (!r) return r.error();
    return static_cast<std::size_t>(redis::integer(r->get()));
  }

  Result<std::vector<std::string>> heartbeat(const ProcessBeat& beat) override {
    const std::string& id = beat.identity;
    if (id.empty()) return fail(Errc::invalid_argument, "heartbeat: empty identity");
    const std::string date = utc_date(beat.beat);
    // Transaction 1 (redis-layout.md §7): counters, then the running-jobs hash under
    // both names (6.4 reads :workers, 6.5+ reads :work).
    std::vector<Argv> tx1;
    for (auto [what, n] : {std::pair<const char*, std::int64_t>{"processed", beat.processed},
                           {"failed", beat.failed}}) {
      std::string lifetime = key(std::string("stat:") + what);
      tx1.push_back({"INCRBY", lifetime, std::to_string(n)});
      tx1.push_back({"INCRBY", lifetime + ":" + date, std::to_string(n)});
      tx1.push_back({"EXPIRE", lifetime + ":" + date, std::to_string(kDailyStatTtl)});
    }
    Argv hset_workers{"HSET", key(id + ":workers")};
    for (const auto& w : beat.work) {
      // Sidekiq writes run_at as integer seconds (redis-layout.md §7); the exact
      // start time goes in an extra field that Sidekiq's readers ignore.
      Json entry{{"queue", w.queue},
                 {"payload", w.payload},
                 {"run_at", static_cast<std::int64_t>(std::floor(w.run_at))},
                 {"errand_run_at", w.run_at}};
      hset_workers.push_back(w.thread);
      hset_workers.push_back(entry.dump());
    }
    for (const char* suffix : {":workers", ":work"}) {
      std::string k = key(id + suffix);
      tx1.push_back({"UNLINK", k});
      if (!beat.work.empty()) {
        Argv h = hset_workers;
        h[1] = k;
        tx1.push_back(std::move(h));
      }
      tx1.push_back({"EXPIRE", k, std::to_string(kWorkersTtl)});
    }
    auto r1 = client_.multi(tx1);
    if (!r1) return r1.error();

    std::int64_t rtt = beat.rtt_us;
    if (rtt == 0) {
      auto t0 = steady_clock::now();
      auto pong = client_.cmd({"PING"});
      if (!pong) return pong.error();
      rtt = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t0).count();
    }
    const std::string ttl = std::to_string(
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(beat.ttl_seconds))));
    const std::string signals = key(id + "-signals");
    // Transaction 2: registry and hash. All pending signals are taken at once
    // (LRANGE + DEL) instead of Sidekiq's one RPOP per beat.
    std::vector<Argv> tx2{
        {"SADD", key("processes"), id},
        {"EXISTS", key(id)},
        {"HMSET", key(id), "info", beat.info.dump(), "busy", std::to_string(beat.busy), "beat",
         float_text(beat.beat), "rtt_us", std::to_string(rtt), "quiet",
         beat.quiet ? "true" : "false", "rss", std::to_string(beat.rss_kb)},
        {"EXPIRE", key(id), ttl},
        {"LRANGE", signals, "0", "-1"},
        {"DEL", signals},
        {"HSET", key("errand:alive"), id, number_text(beat.beat + beat.ttl_seconds)},
    };
    auto r2 = client_.multi(tx2);
    if (!r2) return r2.error();
    const redisReply* sigs = redis::at(r2->get(), 4);
    std::vector<std::string> out;
    for (std::size_t i = redis::size(sigs); i > 0; --i)  // LPUSHed: oldest at the tail
      out.emplace_back(redis::str(redis::at(sigs, i - 1)));
    return out;
  }

  Status unregister(const std::string& identity) override {
    auto r = client_.pipe({{"SREM", key("processes"), identity},
                           {"UNLINK", key(identity + ":workers"), key(identity + ":work")},
                           {"HDEL", key("errand:alive"), identity}});
    return r ? Status() : r.status();
  }

  // ---- admin ---------------------------------------------------------------

  Result<Stats> stats() override {
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
    const double now = wall_now();
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

  Result<std::vector<std::int64_t>> history(std::string_view what, int days, double now) override {
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

  Status reset_stats() override {
    auto r = client_.cmd({"MSET", key("stat:processed"), "0", key("stat:failed"), "0"});
    return r ? Status() : r.status();
  }

  Result<std::vector<QueueInfo>> queues() override {
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
    const double now = wall_now();
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

  Result<std::vector<std::string>> queue_jobs(const std::string& queue, std::size_t offset,
                                              std::size_t count) override {
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

  Status record_status(std::span<const StatusUpdate> updates) override {
    return status_.record(updates);
  }
  Result<JobStatus> job_status(const std::string& jid, double) override { return status_.get(jid); }
  Result<JobStatus> wait_status(const std::string& jid, milliseconds timeout) override {
    return status_.wait(jid, timeout);
  }
  Result<JobState> cancel_job(const std::string& jid, double now, double ttl) override {
    return status_.cancel(jid, now, ttl);
  }
  Result<std::vector<std::string>> cancel_requests(std::span<const std::string> jids) override {
    return status_.requested(jids);
  }

  Status queue_delete(const std::string& queue, const std::string& jid) override {
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

  Status clear_queue(const std::string& queue) override {
    auto r = client_.multi({{"UNLINK", queue_key(queue)}, {"SREM", key("queues"), queue}});
    return r ? Status() : r.status();
  }

  Result<std::size_t> set_size(SetKind kind) override {
    auto r = client_.cmd({"ZCARD", set_key(kind)});
    if (!r) return r.error();
    return static_cast<std::size_t>(redis::integer(r->get()));
  }

  Result<std::vector<SetEntry>> set_range(SetKind kind, std::size_t offset,
                                          std::size_t count) override {
    std::vector<SetEntry> out;
    if (count == 0 || offset > kMaxIndex || count > kMaxIndex) return out;
    auto r =
        client_.cmd({kind == SetKind::dead ? "ZREVRANGE" : "ZRANGE", set_key(kind),
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

  Result<SetEntry> set_find(SetKind kind, double score, const std::string& jid) override {
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

  Status set_delete(SetKind kind, double score, const std::string& jid) override {
    auto found = set_find(kind, score, jid);
    if (!found) return found.status();
    auto r = client_.cmd({"ZREM", set_key(kind), found->payload});
    if (!r) return r.status();
    if (redis::integer(r->get()) == 0)
      return fail(Errc::not_found, "entry " + number_text(score) + "-" + jid + " already gone");
    return {};
  }

  Status set_move(SetKind kind, double score, const std::string& jid, MoveTo to,
                  const std::string& queue, const std::string& new_payload, double now,
                  const DeadLimits& limits) override {
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

  Status set_clear(SetKind kind) override {
    auto r = client_.cmd({"UNLINK", set_key(kind)});
    return r ? Status() : r.status();
  }

  Result<std::vector<ProcessRecord>> processes(double now) override {
    auto live = live_processes(now);
    if (!live) return live.error();
    return std::move(live).value();
  }

  Result<std::vector<WorkRecord>> workers(double now) override {
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

  // ---- flow control --------------------------------------------------------

  Status set_paused(const std::string& queue, bool paused) override {
    auto r = client_.cmd({paused ? "SADD" : "SREM", key("errand:paused"), queue});
    return r ? Status() : r.status();
  }

  Result<std::vector<std::string>> paused_queues() override {
    auto names = scan_set(key("errand:paused"));
    if (!names) return names.error();
    std::sort(names->begin(), names->end());
    return std::move(names).value();
  }

  Result<bool> lock_acquire(const std::string& name, const std::string& holder, double now,
                            double expires_at) override {
    auto r = client_.eval(lock_acquire_, {key("errand:lock:" + name)},
                          {holder, number_text(now), number_text(expires_at)});
    if (!r) return r.error();
    return redis::integer(r->get()) == 1;
  }

  Status lock_release(const std::string& name, const std::string& holder) override {
    auto r = client_.eval(lock_release_, {key("errand:lock:" + name)}, {holder});
    return r ? Status() : r.status();
  }

  Result<bool> lock_extend(const std::string& name, const std::string& holder,
                           double expires_at) override {
    auto r = client_.eval(
        lock_extend_, {key("errand:lock:" + name)},
        {holder, number_text(expires_at), number_text(SystemClock::instance().epoch())});
    if (!r) return r.error();
    return redis::integer(r->get()) == 1;
  }

  Status signal(const std::string& identity, const std::string& sig) override {
    const std::string k = key(identity + "-signals");
    auto r = client_.multi({{"LPUSH", k, sig}, {"EXPIRE", k, std::to_string(kSignalsTtl)}});
    return r ? Status() : r.status();
  }

 private:
  std::string key(std::string_view name) const { return prefix_ + std::string(name); }
  std::string queue_key(const std::string& q) const { return prefix_ + "queue:" + q; }
  std::string set_key(SetKind kind) const { return key(to_string(kind)); }
  std::string owner_set_key(const std::string& owner) const {
    return prefix_ + "errand:inprogress:" + owner;
  }
  std::string claim_key(const std::string& owner, const std::string& q) const {
    return owner_set_key(owner) + ":queue:" + q;
  }

  std::int64_t owner_id(const std::string& owner) {
    std::lock_guard lock(owners_mu_);
    auto [it, inserted] =
        owner_ids_.try_emplace(owner, static_cast<std::int64_t>(owner_names_.size()) + 1);
    if (inserted) owner_names_.push_back(owner);
    return it->second;
  }

  // ---- claims handed out (see "Lost fetch replies" at the top) --------------

  void track_claims(const std::string& owner, const std::vector<Fetched>& jobs) {
    std::lock_guard lock(claims_mu_);
    auto& mine = claims_[owner];
    for (const auto& j : jobs) ++mine[claim_key(owner, j.queue)][j.payload];
  }

  // Forgets a claim once the store settled it (the job left the in-progress list).
  void settle_claim(const Fetched& job) {
    std::lock_guard owners(owners_mu_);
    if (job.id <= 0 || static_cast<std::size_t>(job.id) > owner_names_.size()) return;
    const std::string& owner = owner_names_[static_cast<std::size_t>(job.id - 1)];
    std::lock_guard lock(claims_mu_);
    auto o = claims_.find(owner);
    if (o == claims_.end()) return;
    auto l = o->second.find(claim_key(owner, job.queue));
    if (l == o->second.end()) return;
    auto p = l->second.find(job.payload);
    if (p == l->second.end()) return;
    if (--p->second <= 0) l->second.erase(p);
  }

  void mark_suspect(const std::string& owner) {
    std::lock_guard lock(claims_mu_);
    suspect_.insert(owner);
  }

  // After a fetch failed on the connection: every job in the owner's
  // in-progress lists beyond what this store handed out goes back to the
  // tail of its queue, where it runs next.
  Status reconcile_claims(const std::string& owner) {
    {
      std::lock_guard lock(claims_mu_);
      if (!suspect_.contains(owner)) return {};
    }
    std::unique_lock no_fetch_in_flight(fetch_rw_);
    auto qs = client_.cmd({"SMEMBERS", owner_set_key(owner)});
    if (!qs) return qs.status();
    std::vector<std::string> queues;
    for (std::size_t i = 0; i < redis::size(qs->get()); ++i)
      queues.emplace_back(redis::str(redis::at(qs->get(), i)));
    std::vector<Argv> reads;
    for (const auto& q : queues) reads.push_back({"LRANGE", claim_key(owner, q), "0", "-1"});
    auto lists = client_.pipe(reads);
    if (!lists) return lists.status();
    std::vector<std::pair<Argv, Argv>> calls;
    {
      std::lock_guard lock(claims_mu_);
      auto& mine = claims_[owner];
      for (std::size_t i = 0; i < queues.size(); ++i) {
        const std::string list = claim_key(owner, queues[i]);
        std::unordered_map<std::string, int> known = mine[list];  // a copy to count down
        const redisReply* a = (*lists)[i].get();
        for (std::size_t j = 0; j < redis::size(a); ++j) {
          std::string payload(redis::str(redis::at(a, j)));
          auto it = known.find(payload);
          if (it != known.end() && it->second > 0) {
            --it->second;
            continue;
          }
          calls.push_back({{list, queue_key(queues[i]), key("queues")}, {payload, queues[i]}});
        }
      }
    }
    if (!calls.empty()) {
      auto r = client_.eval_many(requeue_, calls);
      if (!r) return r.status();
    }
    std::lock_guard lock(claims_mu_);
    suspect_.erase(owner);
    return {};
  }

  // The in-progress list holding `job`'s claim; "" if no owner holds it.
  Result<std::string> claim_key_of(const Fetched& job) {
    {
      std::lock_guard lock(owners_mu_);
      if (job.id > 0 && static_cast<std::size_t>(job.id) <= owner_names_.size())
        return claim_key(owner_names_[static_cast<std::size_t>(job.id - 1)], job.queue);
    }
    auto r =
        client_.eval(find_claim_, {key("errand:inprogress")}, {prefix_, job.queue, job.payload});
    if (!r) return r.error();
    if (redis::is_nil(r->get())) return std::string();
    return claim_key(std::string(redis::str(r->get())), job.queue);
  }

  void append_dead(std::vector<Argv>& cmds, const std::string& payload, double now,
                   const DeadLimits& limits) const {
    // redis-layout.md §6, including Sidekiq's rank arithmetic (it keeps max_jobs - 1).
    cmds.push_back({"ZADD", key("dead"), number_text(now), payload});
    cmds.push_back(
        {"ZREMRANGEBYSCORE", key("dead"), "-inf", number_text(now - limits.max_age_seconds)});
    cmds.push_back({"ZREMRANGEBYRANK", key("dead"), "0",
                    std::to_string(-static_cast<std::int64_t>(limits.max_jobs))});
  }

  Result<std::vector<std::string>> scan_set(const std::string& k) {
    std::vector<std::string> out;
    std::string cursor = "0";
    do {
      auto r = client_.cmd({"SSCAN", k, cursor, "COUNT", "1000"});
      if (!r) return r.error();
      const redisReply* a = r->get();
      if (redis::size(a) != 2)
        return fail(Errc::internal, "redis: unexpected SSCAN reply for " + k);
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
  Result<std::vector<ProcessRecord>> live_processes(double now) {
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

  redis::Client client_;
  const std::string prefix_;  // "" or "<namespace>:"
  const redis::Script fetch_, find_claim_, requeue_, promote_, rescue_, set_move_;
  const redis::Script lock_acquire_, lock_release_, lock_extend_;
  redis::StatusKeeper status_;  // job status, results, cancellation (status.cc)

  std::shared_mutex fetch_rw_;  // fetches share it; reconcile_claims takes it alone

  // owner -> in-progress list -> payload -> how many claims this store handed
  // out and has not settled; owners whose last fetch failed on the connection.
  std::mutex claims_mu_;  // taken after owners_mu_ when both are needed
  std::unordered_map<std::string,
                     std::unordered_map<std::string, std::unordered_map<std::string, int>>>
      claims_;                               // guarded by claims_mu_
  std::unordered_set<std::string> suspect_;  // guarded by claims_mu_

  std::mutex owners_mu_;
  std::vector<std::string> owner_names_;                     // guarded by owners_mu_
  std::unordered_map<std::string, std::int64_t> owner_ids_;  // guarded by owners_mu_
};

}  // namespace

Result<std::shared_ptr<Store>> open_redis_store(const RedisOptions& options) {
  if (options.host.empty()) return fail(Errc::invalid_argument, "redis store: empty host");
  if (options.port < 1 || options.port > 65535)
    return fail(Errc::invalid_argument,
                "redis store: port " + std::to_string(options.port) + " out of range");
  auto store = std::make_shared<RedisStore>(options);
  if (auto st = store->ping(); !st) return st.error();
  return std::shared_ptr<Store>(std::move(store));
}

Result<std::shared_ptr<Store>> open_redis_store(const std::string& url) {
  auto parsed = redis::parse_url(url);
  if (!parsed) return parsed.error();
  RedisOptions o;
  o.host = parsed->endpoint.host;
  o.port = parsed->endpoint.port;
  o.db = parsed->endpoint.db;
  o.username = parsed->endpoint.username;
  o.password = parsed->endpoint.password;
  o.connect_timeout = parsed->endpoint.connect_timeout;
  o.command_timeout = parsed->endpoint.command_timeout;
  o.ns = parsed->ns;
  if (parsed->pool_size) o.pool_size = *parsed->pool_size;
  return open_redis_store(o);
}

}  // namespace errand
