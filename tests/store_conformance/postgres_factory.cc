// Runs the conformance suite against the PostgreSQL store. One PostgreSQL 15
// server for the whole test binary, started on first use; every test gets a
// fresh schema of its own, and second_view opens the same schema again, as a
// second process would.
#include <memory>
#include <mutex>
#include <string>

#include "store/postgres/postgres_store.h"
#include "store_conformance/conformance.h"
#include "support/postgres_server.h"

namespace errand::testing {
namespace {

struct Shared {
  std::unique_ptr<PostgresServer> server;
  std::string error;
  std::string schema;
};

Shared& shared() {
  static Shared s;
  static std::once_flag once;
  std::call_once(once, [] {
    auto server = std::make_unique<PostgresServer>();
    if (server->start(&s.error)) s.server = std::move(server);
  });
  return s;
}

std::string why_unavailable() {
  auto& s = shared();
  return s.server ? std::string() : "postgres store tests skipped: " + s.error;
}

std::shared_ptr<Store> open_current() {
  auto& s = shared();
  if (!s.server) return nullptr;
  auto store = open_postgres_store(s.server->url(s.schema) + "&poll_interval=50");
  if (!store) {
    ADD_FAILURE() << "open_postgres_store: " << store.error().message();
    return nullptr;
  }
  return std::move(store).value();
}

ERRAND_STORE_FACTORY(postgres_factory,
                     StoreFactory{"postgres",
                                  [] {
                                    static int n = 0;
                                    shared().schema = "conformance_" + std::to_string(++n);
                                    return open_current();
                                  },
                                  [] { return open_current(); }, why_unavailable});

}  // namespace
}  // namespace errand::testing
