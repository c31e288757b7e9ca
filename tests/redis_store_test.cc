// Redis-specific behaviour of the Redis store: the exact Sidekiq keys and
// values it writes (checked with raw hiredis), reliable fetch and rescue,
// promotion, reconnect after a restart, namespaces, URL and server errors.
#include "store/redis/redis_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "errand/clock.h"
#include "errand/store.h"
#include "store/redis/connection.h"
#include "support/redis_fixture.h"
#include "support/redis_server.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand {
namespace {

using testing::RawRedis;
using testing::RedisServer;
using testing::RedisServerOptions;
using namespace std::chrono_literals;

double now_s() { return to_epoch(std::chrono::system_clock::now()); }

std::string job_json(const std::string& jid, const std::string& queue = "default") {
  return R"({"retry":true,"queue":")" + queue +
         R"(","args":[1,"two"],"class":"HardWorker","jid":")" + jid +
         R"(","created_at":1700000000.9679568,"enqueued_at":1700000000.968029})";
}

PushItem item(const std::string& jid, const std::string& queue = "default", double at = 0) {
  return PushItem{queue, jid, job_json(jid, queue), at, 0};
}

std::string utc_date(double epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

class RedisStoreTest : public testing::RedisSuite {};

// ---- URLs and connection errors ----------------------------------------------

TEST(RedisUrl, ParsesEveryPart) {
  auto p = redis::parse_url("redis://:s%40cret@example.org:6390/3?namespace=app&pool_size=2");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->endpoint.host, "example.org");
  EXPECT_EQ(p->endpoint.port, 6390);
  EXPECT_EQ(p->endpoint.db, 3);
  EXPECT_EQ(p->endpoint.password, "s@cret");
  EXPECT_EQ(p->endpoint.username, "");
  EXPECT_EQ(p->ns, "app");
  EXPECT_EQ(p->pool_size, 2u);

  auto d = redis::parse_url("redis://localhost");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->endpoint.port, 6379);
  EXPECT_EQ(d->endpoint.db, 0);
  EXPECT_EQ(d->ns, "");

  auto v6 = redis::parse_url("redis://user:pw@[::1]:7000/");
  ASSERT_TRUE(v6.ok()) << v6.error().message();
  EXPECT_EQ(v6->endpoint.host, "::1");
  EXPECT_EQ(v6->endpoint.port, 7000);
  EXPECT_EQ(v6->endpoint.username, "user");
  EXPECT_EQ(v6->endpoint.address(), "[::1]:7000");
}

TEST(RedisUrl, RejectsBadUrls) {
  for (const char* url :
       {"redis://", "redis://:6379/0", "redis://host:abc/0", "redis://host:0", "redis://host:70000",
        "redis://host:6379/x", "redis://host:6379/-1", "redis://host/0?bogus=1",
        "redis://host/0?namespace", "redis://pw@host/0", "redis://[::1/0", "redis://h:/0",
        "redis://:%zz@host/0", "redis://host/0?pool_size=0"}) {
    auto s = open_redis_store(std::string(url));
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_EQ(s.code(), Errc::invalid_argument) << url << ": " << s.error().message();
    EXPECT_NE(s.error().message().find("bad redis URL"), std::string::npos) << url;
  }
  auto other = open_store("redis:/oops");
  EXPECT_FALSE(other.ok());
}

TEST(RedisUrl, UnreachableServerIsUnavailableWithAClearMessage) {
  // Find a port nobody listens on: bind, remember, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);

  auto t0 = std::chrono::steady_clock::now();
  auto s = open_redis_store("redis://127.0.0.1:" + std::to_string(port) + "/0");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Errc::unavailable);
  EXPECT_NE(s.error().message().find("redis 127.0.0.1:" + std::to_string(port) + " unreachable"),
            std::string::npos)
      << s.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(RedisAuth, PasswordIsSentAndAWrongOneIsReported) {
  if (!RedisServer::installed()) GTEST_SKIP() << "redis-server not installed";
  RedisServer server(RedisServerOptions{.appendonly = false, .password = "hunter2"});
  std::string why;
  ASSERT_TRUE(server.start(&why)) << why;
  auto good = open_redis_store(server.url(2));
  ASSERT_TRUE(good.ok()) << good.error().message();
  ASSERT_TRUE((*good)->push({.jobs = std::vector<PushItem>{item("a1")}, .now = wall()}).ok());
  EXPECT_EQ(server.raw(2)->list("queue:default").size(), 1u);
  EXPECT_TRUE(server.raw(0)->list("queue:default").empty());  // SELECT 2 was sent

  auto bad = open_redis_store("redis://:wrong@127.0.0.1:" + std::to_string(server.port()) + "/0");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), Errc::unavailable);
  EXPECT_NE(bad.error().message().find("AUTH failed"), std::string::npos) << bad.error().message();

  auto none = open_redis_store("redis://127.0.0.1:" + std::to_string(server.port()) + "/0");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("NOAUTH"), std::string::npos) << none.error().message();
}

// ---- the Sidekiq layout --------------------------------------------------------

TEST_F(RedisStoreTest, PushWritesQueuesSetAndListInRunOrder) {
  std::vector<PushItem> jobs{item("j1"), item("j2"), item("c1", "critical"), item("j3")};
  ASSERT_TRUE(store_->push({.jobs = jobs, .now = wall()}).ok());
  EXPECT_EQ(raw_->members("queues"), (std::vector<std::string>{"critical", "default"}));
  // LPUSH at the head, run from the tail: the first pushed sits at the tail.
  EXPECT_EQ(raw_->list("queue:default"),
            (std::vector<std::string>{job_json("j3"), job_json("j2"), job_json("j1")}));
  EXPECT_EQ(raw_->list("queue:critical"), (std::vector<std::string>{job_json("c1", "critical")}));
  EXPECT_EQ(raw_->run({"TYPE", "queue:default"}).str, "list");
}

TEST_F(RedisStoreTest, ScheduledPushGoesToTheScheduleZsetOnly) {
  ASSERT_TRUE(store_
                  ->push({.jobs = std::vector<PushItem>{item("s1", "default", 1700000123.25)},
                          .now = wall()})
                  .ok());
  EXPECT_EQ(raw_->run({"ZSCORE", "schedule", job_json("s1")}).str, "1700000123.25");
  EXPECT_TRUE(raw_->members("queues").empty());
  EXPECT_TRUE(raw_->list("queue:default").empty());
}

TEST_F(RedisStoreTest, HeartbeatWritesSidekiqProcessKeys) {
  const double now = now_s();
  ProcessBeat beat;
  beat.identity = "vm:5501:d26008c61164";
  beat.info = Json{{"hostname", "vm"},  {"started_at", 1700000000.577},
                   {"pid", 5501},       {"tag", ""},
                   {"concurrency", 3},  {"queues", {"default"}},
                   {"labels", {"cpp"}}, {"identity", beat.identity}};
  beat.busy = 1;
  beat.beat = now;
  beat.rss_kb = 28632;
  beat.processed = 3;
  beat.failed = 1;
  beat.work.push_back(WorkRecord{"", "tid-1", "default", job_json("w1"), now - 2.5});
  auto signals = store_->heartbeat(beat);
  ASSERT_TRUE(signals.ok()) << signals.error().message();
  EXPECT_TRUE(signals->empty());

  EXPECT_EQ(raw_->members("processes"), std::vector<std::string>{beat.identity});
  auto h = raw_->hash(beat.identity);
  EXPECT_EQ(h["busy"], "1");
  EXPECT_EQ(h["quiet"], "false");
  EXPECT_EQ(h["rss"], "28632");
  EXPECT_FALSE(h["rtt_us"].empty());
  EXPECT_NE(h["beat"].find('.'), std::string::npos);
  EXPECT_NEAR(std::stod(h["beat"]), now, 1e-3);
  auto info = Json::parse(h["info"]);
  EXPECT_EQ(info["hostname"], "vm");
  EXPECT_TRUE(info["started_at"].is_number_float());
  EXPECT_EQ(info["queues"], Json::array({"default"}));
  EXPECT_EQ(info["identity"], beat.identity);
  EXPECT_GT(raw_->ttl(beat.identity), 55);
  EXPECT_LE(raw_->ttl(beat.identity), 60);

  for (const char* suffix : {":workers", ":work"}) {
    auto w = raw_->hash(beat.identity + suffix);
    ASSERT_EQ(w.size(), 1u) << suffix;
    auto entry = Json::parse(w["tid-1"]);
    EXPECT_EQ(entry["queue"], "default");
    ASSERT_TRUE(entry["payload"].is_string());  // JSON text inside a JSON string
    EXPECT_EQ(entry["payload"].get<std::string>(), job_json("w1"));
    ASSERT_TRUE(entry["run_at"].is_number_integer());
    EXPECT_EQ(entry["run_at"].get<std::int64_t>(), static_cast<std::int64_t>(now - 2.5));
    EXPECT_GT(raw_->ttl(beat.identity + suffix), 55);
  }

  const std::string date = utc_date(now);
  EXPECT_EQ(raw_->get("stat:processed"), "3");
  EXPECT_EQ(raw_->get("stat:failed"), "1");
  EXPECT_EQ(raw_->get("stat:processed:" + date), "3");
  EXPECT_EQ(raw_->get("stat:failed:" + date), "1");
  EXPECT_EQ(raw_->ttl("stat:processed"), -1);
  EXPECT_GT(raw_->ttl("stat:processed:" + date), 157680000 - 10);

  // Signals: LPUSH + EXPIRE as Sidekiq's API does; the next beat takes them all, oldest first.
  ASSERT_TRUE(store_->signal(beat.identity, "TSTP").ok());
  ASSERT_TRUE(store_->signal(beat.identity, "TERM").ok());
  EXPECT_EQ(raw_->list(beat.identity + "-signals"), (std::vector<std::string>{"TERM", "TSTP"}));
  EXPECT_GT(raw_->ttl(beat.identity + "-signals"), 55);
  beat.quiet = true;
  beat.work.clear();
  beat.busy = 0;
  signals = store_->heartbeat(beat);
  ASSERT_TRUE(signals.ok());
  EXPECT_EQ(*signals, (std::vector<std::string>{"TSTP", "TERM"}));
  EXPECT_EQ(raw_->hash(beat.identity)["quiet"], "true");
  EXPECT_TRUE(raw_->hash(beat.identity + ":workers").empty());
  EXPECT_EQ(raw_->get("stat:processed"), "6");

  auto procs = store_->processes(now);
  ASSERT_TRUE(procs.ok());
  ASSERT_EQ(procs->size(), 1u);
  EXPECT_TRUE((*procs)[0].quiet);
  EXPECT_EQ((*procs)[0].info["pid"], 5501);

  ASSERT_TRUE(store_->unregister(beat.identity).ok());
  EXPECT_TRUE(raw_->members("processes").empty());
  EXPECT_FALSE(raw_->hash(beat.identity).empty());  // expires on its own, as in Sidekiq
}

TEST_F(RedisStoreTest, ReadersPruneStaleProcessesAndReadSidekiq7Work) {
  raw_->run({"SADD", "processes", "ghost:1:aaa", "ruby:2:bbb"});
  raw_->run({"HSET", "ruby:2:bbb", "info", R"({"hostname":"ruby","pid":2,"queues":["q"]})", "busy",
             "1", "beat", "1700000000.5", "quiet", "false", "rss", "100"});
  // Sidekiq 7 writes only :work, and readers accept an object as payload.
  raw_->run({"HSET", "ruby:2:bbb:work", "abc",
             R"({"queue":"q","payload":{"class":"X","jid":"j9","args":[]},"run_at":1700000000})"});
  auto procs = store_->processes(now_s());
  ASSERT_TRUE(procs.ok());
  ASSERT_EQ(procs->size(), 1u);
  EXPECT_EQ((*procs)[0].identity, "ruby:2:bbb");
  EXPECT_EQ((*procs)[0].beat, 1700000000.5);
  EXPECT_EQ(raw_->members("processes"), std::vector<std::string>{"ruby:2:bbb"});

  auto work = store_->workers(now_s());
  ASSERT_TRUE(work.ok());
  ASSERT_EQ(work->size(), 1u);
  EXPECT_EQ((*work)[0].process, "ruby:2:bbb");
  EXPECT_EQ((*work)[0].thread, "abc");
  EXPECT_EQ(Json::parse((*work)[0].payload)["jid"], "j9");
  EXPECT_EQ((*work)[0].run_at, 1700000000);

  auto stats = store_->stats(wall());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->processes, 1u);
  EXPECT_EQ(stats->busy, 1u);
}

TEST_F(RedisStoreTest, KillTrimsTheDeadSetLikeSidekiq) {
  DeadLimits limits{3, 1000};
  const double now = 1700000000;
  for (int i = 0; i < 5; ++i) {
    std::string jid = "d" + std::to_string(i);
    ASSERT_TRUE(store_
                    ->kill({.job = Fetched{"default", job_json(jid), 0, ""},
                            .jid = jid,
                            .payload = job_json(jid),
                            .now = now + i,
                            .limits = limits})
                    .ok());
  }
  // ZREMRANGEBYRANK dead 0 -3 keeps max_jobs - 1 entries (redis-layout.md §6).
  EXPECT_EQ(raw_->run({"ZRANGE", "dead", "0", "-1"}).strings(),
            (std::vector<std::string>{job_json("d3"), job_json("d4")}));
  ASSERT_TRUE(store_
                  ->kill({.job = Fetched{"default", job_json("late"), 0, ""},
                          .jid = "late",
                          .payload = job_json("late"),
                          .now = now + 2000,
                          .limits = limits})
                  .ok());
  EXPECT_EQ(raw_->run({"ZRANGE", "dead", "0", "-1"}).strings(),
            std::vector<std::string>{job_json("late")});  // older than max_age are gone
}

TEST_F(RedisStoreTest, StatsHistoryAndReset) {
  raw_->run({"SET", "stat:processed", "10"});
  raw_->run({"SET", "stat:failed", "2"});
  const double now = 1700000000;  // 2023-11-14
  raw_->run({"SET", "stat:processed:2023-11-14", "7"});
  raw_->run({"SET", "stat:processed:2023-11-12", "5"});
  auto h = store_->history("processed", 3, now);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, (std::vector<std::int64_t>{7, 0, 5}));
  EXPECT_EQ(store_->history("bogus", 3, now).code(), Errc::invalid_argument);
  ASSERT_TRUE(store_
                  ->push({.jobs = std::vector<PushItem>{item("a"), item("b"), item("c", "low")},
                          .now = wall()})
                  .ok());
  auto s = store_->stats(wall());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->processed, 10);
  EXPECT_EQ(s->failed, 2);
  EXPECT_EQ(s->enqueued, 3u);
  ASSERT_TRUE(store_->reset_stats().ok());
  EXPECT_EQ(raw_->get("stat:processed"), "0");
  EXPECT_EQ(raw_->get("stat:failed"), "0");
}

TEST_F(RedisStoreTest, QueueAdminReadsSidekiqLists) {
  const double now = now_s();
  std::string old_job = R"({"class":"X","args":[],"jid":"old","queue":"default","enqueued_at":)" +
                        std::to_string(now - 30) + "}";
  raw_->run({"SADD", "queues", "default"});
  raw_->run({"LPUSH", "queue:default", old_job, job_json("n1"), job_json("n2")});
  auto qs = store_->queues(wall());
  ASSERT_TRUE(qs.ok());
  ASSERT_EQ(qs->size(), 1u);
  EXPECT_EQ((*qs)[0].size, 3u);
  EXPECT_NEAR((*qs)[0].latency, 30, 2);
  auto page = store_->queue_jobs("default", 0, 2);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(*page, (std::vector<std::string>{old_job, job_json("n1")}));
  page = store_->queue_jobs("default", 2, 5);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(*page, std::vector<std::string>{job_json("n2")});
  ASSERT_TRUE(store_->queue_delete("default", "n1").ok());
  EXPECT_EQ(store_->queue_delete("default", "n1").code(), Errc::not_found);
  EXPECT_EQ(raw_->list("queue:default"), (std::vector<std::string>{job_json("n2"), old_job}));
  ASSERT_TRUE(store_->clear_queue("default").ok());
  EXPECT_TRUE(raw_->keys().empty());
}

TEST_F(RedisStoreTest, WrongTypeIsReportedAsCorrupt) {
  raw_->run({"SET", "queue:default", "not a list"});
  auto st = store_->push({.jobs = std::vector<PushItem>{item("x")}, .now = wall()});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::corrupt);
  EXPECT_NE(st.message().find("WRONGTYPE"), std::string::npos) << st.message();
  auto f = store_->fetch({.queues = std::vector<std::string>{"default"},
                          .max = 1,
                          .wait = 0ms,
                          .owner = "h:1:x",
                          .now = wall()});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.code(), Errc::corrupt);
}

// ---- reliable fetch ------------------------------------------------------------

TEST_F(RedisStoreTest, FetchMovesJobsIntoTheOwnersInProgressList) {
  const std::string owner = "host:42:abcdef012345";
  ASSERT_TRUE(
      store_
          ->push({.jobs = std::vector<PushItem>{item("j1"), item("j2"), item("j3")}, .now = wall()})
          .ok());
  auto got = store_->fetch({.queues = std::vector<std::string>{"default"},
                            .max = 2,
                            .wait = 0ms,
                            .owner = owner,
                            .now = wall()});
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].payload, job_json("j1"));
  EXPECT_EQ((*got)[1].payload, job_json("j2"));
  EXPECT_EQ((*got)[0].queue, "default");

  const std::string inprog = "errand:inprogress:" + owner + ":queue:default";
  EXPECT_EQ(raw_->list("queue:default"), std::vector<std::string>{job_json("j3")});
  EXPECT_EQ(raw_->list(inprog), (std::vector<std::string>{job_json("j2"), job_json("j1")}));
  EXPECT_EQ(raw_->members("errand:inprogress:" + owner), std::vector<std::string>{"default"});
  EXPECT_EQ(raw_->hash("errand:inprogress").count(owner), 1u);
  EXPECT_EQ(raw_->members("queues"), std::vector<std::string>{"default"});  // Sidekiq sees no more

  ASSERT_TRUE(store_->ack(std::span<const Fetched>(got->data(), 1)).ok());
  EXPECT_EQ(raw_->list(inprog), std::vector<std::string>{job_json("j2")});

  // requeue: back to the tail, where it runs next.
  ASSERT_TRUE(
      store_->requeue({.jobs = std::span<const Fetched>(got->data() + 1, 1), .now = wall()}).ok());
  EXPECT_TRUE(raw_->list(inprog).empty());
  EXPECT_EQ(raw_->list("queue:default"),
            (std::vector<std::string>{job_json("j3"), job_json("j2")}));

  // retry: claim released and the new payload in `retry` at the given score.
  auto again = store_->fetch({.queues = std::vector<std::string>{"default"},
                              .max = 1,
                              .wait = 0ms,
                              .owner = owner,
                              .now = wall()});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  ASSERT_TRUE(store_
                  ->retry({.job = (*again)[0],
                           .jid = "j2",
                           .payload = job_json("j2-failed"),
                           .at = 1700000100.5,
                           .now = wall()})
                  .ok());
  EXPECT_TRUE(raw_->list(inprog).empty());
  EXPECT_EQ(raw_->run({"ZSCORE", "retry", job_json("j2-failed")}).str, "1700000100.5");
}

TEST_F(RedisStoreTest, FetchFromAnotherViewAcksByLookingUpTheOwner) {
  ASSERT_TRUE(store_->push({.jobs = std::vector<PushItem>{item("j1")}, .now = wall()}).ok());
  auto got = store_->fetch({.queues = std::vector<std::string>{"default"},
                            .max = 1,
                            .wait = 0ms,
                            .owner = "h:1:owner",
                            .now = wall()});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  auto other = open(server_->url());
  Fetched f = (*got)[0];
  f.id = 0;  // a handle this view never issued
  ASSERT_TRUE(other->ack(std::span<const Fetched>(&f, 1)).ok());
  EXPECT_TRUE(raw_->list("errand:inprogress:h:1:owner:queue:default").empty());
}

TEST_F(RedisStoreTest, FetchDrainsQueuesInOrderIntoOneListPerQueue) {
  ASSERT_TRUE(store_
                  ->push({.jobs = std::vector<PushItem>{item("l1", "low"), item("h1", "high"),
                                                        item("l2", "low")},
                          .now = wall()})
                  .ok());
  std::vector<std::string> order{"high", "low"};
  auto got =
      store_->fetch({.queues = order, .max = 2, .wait = 0ms, .owner = "h:1:x", .now = wall()});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].queue, "high");
  EXPECT_EQ((*got)[1].queue, "low");
  EXPECT_EQ((*got)[1].payload, job_json("l1", "low"));
  EXPECT_EQ(raw_->members("errand:inprogress:h:1:x"), (std::vector<std::string>{"high", "low"}));
  EXPECT_EQ(raw_->list("errand:inprogress:h:1:x:queue:low"),
            std::vector<std::string>{job_json("l1", "low")});
  EXPECT_EQ(raw_->list("queue:low"), std::vector<std::string>{job_json("l2", "low")});
}

TEST_F(RedisStoreTest, FetchBlocksUntilAJobArrives) {
  for (std::size_t nq : {1u, 2u}) {
    std::vector<std::string> qs{"default", "other"};
    qs.resize(nq);
    std::atomic<bool> pushed{false};
    std::thread producer([&] {
      std::this_thread::sleep_for(150ms);
      auto s = open(server_->url());
      ASSERT_TRUE(
          s->push({.jobs = std::vector<PushItem>{item("late" + std::to_string(nq))}, .now = wall()})
              .ok());
      pushed = true;
    });
    auto t0 = std::chrono::steady_clock::now();
    auto got =
        store_->fetch({.queues = qs, .max = 1, .wait = 3s, .owner = "h:1:block", .now = wall()});
    auto waited = std::chrono::steady_clock::now() - t0;
    producer.join();
    ASSERT_TRUE(got.ok()) << got.error().message();
    ASSERT_EQ(got->size(), 1u);
    EXPECT_TRUE(pushed);
    EXPECT_GT(waited, 100ms);
    EXPECT_LT(waited, 1s);
    EXPECT_EQ(raw_->list("errand:inprogress:h:1:block:queue:default").size(), 1u);
    ASSERT_TRUE(store_->ack(*got).ok());
  }
  // Nothing arrives: an empty result after about `wait`.
  auto t0 = std::chrono::steady_clock::now();
  auto none = store_->fetch({.queues = std::vector<std::string>{"default"},
                             .max = 1,
                             .wait = 200ms,
                             .owner = "h:1:block",
                             .now = wall()});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 190ms);
}

TEST_F(RedisStoreTest, RescueReturnsJobsOfExpiredOwnersOnly) {
  ASSERT_TRUE(
      store_->push({.jobs = std::vector<PushItem>{item("j1"), item("j2")}, .now = wall()}).ok());
  const double now = now_s();
  ProcessBeat dead;
  dead.identity = "h:1:dead";
  dead.info = Json::object();
  dead.beat = now;
  dead.ttl_seconds = 1;
  ProcessBeat live = dead;
  live.identity = "h:2:live";
  live.ttl_seconds = 60;
  ASSERT_TRUE(store_->heartbeat(dead).ok());
  ASSERT_TRUE(store_->heartbeat(live).ok());
  ASSERT_EQ(store_
                ->fetch({.queues = std::vector<std::string>{"default"},
                         .max = 1,
                         .wait = 0ms,
                         .owner = dead.identity,
                         .now = wall()})
                ->size(),
            1u);
  ASSERT_EQ(store_
                ->fetch({.queues = std::vector<std::string>{"default"},
                         .max = 1,
                         .wait = 0ms,
                         .owner = live.identity,
                         .now = wall()})
                ->size(),
            1u);
  EXPECT_TRUE(raw_->list("queue:default").empty());

  auto second = open(server_->url());  // another process's view
  auto n = second->rescue_orphans({.now = now, .grace_seconds = 30});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  // Real expiry of the dead owner's Sidekiq hash (TTL 1 s).
  std::this_thread::sleep_for(2100ms);
  EXPECT_TRUE(raw_->hash(dead.identity).empty());
  n = second->rescue_orphans({.now = now_s(), .grace_seconds = 30});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  // Back in its queue, the crash counted as the payload's first member.
  EXPECT_EQ(raw_->list("queue:default"),
            std::vector<std::string>{R"({"errand_crashes":1,)" + job_json("j1").substr(1)});
  EXPECT_TRUE(raw_->keys("errand:inprogress:" + dead.identity + "*").empty());
  EXPECT_EQ(raw_->hash("errand:inprogress").count(dead.identity), 0u);
  EXPECT_EQ(raw_->list("errand:inprogress:" + live.identity + ":queue:default"),
            std::vector<std::string>{job_json("j2")});

  // The live owner's deadline, judged at a later `now`, has passed too.
  n = second->rescue_orphans({.now = now + 61, .grace_seconds = 30});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(raw_->list("queue:default").size(), 2u);
  EXPECT_TRUE(raw_->keys("errand:*").empty());
}

TEST_F(RedisStoreTest, RescueWaitsOutTheGracePeriodForUnregisteredOwners) {
  ASSERT_TRUE(store_->push({.jobs = std::vector<PushItem>{item("j1")}, .now = wall()}).ok());
  const double now = now_s();
  {
    // A process that claimed a job and was killed before its first heartbeat.
    auto crashed = open(server_->url());
    ASSERT_EQ(crashed
                  ->fetch({.queues = std::vector<std::string>{"default"},
                           .max = 1,
                           .wait = 0ms,
                           .owner = "h:3:new",
                           .now = wall()})
                  ->size(),
              1u);
  }
  auto n = store_->rescue_orphans({.now = now + 10, .grace_seconds = 30});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  n = store_->rescue_orphans({.now = now + 31, .grace_seconds = 30});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  // Back in its queue, the crash counted as the payload's first member.
  EXPECT_EQ(raw_->list("queue:default"),
            std::vector<std::string>{R"({"errand_crashes":1,)" + job_json("j1").substr(1)});
}

// ---- promotion -----------------------------------------------------------------

TEST_F(RedisStoreTest, PromoteEditsOnlyTheTopLevelEnqueuedAt) {
  // Precision, key order, a nested "enqueued_at" (ActiveJob), escapes and
  // "/": everything but the top-level enqueued_at must stay byte for byte.
  const std::string with =
      R"({"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper","wrapped":"A/B",)"
      R"("queue":"mail\"ers","args":[{"enqueued_at":"2023-01-01T00:00:00Z","n":12345678901234567,)"
      R"("s":"}{\\\"]["}],"jid":"p1","created_at":1700000000.9679568,"enqueued_at":1.5,"retry":true})";
  const std::string without = R"({ "class":"X", "args":[], "jid":"p2", "queue":"low" })";
  const std::string no_queue = R"({"class":"X","args":[],"jid":"p3"})";
  raw_->run({"ZADD", "schedule", "1700000000", with, "1700000001", without});
  raw_->run({"ZADD", "retry", "1700000002", no_queue, "1900000000", job_json("future")});

  const double now = 1700000050.25;
  auto moved = store_->promote_due({.now = now, .limit = 100});
  ASSERT_TRUE(moved.ok()) << moved.error().message();
  EXPECT_EQ(*moved, 3u);
  EXPECT_EQ(raw_->run({"ZCARD", "retry"}).integer, 1);
  EXPECT_EQ(raw_->run({"ZCARD", "schedule"}).integer, 0);
  EXPECT_EQ(raw_->members("queues"), (std::vector<std::string>{"default", "low", "mail\"ers"}));

  std::string expected_with = with;
  expected_with.replace(expected_with.find("\"enqueued_at\":1.5") + 14, 3, "1700000050.25");
  EXPECT_EQ(raw_->list("queue:mail\"ers"), std::vector<std::string>{expected_with});
  EXPECT_EQ(
      raw_->list("queue:low"),
      std::vector<std::string>{
          R"({ "class":"X", "args":[], "jid":"p2", "queue":"low" ,"enqueued_at":1700000050.25})"});
  EXPECT_EQ(raw_->list("queue:default"),
            std::vector<std::string>{
                R"({"class":"X","args":[],"jid":"p3","enqueued_at":1700000050.25})"});
  auto parsed = Json::parse(raw_->list("queue:low")[0]);
  EXPECT_EQ(parsed["enqueued_at"].get<double>(), now);
}

TEST_F(RedisStoreTest, PromoteMovesEachEntryExactlyOnceUnderContention) {
  const int kJobs = 600;
  std::vector<std::string> zadd{"ZADD", "schedule"};
  for (int i = 0; i < kJobs; ++i) {
    zadd.push_back(std::to_string(1700000000 + i % 7));
    zadd.push_back(job_json("c" + std::to_string(i)));
  }
  raw_->run(zadd);
  std::atomic<std::size_t> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      auto s = open(server_->url());
      for (;;) {
        auto n = s->promote_due({.now = 1700000100, .limit = 37});
        ASSERT_TRUE(n.ok());
        if (*n == 0) break;
        total += *n;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(total.load(), static_cast<std::size_t>(kJobs));
  auto list = raw_->list("queue:default");
  EXPECT_EQ(list.size(), static_cast<std::size_t>(kJobs));
  std::sort(list.begin(), list.end());
  EXPECT_EQ(std::unique(list.begin(), list.end()), list.end());
}

TEST_F(RedisStoreTest, ScriptsAreReloadedAfterScriptFlush) {
  raw_->run({"ZADD", "retry", "1", job_json("r1")});
  ASSERT_TRUE(store_->promote_due({.now = 100, .limit = 10}).ok());
  raw_->run({"SCRIPT", "FLUSH"});
  raw_->run({"ZADD", "retry", "1", job_json("r2")});
  auto n = store_->promote_due({.now = 100, .limit = 10});
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(*n, 1u);
}

TEST_F(RedisStoreTest, SetMoveIsAtomicAndFindsByScoreAndJid) {
  raw_->run({"ZADD", "retry", "1700000000.125", job_json("m1"), "1700000000.125", job_json("m2")});
  auto e = store_->set_find(SetKind::retry, 1700000000.125, "m2");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->payload, job_json("m2"));
  ASSERT_TRUE(store_
                  ->set_move(SetKind::retry, 1700000000.125, "m2", MoveTo::queue, "default",
                             job_json("m2-new"), 1700000001, DeadLimits{})
                  .ok());
  EXPECT_EQ(raw_->list("queue:default"), std::vector<std::string>{job_json("m2-new")});
  EXPECT_EQ(store_
                ->set_move(SetKind::retry, 1700000000.125, "m2", MoveTo::queue, "default",
                           job_json("m2-new"), 1700000001, DeadLimits{})
                .code(),
            Errc::not_found);
  ASSERT_TRUE(store_
                  ->set_move(SetKind::retry, 1700000000.125, "m1", MoveTo::dead, "", job_json("m1"),
                             1700000002, DeadLimits{})
                  .ok());
  EXPECT_EQ(raw_->run({"ZSCORE", "dead", job_json("m1")}).str, "1700000002");
  EXPECT_EQ(raw_->run({"ZCARD", "retry"}).integer, 0);
}

// ---- namespaces ----------------------------------------------------------------

TEST_F(RedisStoreTest, NamespacePrefixesEveryKeyAndNothingElse) {
  auto ns = open(server_->url() + "?namespace=app");
  ASSERT_TRUE(
      ns->push({.jobs = std::vector<PushItem>{item("n1"), item("n2"), item("s1", "default", 5)},
                .now = wall()})
          .ok());
  ProcessBeat beat;
  beat.identity = "h:9:ns";
  beat.info = Json::object();
  beat.beat = now_s();
  beat.work.push_back(WorkRecord{"", "t", "default", job_json("n1"), beat.beat});
  ASSERT_TRUE(ns->heartbeat(beat).ok());
  ASSERT_TRUE(ns->signal(beat.identity, "TSTP").ok());
  ASSERT_EQ(ns->fetch({.queues = std::vector<std::string>{"default"},
                       .max = 1,
                       .wait = 0ms,
                       .owner = beat.identity,
                       .now = wall()})
                ->size(),
            1u);
  ASSERT_EQ(*ns->promote_due({.now = 10, .limit = 10}), 1u);

  for (const auto& k : raw_->keys()) EXPECT_EQ(k.rfind("app:", 0), 0u) << k;
  EXPECT_EQ(raw_->members("app:queues"), std::vector<std::string>{"default"});
  EXPECT_EQ(raw_->members("app:processes"), std::vector<std::string>{beat.identity});
  EXPECT_EQ(raw_->list("app:queue:default").size(), 2u);
  EXPECT_EQ(raw_->list("app:errand:inprogress:h:9:ns:queue:default").size(), 1u);
  EXPECT_FALSE(raw_->hash("app:h:9:ns").empty());
  EXPECT_EQ(raw_->hash("app:h:9:ns:workers").size(), 1u);
  EXPECT_EQ(raw_->list("app:h:9:ns-signals"), std::vector<std::string>{"TSTP"});
  EXPECT_EQ(raw_->get("app:stat:processed"), "0");

  // The namespaced view and the plain one do not see each other.
  auto stats = store_->stats(wall());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->enqueued, 0u);
  EXPECT_EQ(ns->stats(wall())->enqueued, 2u);
  EXPECT_EQ(*ns->rescue_orphans({.now = now_s() + 1000, .grace_seconds = 0}), 1u);
}

// ---- outages -------------------------------------------------------------------

TEST(RedisReconnect, UnavailableWhileDownThenWorksAgainWithoutReopening) {
  if (!RedisServer::installed()) GTEST_SKIP() << "redis-server not installed";
  RedisServer server(RedisServerOptions{.appendonly = true, .password = ""});
  std::string why;
  ASSERT_TRUE(server.start(&why)) << why;
  RedisOptions options;
  options.port = server.port();
  options.command_timeout = 1s;
  options.pool_size = 2;
  auto opened = open_redis_store(options);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto store = std::move(opened).value();
  ASSERT_TRUE(store->push({.jobs = std::vector<PushItem>{item("before")}, .now = wall()}).ok());

  server.kill9();
  for (int i = 0; i < 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto st = store->push({.jobs = std::vector<PushItem>{item("down")}, .now = wall()});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Errc::unavailable);
    EXPECT_NE(
        st.message().find("redis 127.0.0.1:" + std::to_string(server.port()) + " unreachable"),
        std::string::npos)
        << st.message();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    auto f = store->fetch({.queues = std::vector<std::string>{"default"},
                           .max = 1,
                           .wait = 100ms,
                           .owner = "h:1:r",
                           .now = wall()});
    EXPECT_EQ(f.code(), Errc::unavailable);
  }

  ASSERT_TRUE(server.start(&why)) << why;
  Status st = fail(Errc::internal, "not tried");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    st = store->push({.jobs = std::vector<PushItem>{item("after")}, .now = wall()});
    if (st.ok()) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(st.ok()) << st.message();
  // AOF with fsync always: the job pushed before the crash survived.
  auto got = store->fetch({.queues = std::vector<std::string>{"default"},
                           .max = 10,
                           .wait = 0ms,
                           .owner = "h:1:r",
                           .now = wall()});
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].payload, job_json("before"));
  EXPECT_EQ((*got)[1].payload, job_json("after"));
}

TEST(RedisReconnect, AnEventSubscriptionSubscribesAgainAfterARestart) {
  if (!RedisServer::installed()) GTEST_SKIP() << "redis-server not installed";
  RedisServer server;
  std::string why;
  ASSERT_TRUE(server.start(&why)) << why;
  auto opened = open_redis_store(server.url());
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto store = std::move(opened).value();
  std::mutex mu;
  std::vector<std::string> seen;  // guarded by mu
  auto sub = store->subscribe_events([&](const JobEvent& e) {
    std::lock_guard lk(mu);
    seen.push_back(e.jid);
  });
  ASSERT_TRUE(sub.ok()) << sub.error().message();
  auto saw = [&](const std::string& prefix) {
    std::lock_guard lk(mu);
    return std::any_of(seen.begin(), seen.end(),
                       [&](const std::string& j) { return j.rfind(prefix, 0) == 0; });
  };
  // Publishes until the subscriber has one (delivery is at most once: a
  // message sent while it reconnects is missed).
  auto publish_until_seen = [&](const std::string& prefix) {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (int n = 0; std::chrono::steady_clock::now() < deadline && !saw(prefix); ++n) {
      JobEvent e;
      e.kind = JobEventKind::started;
      e.jid = prefix + std::to_string(n);
      e.job_class = "Resize";
      e.queue = "default";
      (void)store->publish_events(std::span<const JobEvent>(&e, 1));
      std::this_thread::sleep_for(50ms);
    }
    return saw(prefix);
  };
  ASSERT_TRUE(publish_until_seen("before-"));
  server.kill9();
  std::this_thread::sleep_for(300ms);  // the subscriber finds itself cut off
  ASSERT_TRUE(server.start(&why)) << why;
  EXPECT_TRUE(publish_until_seen("after-")) << "no event reached the subscriber after the restart";
}

TEST(RedisReconnect, ABlockedFetchReturnsUnavailableWhenTheServerDies) {
  if (!RedisServer::installed()) GTEST_SKIP() << "redis-server not installed";
  RedisServer server;
  std::string why;
  ASSERT_TRUE(server.start(&why)) << why;
  auto opened = open_redis_store(server.url());
  ASSERT_TRUE(opened.ok());
  auto store = std::move(opened).value();
  std::thread killer([&] {
    std::this_thread::sleep_for(200ms);
    server.stop();
  });
  auto t0 = std::chrono::steady_clock::now();
  auto got = store->fetch({.queues = std::vector<std::string>{"default"},
                           .max = 1,
                           .wait = 5s,
                           .owner = "h:1:b",
                           .now = wall()});
  killer.join();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.code(), Errc::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
}

}  // namespace
}  // namespace errand
