#include "server/heartbeat.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>

#include "core/log.h"
#include "errand/errand.h"  // ERRAND_VERSION

namespace errand {

std::string make_identity() {
  std::string host;
  if (const char* dyno = std::getenv("DYNO"); dyno && *dyno) {
    host = dyno;
  } else {
    char buf[256] = {};
    if (::gethostname(buf, sizeof(buf) - 1) == 0) host = buf;
    if (host.empty()) host = "localhost";
  }
  return host + ":" + std::to_string(::getpid()) + ":" + payload::new_jid().substr(0, 12);
}

std::int64_t current_rss_kb() { return rss_kb_of(::getpid()); }

std::int64_t rss_kb_of(int pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::int64_t pages_total = 0, pages_rss = 0;
  if (!(statm >> pages_total >> pages_rss)) return 0;
  return pages_rss * (::sysconf(_SC_PAGESIZE) / 1024);
}

Heartbeat::Heartbeat(Runtime& rt, SignalHandler on_signal)
    : rt_(rt), on_signal_(std::move(on_signal)) {}

Json Heartbeat::info() const {
  auto colon = rt_.identity.find(':');
  std::vector<std::string> queues;
  for (const auto& s : rt_.sources)
    for (const auto& q : s->queues)
      if (std::find(queues.begin(), queues.end(), q.name) == queues.end()) queues.push_back(q.name);
  return Json{{"hostname", rt_.identity.substr(0, colon)},
              {"started_at", rt_.started_at},
              {"pid", static_cast<std::int64_t>(::getpid())},
              {"tag", rt_.options.tag},
              {"concurrency", rt_.options.concurrency},
              {"queues", queues},
              {"labels", rt_.options.labels},
              {"identity", rt_.identity},
              {"version", "errand " ERRAND_VERSION}};
}

Json Heartbeat::children() const {
  Json out = Json::array();
  for (const auto& slot : rt_.slot_list()) {
    int pid = 0;
    std::size_t jobs = 0;
    {
      MutexLock lk(slot->mu);
      pid = slot->child_pid;
      jobs = slot->child_jobs;
    }
    if (pid > 0) out.push_back({{"pid", pid}, {"rss_kb", rss_kb_of(pid)}, {"jobs", jobs}});
  }
  return out;
}

bool Heartbeat::counters_pending() const {
  for (const auto& s : rt_.sources)
    if (s->processed.load() != 0 || s->failed.load() != 0) return true;
  return false;
}

ServerCounters counters_of(const Runtime& rt) {
  ServerCounters c;
  c.processed = rt.processed.load();
  c.failed = rt.failed.load();
  c.retried = rt.retried.load();
  c.dead = rt.dead.load();
  c.discarded = rt.discarded.load();
  c.expired = rt.expired.load();
  c.deferred = rt.deferred.load();
  c.busy = rt.busy.load();
  return c;
}

void HeartbeatService::run_once() {
  if (auto st = hb_.beat(); !st) log::warn("heartbeat failed", {{"error", st.message()}});
  // After a failed beat too: the process is alive (a service manager's watchdog).
  if (rt_.options.hooks.on_heartbeat) rt_.options.hooks.on_heartbeat(counters_of(rt_));
}

void StatsService::run_once() {
  if (!hb_.counters_pending()) return;
  if (auto st = hb_.beat(); !st) log::warn("stats flush failed", {{"error", st.message()}});
}

Status Heartbeat::beat() {
  MutexLock beat_lock(mu_);
  ProcessBeat b;
  b.identity = rt_.identity;
  if (info_.is_null()) info_ = info();  // the same for the process's life
  b.info = info_;
  if (Json kids = children(); !kids.empty()) b.info["children"] = std::move(kids);
  b.beat = rt_.now();
  b.quiet = rt_.quiet.load();
  b.rss_kb = current_rss_kb();
  b.rtt_us = rtt_us_;
  b.ttl_seconds = std::chrono::duration<double>(rt_.options.process_ttl).count();
  // Running jobs, per store.
  std::vector<std::pair<Source*, WorkRecord>> running;
  for (const auto& slot : rt_.slot_list()) {
    MutexLock lk(slot->mu);
    if (!slot->current || slot->abandoned) continue;
    WorkRecord r;
    r.process = rt_.identity;
    r.thread = slot->tid;
    r.queue = slot->current->job.queue;
    r.payload = slot->current->job.payload;
    r.run_at = slot->run_at;
    running.emplace_back(slot->current->source, std::move(r));
  }
  Status first;
  std::vector<std::string> signals;
  for (const auto& s : rt_.sources) {
    ProcessBeat mine = b;
    for (auto& [src, r] : running)
      if (src == s.get()) mine.work.push_back(r);
    mine.busy = mine.work.size();
    mine.processed = s->processed.exchange(0);
    mine.failed = s->failed.exchange(0);
    auto t0 = std::chrono::steady_clock::now();
    auto got = s->store->heartbeat(mine);
    rtt_us_ =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    if (!got) {
      // Keep the counters for the next beat.
      s->processed.fetch_add(mine.processed);
      s->failed.fetch_add(mine.failed);
      if (first.ok()) first = got.status();
      continue;
    }
    for (auto& sig : *got) signals.push_back(std::move(sig));
  }
  for (const auto& sig : signals) {
    log::info("received signal through the store", {{"signal", sig}});
    if (on_signal_) on_signal_(sig);
  }
  return first;
}

}  // namespace errand
