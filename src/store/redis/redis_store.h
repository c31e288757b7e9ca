// The Redis store, in Sidekiq's layout (docs/redis-layout.md), with reliable fetch.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "errand/store.h"

namespace errand {
struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  ///< Redis 6 ACL user; empty: AUTH password
  std::string password;  ///< empty: no AUTH
  std::string ns;        ///< optional key prefix ("x" → "x:queue:default")
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};
  std::size_t pool_size = 8;
};
/// Parses redis://[[user]:password@]host[:port][/db][?namespace=x&pool_size=N
/// &connect_timeout_ms=N&command_timeout_ms=N] and connects (one PING, so an
/// unreachable server is reported here as Errc::unavailable; a malformed URL
/// is Errc::invalid_argument). Later calls reconnect on their own after Redis
/// restarts: while it is down they fail fast with Errc::unavailable.
Result<std::shared_ptr<Store>> open_redis_store(const std::string& url);
Result<std::shared_ptr<Store>> open_redis_store(const RedisOptions& options);
}  // namespace errand
