// The PostgreSQL store's process registry, signals, counters, named locks
// and paused queues.
#include "store/memory/store_util.h"
#include "store/postgres/store_impl.h"

namespace errand::pg {

Result<std::vector<std::string>> PgStore::heartbeat(const ProcessBeat& beat) {
  return guarded("heartbeat", [&]() -> Result<std::vector<std::string>> {
    const std::string info = beat.info.dump(-1, ' ', false, Json::error_handler_t::replace);
    Json work = Json::array();
    for (const auto& w : beat.work)
      work.push_back(
          {{"thread", w.thread}, {"queue", w.queue}, {"payload", w.payload}, {"run_at", w.run_at}});
    const std::string work_text = work.dump(-1, ' ', false, Json::error_handler_t::replace);
    const std::string day = store_util::utc_day(beat.beat);
    // Always in this order, so two beats never lock the counters crosswise.
    std::vector<std::string> keys;
    std::vector<std::int64_t> values;
    if (beat.processed) {
      keys.insert(keys.end(), {"processed", "processed:" + day});
      values.insert(values.end(), {beat.processed, beat.processed});
    }
    if (beat.failed) {
      keys.insert(keys.end(), {"failed", "failed:" + day});
      values.insert(values.end(), {beat.failed, beat.failed});
    }
    Params p;
    p.add(beat.identity)
        .add(info)
        .add(beat.busy)
        .add(beat.beat)
        .add(beat.quiet)
        .add(beat.rss_kb)
        .add(beat.rtt_us)
        .add(beat.ttl_seconds)
        .add(work_text)
        .add(text_array(keys))
        .add(number_array(values));
    Lease conn = lease();
    auto res = conn->run(kHeartbeat, p);
    std::vector<std::pair<std::int64_t, std::string>> sigs;
    for (int r = 0; r < res.rows(); ++r) sigs.emplace_back(res.integer(r, 0), res.str(r, 1));
    std::sort(sigs.begin(), sigs.end());
    std::vector<std::string> out;
    for (auto& [id, sig] : sigs) out.push_back(std::move(sig));
    return out;
  });
}

Status PgStore::unregister(const std::string& identity) {
  return guarded("unregister", [&]() -> Status {
    Lease conn = lease();
    conn->run(kUnregister, Params().add(identity));
    return {};
  });
}

Result<Stats> PgStore::stats(double now) {
  return guarded("stats", [&]() -> Result<Stats> {
    Lease conn = lease();
    auto r = conn->run(kStats, Params().add(now));
    Stats s;
    s.processed = r.integer(0, 0);
    s.failed = r.integer(0, 1);
    s.enqueued = static_cast<std::size_t>(r.integer(0, 2));
    s.scheduled = static_cast<std::size_t>(r.integer(0, 3));
    s.retries = static_cast<std::size_t>(r.integer(0, 4));
    s.dead = static_cast<std::size_t>(r.integer(0, 5));
    s.processes = static_cast<std::size_t>(r.integer(0, 6));
    s.busy = static_cast<std::size_t>(r.integer(0, 7));
    return s;
  });
}

Result<std::vector<std::int64_t>> PgStore::history(std::string_view what, int days, double now) {
  if (what != "processed" && what != "failed")
    return fail(Errc::invalid_argument,
                "history: expected \"processed\" or \"failed\", got \"" + std::string(what) + "\"");
  return guarded("history", [&]() -> Result<std::vector<std::int64_t>> {
    std::vector<std::string> keys;
    for (int d = 0; d < days; ++d)
      keys.push_back(std::string(what) + ":" + store_util::utc_day(now - d * 86400.0));
    Lease conn = lease();
    auto r = conn->run(kCounters, Params().add(text_array(keys)));
    std::vector<std::int64_t> out(keys.size(), 0);
    for (int row = 0; row < r.rows(); ++row)
      for (std::size_t i = 0; i < keys.size(); ++i)
        if (r.text(row, 0) == keys[i]) out[i] = r.integer(row, 1);
    return out;
  });
}

Status PgStore::reset_stats() {
  return guarded("reset_stats", [&]() -> Status {
    // As Sidekiq's Stats#reset: the lifetime counters only; the history stays.
    Lease conn = lease();
    conn->run(kResetStats, Params());
    return {};
  });
}

Result<std::vector<ProcessRecord>> PgStore::processes(double now) {
  return guarded("processes", [&]() -> Result<std::vector<ProcessRecord>> {
    Lease conn = lease();
    conn->run(kPrune, Params().add(now));
    auto q = conn->run(kProcesses, Params());
    std::vector<ProcessRecord> out;
    for (int r = 0; r < q.rows(); ++r) {
      ProcessRecord p;
      p.identity = q.str(r, 0);
      p.info = Json::parse(q.text(r, 1), nullptr, /*allow_exceptions=*/false);
      if (p.info.is_discarded()) p.info = nullptr;
      p.busy = static_cast<std::size_t>(q.integer(r, 2));
      p.beat = q.real(r, 3);
      p.quiet = q.boolean(r, 4);
      p.rss_kb = q.integer(r, 5);
      out.push_back(std::move(p));
    }
    return out;
  });
}

Result<std::vector<WorkRecord>> PgStore::workers(double now) {
  return guarded("workers", [&]() -> Result<std::vector<WorkRecord>> {
    Lease conn = lease();
    conn->run(kPrune, Params().add(now));
    auto q = conn->run(kWorkers, Params());
    std::vector<WorkRecord> out;
    for (int r = 0; r < q.rows(); ++r) {
      auto work = Json::parse(q.text(r, 1), nullptr, /*allow_exceptions=*/false);
      if (!work.is_array()) continue;
      for (const auto& w : work) {
        if (!w.is_object()) continue;
        WorkRecord rec;
        rec.process = q.str(r, 0);
        rec.thread = w.value("thread", "");
        rec.queue = w.value("queue", "");
        rec.payload = w.value("payload", "");
        rec.run_at = w.value("run_at", 0.0);
        out.push_back(std::move(rec));
      }
    }
    return out;
  });
}

Status PgStore::signal(const std::string& identity, const std::string& sig) {
  return guarded("signal", [&]() -> Status {
    Lease conn = lease();
    conn->run(kSignal, Params().add(identity).add(sig));
    return {};
  });
}

Status PgStore::set_paused(const std::string& queue, bool paused) {
  return guarded("set_paused", [&]() -> Status {
    Lease conn = lease();
    conn->run(kSetPaused, Params().add(queue).add(paused));
    return {};
  });
}

Result<std::vector<std::string>> PgStore::paused_queues() {
  return guarded("paused_queues", [&]() -> Result<std::vector<std::string>> {
    Lease conn = lease();
    auto q = conn->run(kPausedQueues, Params());
    std::vector<std::string> out;
    for (int r = 0; r < q.rows(); ++r) out.push_back(q.str(r, 0));
    return out;
  });
}

Result<bool> PgStore::lock_acquire(const std::string& key, const std::string& holder, double now,
                                   double expires_at) {
  return guarded("lock_acquire", [&]() -> Result<bool> {
    Lease conn = lease();
    auto r = conn->run(kLockAcquire, Params().add(key).add(holder).add(expires_at).add(now));
    return r.rows() == 1;
  });
}

Status PgStore::lock_release(const std::string& key, const std::string& holder) {
  return guarded("lock_release", [&]() -> Status {
    Lease conn = lease();
    conn->run(kLockRelease, Params().add(key).add(holder));
    return {};
  });
}

Result<bool> PgStore::lock_extend(const std::string& key, const std::string& holder, double,
                                  double expires_at) {
  return guarded("lock_extend", [&]() -> Result<bool> {
    Lease conn = lease();
    return conn->run(kLockExtend, Params().add(key).add(holder).add(expires_at)).affected() > 0;
  });
}

}  // namespace errand::pg
