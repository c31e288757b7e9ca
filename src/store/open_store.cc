// The one place that knows every store backend: maps a URL scheme to a store.
#include <string>

#include "core/redact.h"
#include "errand/aggregate.h"
#include "errand/config.h"
#include "errand/store.h"
#include "store/memory/memory_store.h"
#include "store/postgres/postgres_store.h"
#include "store/redis/redis_store.h"
#include "store/sqlite/sqlite_store.h"

namespace errand {

std::string_view to_string(SetKind kind) noexcept {
  switch (kind) {
    case SetKind::scheduled:
      return "schedule";
    case SetKind::retry:
      return "retry";
    case SetKind::dead:
      return "dead";
  }
  return "?";
}

Result<std::shared_ptr<Store>> open_store(std::string_view url) {
  // "aggregate+<url>": the store behind an aggregate enqueue stage.
  if (url.starts_with("aggregate+")) {
    auto inner = open_store(url.substr(10));
    if (!inner) return inner.error();
    return std::shared_ptr<Store>(make_aggregate(std::move(inner).value()));
  }
  auto pos = url.find("://");
  if (pos == std::string_view::npos)
    return fail(Errc::invalid_argument,
                "store URL '" + std::string(url) +
                    "' has no scheme: expected memory://NAME, sqlite://PATH, "
                    "redis://host:port/db or postgres://user:pass@host:port/db");
  std::string scheme(url.substr(0, pos));
  std::string rest(url.substr(pos + 3));
  if (scheme == "memory") return memory_store(rest);
  if (scheme == "sqlite") return open_sqlite_store(rest);
  if (scheme == "redis") return open_redis_store(std::string(url));
  if (scheme == "postgres" || scheme == "postgresql") return open_postgres_store(std::string(url));
  return fail(Errc::invalid_argument, "unknown store scheme '" + scheme + "' in '" +
                                          redact_url(url) +
                                          "': expected memory, sqlite, redis or postgres");
}

}  // namespace errand

namespace errand {

Status Store::set_paused(const std::string&, bool) {
  return fail(Errc::unsupported, std::string(scheme()) + " store cannot pause queues");
}
Result<std::vector<std::string>> Store::paused_queues() { return std::vector<std::string>{}; }
Result<bool> Store::lock_acquire(const std::string&, const std::string&, double, double) {
  return fail(Errc::unsupported, std::string(scheme()) + " store has no locks");
}
Status Store::lock_release(const std::string&, const std::string&) {
  return fail(Errc::unsupported, std::string(scheme()) + " store has no locks");
}
Result<bool> Store::lock_extend(const std::string&, const std::string&, double, double) {
  return fail(Errc::unsupported, std::string(scheme()) + " store has no locks");
}
Status Store::push_within(const AppTransaction&, const PushParams&) {
  return fail(Errc::unsupported,
              std::string(scheme()) +
                  " store cannot enqueue inside an application's transaction (its jobs do not "
                  "live in the application's database): use a postgres:// or sqlite:// store");
}
Result<bool> Store::lock_acquire_within(const AppTransaction&, const std::string&,
                                        const std::string&, double, double) {
  return fail(Errc::unsupported, std::string(scheme()) +
                                     " store cannot take a lock inside an application's "
                                     "transaction: use a postgres:// or sqlite:// store");
}
Status Store::reschedule(const RescheduleParams& p) {
  PushItem item;
  item.queue = p.job.queue;
  item.jid = p.jid;
  item.payload = p.payload;
  item.at = p.at;
  if (auto st = push({.jobs = std::span<const PushItem>(&item, 1), .now = p.now}); !st) return st;
  return ack(std::span<const Fetched>(&p.job, 1));
}

// Opens each store a config names once, however many queues share it.
Result<QueueMap> open_queues(const Config& config) {
  std::map<std::string, std::shared_ptr<Store>> opened;
  auto get = [&](const std::string& url) -> Result<std::shared_ptr<Store>> {
    if (auto it = opened.find(url); it != opened.end()) return it->second;
    auto s = open_store(url);
    if (!s) return s.error();
    opened[url] = *s;
    return *s;
  };
  auto def = get(config.store);
  if (!def) return def.error();
  QueueMap map(*def);
  for (const auto& [queue, url] : config.queue_stores) {
    auto s = get(url);
    if (!s) return fail(s.code(), "queue '" + queue + "': " + s.error().message());
    map.define(queue, *s);
  }
  return map;
}

}  // namespace errand
