// A fixture for tests against a real redis-server: one server per test suite
// (started on a free loopback port, stopped after the suite), FLUSHALL before
// each test, a raw hiredis connection to check what was stored, and an errand
// Redis store on the server. Skips the tests when redis-server cannot start.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "errand/store.h"
#include "store/redis/redis_store.h"
#include "support/redis_server.h"

namespace errand::testing {

class RedisSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new RedisServer();
    if (!server_->start(&error_)) {
      delete server_;
      server_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "redis-server unavailable: " << error_;
    raw_ = server_->raw();
    raw_->run({"FLUSHALL"});
    store_ = open(server_->url());
  }
  static std::shared_ptr<Store> open(const std::string& url) {
    auto s = open_redis_store(url);
    EXPECT_TRUE(s.ok()) << (s ? "" : s.error().message());
    return s ? std::move(s).value() : nullptr;
  }

  static inline RedisServer* server_ = nullptr;
  static inline std::string error_;
  std::unique_ptr<RawRedis> raw_;
  std::shared_ptr<Store> store_;
};

}  // namespace errand::testing
