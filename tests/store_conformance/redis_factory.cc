// Runs the store conformance suite against the Redis store. (The namespaced
// variant is covered by tests/redis_store_test.cc.) One redis-server for
// the whole test binary, started on first use; every test starts from an
// empty server (FLUSHALL).
#include <memory>
#include <mutex>
#include <string>

#include "store/redis/redis_store.h"
#include "store_conformance/conformance.h"
#include "support/redis_server.h"

namespace errand::testing {
namespace {

struct Shared {
  std::unique_ptr<RedisServer> server;
  std::string error;
};

Shared& shared() {
  static Shared s;
  static std::once_flag once;
  std::call_once(once, [] {
    auto server = std::make_unique<RedisServer>();
    if (server->start(&s.error)) s.server = std::move(server);
  });
  return s;
}

std::string why_unavailable() {
  auto& s = shared();
  return s.server ? std::string() : "redis store tests skipped: " + s.error;
}

std::shared_ptr<Store> open(const std::string& query, bool flush) {
  auto& s = shared();
  if (!s.server) return nullptr;
  if (flush) s.server->raw()->run({"FLUSHALL"});
  auto store = open_redis_store(s.server->url() + query);
  if (!store) {
    ADD_FAILURE() << "open_redis_store: " << store.error().message();
    return nullptr;
  }
  return std::move(store).value();
}

ERRAND_STORE_CONFORMANCE(redis, StoreFactory{.make = [] { return open("", true); },
                                             .second_view = [] { return open("", false); },
                                             .unavailable = why_unavailable});

}  // namespace
}  // namespace errand::testing
