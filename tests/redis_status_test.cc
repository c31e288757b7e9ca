// The Redis store's status records as stored (redis-layout.md §10): a
// success with nothing recorded before is one compact STRING, anything else
// the hash; every reader takes both; final states are PUBLISHed only while a
// Client::wait is registered in errand:waiters. Checked with raw hiredis
// against a real redis-server.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "errand/store.h"
#include "support/redis_fixture.h"
#include "support/redis_server.h"
#include "support/wall.h"

namespace errand {
namespace {

using errand::testing::wall;
using testing::RawRedis;
using namespace std::chrono_literals;

StatusUpdate update(const std::string& jid, JobState state, std::string result = {},
                    std::string error = {}) {
  StatusUpdate u =
      testing::status_update(jid, state, std::move(result), std::move(error), "host:7:owner");
  u.ttl_seconds = 3600;
  return u;
}

class RedisStatusTest : public testing::RedisSuite {
 protected:
  JobStatus status_of(const std::string& jid) {
    auto st = store_->job_status(jid, wall());
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message());
    return st.ok() ? *st : JobStatus{};
  }
  /// Whether errand:waiters empties within 2 s (a waiter unregisters
  /// without waiting for the reply).
  bool waiters_gone() {
    for (int i = 0; i < 200; ++i) {
      if (raw_->run({"EXISTS", "errand:waiters"}).integer == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::string type_of(const std::string& jid) {
    return raw_->run({"TYPE", "errand:status:" + jid}).str;
  }
};

TEST_F(RedisStatusTest, AFirstSuccessIsOneStringWithItsExpiry) {
  ASSERT_TRUE(store_->record_status(update("s1", JobState::succeeded, R"({"n":"a\nb"})")).ok());
  EXPECT_EQ(type_of("s1"), "string");
  const std::string value = raw_->get("errand:status:s1");
  EXPECT_EQ(value.rfind("succeeded\n", 0), 0u) << value;
  EXPECT_NE(value.find("\nhost:7:owner\n"), std::string::npos) << value;
  const auto ttl = raw_->ttl("errand:status:s1");
  EXPECT_GT(ttl, 3500);
  EXPECT_LE(ttl, 3601);
  const auto st = status_of("s1");
  EXPECT_EQ(st.state, JobState::succeeded);
  EXPECT_EQ(st.result, R"({"n":"a\nb"})");
  EXPECT_EQ(st.process, "host:7:owner");
  EXPECT_NEAR(st.updated_at, wall(), 60);
  // Every other reader takes the string: cancel leaves it alone, a cancel
  // poll that names it finds no request, wait returns it at once.
  auto cancelled = store_->cancel_job("s1", wall(), 3600);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message();
  EXPECT_EQ(*cancelled, JobState::succeeded);
  EXPECT_EQ(type_of("s1"), "string");
  ASSERT_TRUE(store_->record_status(update("r1", JobState::running)).ok());
  ASSERT_TRUE(store_->cancel_job("r1", wall(), 3600).ok());
  const std::vector<std::string> running = {"s1", "r1", "nobody"};
  auto requested = store_->cancel_requests(running);
  ASSERT_TRUE(requested.ok()) << requested.error().message();
  EXPECT_EQ(*requested, std::vector<std::string>{"r1"});
  auto waited = store_->wait_status("s1", wall(), 5s);
  ASSERT_TRUE(waited.ok()) << waited.error().message();
  EXPECT_EQ(waited->result, R"({"n":"a\nb"})");
}

TEST_F(RedisStatusTest, ASuccessAfterAnotherRecordIsTheHash) {
  // A retry's error, then the success: the hash, whose error and cancel
  // request end with it.
  ASSERT_TRUE(store_->record_status(update("h1", JobState::retrying, {}, "E: once")).ok());
  ASSERT_TRUE(store_->record_status(update("h1", JobState::succeeded, "1")).ok());
  EXPECT_EQ(type_of("h1"), "hash");
  EXPECT_EQ(raw_->hash("errand:status:h1")["state"], "succeeded");
  EXPECT_EQ(status_of("h1").result, "1");
}

TEST_F(RedisStatusTest, ARecordAfterACompactSuccessReplacesIt) {
  // The same jid again (a client that reuses jids): the later record wins,
  // as it would over a hash.
  ASSERT_TRUE(store_->record_status(update("d1", JobState::succeeded, "1")).ok());
  ASSERT_TRUE(store_->record_status(update("d1", JobState::dead, {}, "E: later")).ok());
  EXPECT_EQ(type_of("d1"), "hash");
  EXPECT_EQ(status_of("d1").state, JobState::dead);
  EXPECT_EQ(status_of("d1").error, "E: later");
  EXPECT_GT(raw_->ttl("errand:status:d1"), 3500);
  ASSERT_TRUE(store_->record_status(update("d1", JobState::succeeded, "2")).ok());
  EXPECT_EQ(status_of("d1").result, "2");
}

TEST_F(RedisStatusTest, FinalStatesArePublishedOnlyWhileSomeoneWaits) {
  RawRedis sub(server_->port());
  ASSERT_TRUE(sub.ok());
  // A bare SUBSCRIBE is not a waiter: nothing is published to it...
  sub.run({"SUBSCRIBE", "errand:status:p1"});
  ASSERT_TRUE(store_->record_status(update("p1", JobState::succeeded, "1")).ok());
  EXPECT_EQ(raw_->run({"PUBSUB", "NUMSUB", "errand:status:p1"}).elements.at(1).integer, 1);
  // ...while a waiter (on another job) is registered, every final state is.
  ASSERT_TRUE(store_->record_status(update("p2", JobState::running)).ok());
  std::thread waiter([&] { (void)store_->wait_status("p2", wall(), 10s); });
  for (int i = 0; i < 300 && raw_->run({"EXISTS", "errand:waiters"}).integer == 0; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(raw_->run({"EXISTS", "errand:waiters"}).integer, 1);
  ASSERT_TRUE(store_->record_status(update("p1", JobState::dead, {}, "E: x")).ok());
  const auto message = sub.next();  // the next message on the subscribed connection
  ASSERT_TRUE(store_->record_status(update("p2", JobState::succeeded, "2")).ok());
  waiter.join();
  ASSERT_EQ(message.elements.size(), 3u) << message.str;
  EXPECT_EQ(message.elements[0].str, "message");
  // The first message is the dead one: the success before was not published.
  EXPECT_EQ(message.elements[2].str, "dead");
  // The waiter unregistered when it returned.
  EXPECT_TRUE(waiters_gone());
}

TEST_F(RedisStatusTest, AWaiterThatDiedIsDroppedByTheNextOne) {
  raw_->run({"ZADD", "errand:waiters", "1", "a-waiter-killed-long-ago"});
  auto st = store_->wait_status("nobody", wall(), 20ms);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_TRUE(waiters_gone());
}

}  // namespace
}  // namespace errand
