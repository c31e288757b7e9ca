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
#include "store/redis/status.h"
#include "store/redis/status_scripts.h"
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

/// Pushes `jids` and claims them all, as a worker does before it acks.
std::vector<Fetched> claim(Store& store, const std::vector<std::string>& jids) {
  std::vector<PushItem> items;
  for (const auto& jid : jids)
    items.push_back(PushItem{
        "default", jid, R"({"class":"C","args":[],"queue":"default","jid":")" + jid + "\"}", 0, 0});
  EXPECT_TRUE(store.push({.jobs = items, .now = wall()}).ok());
  auto got = store.fetch({.queues = std::vector<std::string>{"default"},
                          .max = jids.size(),
                          .wait = 0ms,
                          .owner = "host:7:owner",
                          .now = wall()});
  EXPECT_TRUE(got.ok());
  return got.ok() ? *got : std::vector<Fetched>{};
}

TEST_F(RedisStatusTest, AnAckOfSuccessesWritesTheCompactRecordsWithTheirExpiry) {
  // The batch of successes (kAckSucceeded): the claims go, each record is
  // the compact string, expiring result_ttl after the record's time.
  auto got = claim(*store_, {"a1", "a2"});
  ASSERT_EQ(got.size(), 2u);
  std::vector<StatusUpdate> done = {update("a1", JobState::succeeded, R"({"n":"a\nb"})"),
                                    update("a2", JobState::succeeded, "null")};
  done[1].ttl_seconds = 600;
  ASSERT_TRUE(store_->ack_with_status(got, done).ok());
  EXPECT_TRUE(raw_->list("errand:inprogress:host:7:owner:queue:default").empty());
  EXPECT_EQ(type_of("a1"), "string");
  EXPECT_EQ(status_of("a1").result, R"({"n":"a\nb"})");
  EXPECT_EQ(status_of("a1").process, "host:7:owner");
  EXPECT_GT(raw_->ttl("errand:status:a1"), 3500);
  EXPECT_LE(raw_->ttl("errand:status:a1"), 3601);
  EXPECT_GT(raw_->ttl("errand:status:a2"), 500);
  EXPECT_LE(raw_->ttl("errand:status:a2"), 601);
  // A record whose time is more than its ttl ago is gone at once, as the
  // other stores drop it.
  auto old = claim(*store_, {"a3"});
  std::vector<StatusUpdate> late = {update("a3", JobState::succeeded, "1")};
  late[0].now = wall() - 7200;
  ASSERT_TRUE(store_->ack_with_status(old, late).ok());
  EXPECT_EQ(raw_->run({"EXISTS", "errand:status:a3"}).integer, 0);
}

TEST_F(RedisStatusTest, AnAckOfASuccessOverProgressKeepsItInTheHash) {
  // A job that reported progress already has the hash: the success joins it
  // (kAckSucceeded's fallback), the progress stays, a cancel request ends.
  auto got = claim(*store_, {"g1", "g2"});
  ASSERT_EQ(got.size(), 2u);
  ProgressUpdate p{"g1", 0.5, "half", wall(), 3600};
  ASSERT_TRUE(store_->record_progress(std::span<const ProgressUpdate>(&p, 1)).ok());
  ASSERT_TRUE(store_->record_status(update("g2", JobState::running)).ok());
  ASSERT_TRUE(store_->cancel_job("g2", wall(), 3600).ok());
  std::vector<StatusUpdate> done = {update("g1", JobState::succeeded, "[1,2]"),
                                    update("g2", JobState::succeeded, "\"x\"")};
  ASSERT_TRUE(store_->ack_with_status(got, done).ok());
  EXPECT_EQ(type_of("g1"), "hash");
  auto h = raw_->hash("errand:status:g1");
  EXPECT_EQ(h["state"], "succeeded");
  EXPECT_EQ(h["result"], "[1,2]");
  EXPECT_EQ(h["process"], "host:7:owner");
  EXPECT_EQ(h["progress_message"], "half");
  EXPECT_EQ(h["error"], "");
  EXPECT_NEAR(std::stod(h["at"]), wall(), 60);
  EXPECT_GT(raw_->ttl("errand:status:g1"), 3500);
  const auto g2 = status_of("g2");
  EXPECT_EQ(g2.state, JobState::succeeded);
  EXPECT_EQ(g2.result, "\"x\"");
  EXPECT_FALSE(g2.cancel_requested);
}

TEST_F(RedisStatusTest, AnAckOfSuccessesIsPublishedWhileSomeoneWaits) {
  auto got = claim(*store_, {"w1"});
  ASSERT_EQ(got.size(), 1u);
  Result<JobStatus> waited = JobStatus{};
  std::thread waiter([&] { waited = store_->wait_status("w1", wall(), 20s); });
  for (int i = 0; i < 300 && raw_->run({"EXISTS", "errand:waiters"}).integer == 0; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(raw_->run({"EXISTS", "errand:waiters"}).integer, 1);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<StatusUpdate> done = {update("w1", JobState::succeeded, "7")};
  ASSERT_TRUE(store_->ack_with_status(got, done).ok());
  waiter.join();
  ASSERT_TRUE(waited.ok()) << waited.error().message();
  EXPECT_EQ(waited->state, JobState::succeeded);
  EXPECT_EQ(waited->result, "7");
  // Woken by the PUBLISH, not by its 20 s timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
}

TEST_F(RedisStatusTest, TheAckOfSuccessesWorksWithoutSetExat) {
  // Redis before 6.2 (Ubuntu 22.04 ships 6.0): the script's other branch,
  // SET NX then EXPIREAT, run here by hand with its last argument '0'.
  const std::string list = "errand:inprogress:h:1:x:queue:default";
  raw_->run({"LPUSH", list, "payload-1", "payload-2"});
  raw_->run({"HSET", "errand:status:o2", "progress", "0.5"});
  const std::string end = std::to_string(static_cast<long long>(wall()) + 900);
  const std::string at = std::to_string(static_cast<long long>(wall()));
  auto r = raw_->run({"EVAL", redis::lua::kAckSucceeded, "5", "errand:waiters", list, list,
                      "errand:status:o1", "errand:status:o2", "2", "payload-1", "payload-2",
                      "succeeded\n" + at + "\nh:1:x\n1", end, "succeeded\n" + at + "\nh:1:x\n2",
                      end, "0"});
  EXPECT_EQ(r.integer, 2) << r.str;
  EXPECT_TRUE(raw_->list(list).empty());
  EXPECT_EQ(raw_->get("errand:status:o1"), "succeeded\n" + at + "\nh:1:x\n1");
  EXPECT_GT(raw_->ttl("errand:status:o1"), 800);
  EXPECT_LE(raw_->ttl("errand:status:o1"), 901);
  auto h = raw_->hash("errand:status:o2");
  EXPECT_EQ(h["result"], "2");
  EXPECT_EQ(h["progress"], "0.5");
  EXPECT_EQ(h["at"], at);
  EXPECT_GT(raw_->ttl("errand:status:o2"), 800);
}

TEST(RedisServerVersion, SetExatFromRedis62) {
  EXPECT_FALSE(redis::has_set_exat("# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone"));
  EXPECT_FALSE(redis::has_set_exat("redis_version:5.0.7\r\n"));
  EXPECT_TRUE(redis::has_set_exat("# Server\r\nredis_version:6.2.0\r\n"));
  EXPECT_TRUE(redis::has_set_exat("redis_version:7.0.15\r\n"));
  EXPECT_TRUE(redis::has_set_exat("redis_version:10.0.1\r\n"));
  EXPECT_FALSE(redis::has_set_exat("no version here"));
  EXPECT_FALSE(redis::has_set_exat("redis_version:x.y"));
}

TEST_F(RedisStatusTest, AWaiterThatDiedIsDroppedByTheNextOne) {
  raw_->run({"ZADD", "errand:waiters", "1", "a-waiter-killed-long-ago"});
  auto st = store_->wait_status("nobody", wall(), 20ms);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_TRUE(waiters_gone());
}

}  // namespace
}  // namespace errand
