// Hostile and malformed payloads pushed raw into a store (LPUSH queue:default
// on a real redis-server; the SQLite store's own push, which stores the text
// as given) while a real `errand worker` process runs: the worker never dies,
// each payload ends in the dead set with its reason (naming the limit for the
// 100,000-level and the 100 MiB payloads), none is lost, and the ordinary jobs
// queued around them all run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "errand/errand.h"
#include "support/process.h"
#include "support/redis_server.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

struct Hostile {
  std::string name;
  std::string text;
  std::string jid;     ///< the jid its dead entry must carry; empty: it keeps the text instead
  std::string reason;  ///< part of the dead entry's error_message
};

std::string deep_arrays(std::size_t n) { return std::string(n, '[') + std::string(n, ']'); }

std::string deep_objects(std::size_t n) {
  std::string s;
  s.reserve(n * 6 + n + 1);
  for (std::size_t i = 0; i < n; ++i) s += R"({"a":)";
  return s + "1" + std::string(n, '}');
}

std::vector<Hostile> corpus() {
  const std::string rr = R"("class":"RecordRun")";
  return {
      {"not json", "this is not json", "", "not valid JSON"},
      {"empty", "", "", "not valid JSON"},
      {"an array", "[1,2,3]", "", "not a JSON object"},
      {"null", "null", "", "not a JSON object"},
      {"no args", "{" + rr + R"(,"jid":"noargs01"})", "noargs01", "'args'"},
      {"string args", "{" + rr + R"(,"args":"nope","jid":"strargs1"})", "strargs1", "'args'"},
      {"numeric class", R"({"class":123,"args":[],"jid":"numclass"})", "numclass", "'class'"},
      {"truncated", "{" + rr + R"(,"jid":"trunc001","args":[1)", "trunc001", "not valid JSON"},
      {"invalid utf-8", R"({"jid":"badutf81",)" + rr + ",\"args\":[\"\xff\xfe\"]}", "badutf81",
       "not valid JSON"},
      {"number overflow", R"({"jid":"bignum01",)" + rr + R"(,"args":[1e999]})", "bignum01",
       "not valid JSON"},
      {"unterminated 1M brackets", std::string(1'000'000, '['), "", "max_depth"},
      {"100,000-deep args",
       "{" + rr + ",\"args\":[" + deep_arrays(100'000) + "],\"jid\":\"deep0001\"}", "deep0001",
       "max_depth"},
      {"100,000-deep objects",
       R"({"jid":"deepobj1",)" + rr + ",\"args\":[" + deep_objects(100'000) + "]}", "deepobj1",
       "max_depth"},
      {"100 MiB",
       "{" + rr + ",\"args\":[\"" + std::string(100u << 20, 'x') + "\"],\"jid\":\"huge0001\"}",
       "huge0001", "max_bytes"},
      {"ActiveJob without its job hash",
       R"({"class":"Sidekiq::ActiveJob::Wrapper","args":["x"],"jid":"ajbad001","retry":0})",
       "ajbad001", "ActiveJob"},
      {"wrong argument type", "{" + rr + R"(,"args":["not an int"],"jid":"badarg01"})", "badarg01",
       "must be an integer"},
  };
}

/// LPUSH queue:default + SADD queues default, as Sidekiq's client does, on a
/// connection with a timeout long enough for 100 MiB on a busy machine.
bool lpush(int port, const std::string& text) {
  timeval tv{60, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return false;
  }
  redisSetTimeout(c, tv);
  auto ok = [](void* r) {
    auto* reply = static_cast<redisReply*>(r);
    const bool good = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
    if (reply) freeReplyObject(reply);
    return good;
  };
  const bool pushed = ok(redisCommand(c, "LPUSH queue:default %b", text.data(), text.size()));
  const bool added = pushed && ok(redisCommand(c, "SADD queues default"));
  redisFree(c);
  return added;
}

/// Finds the dead entry for `h` among `dead` (parsed), or null.
std::string text_of(const Json& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const Json* entry_for(const Hostile& h, const std::vector<Json>& dead) {
  for (const auto& d : dead) {
    if (!h.jid.empty() && text_of(d, "jid") == h.jid) return &d;
    auto args = d.find("args");
    if (h.jid.empty() && text_of(d, "class") == "errand::BadPayload" && args != d.end() &&
        args->is_array() && !args->empty() && (*args)[0] == h.text)
      return &d;
  }
  return nullptr;
}

class HostilePayloadTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HostilePayloadTest, WorkerParksEachInTheDeadSetAndRunsTheRest) {
  constexpr int kOrdinary = 100;
  TempDir dir;
  RedisServer redis;
  std::string url;
  if (GetParam() == "redis") {
    if (!RedisServer::installed()) GTEST_SKIP() << "redis-server is not installed";
    std::string error;
    ASSERT_TRUE(redis.start(&error)) << error;
    // A 100 MiB payload crosses the wire several times (fetch, kill, the
    // heartbeat's record of running jobs): on a busy 2-core machine that
    // takes longer than the default 5 s command timeout.
    url = redis.url() + "?command_timeout_ms=120000";
  } else {
    url = sqlite_url(dir);
  }
  auto store = open_store(url);
  ASSERT_TRUE(store.ok()) << store.error().message();
  const auto hostile = corpus();
  // Ordinary jobs, the corpus, then ordinary jobs again: the worker meets
  // the hostile payloads in the middle of its work.
  enqueue_record_runs(url, 0, kOrdinary / 2);
  ASSERT_FALSE(HasFatalFailure());
  for (const auto& h : hostile) {
    if (GetParam() == "redis") {
      ASSERT_TRUE(lpush(redis.port(), h.text)) << h.name;
    } else {
      PushItem item;
      item.queue = "default";
      item.payload = h.text;
      item.jid = h.jid;
      ASSERT_TRUE((*store)->push({.jobs = std::vector<PushItem>{item}, .now = wall()}).ok())
          << h.name;
    }
  }
  enqueue_record_runs(url, kOrdinary / 2, kOrdinary);
  ASSERT_FALSE(HasFatalFailure());

  const auto record = dir / "record.txt";
  // A long process ttl: while a 100 MiB payload is on the wire the heartbeat
  // is late, and a 3 s ttl would have the worker's own claims rescued.
  Worker worker(dir, url, {"-q", "default", "-c", "2", "--process-ttl", "120"},
                {{"ERRAND_RECORD_FILE", record.string()}});
  const bool settled = eventually(240s, [&] {
    if (!worker.process->running()) return true;
    auto dead = (*store)->set_size(SetKind::dead);
    auto s = (*store)->stats(wall());
    return count_lines(record) >= kOrdinary && dead.ok() && *dead >= hostile.size() && s.ok() &&
           s->enqueued == 0 && s->busy == 0;
  });
  ASSERT_TRUE(worker.process->running()) << "the worker died:\n" << worker.output().substr(0, 4000);
  ASSERT_TRUE(settled) << "lines=" << count_lines(record) << "\n"
                       << worker.output().substr(0, 4000);

  EXPECT_EQ(count_lines(record), static_cast<std::size_t>(kOrdinary)) << "each ordinary job once";
  auto entries = (*store)->set_range(SetKind::dead, 0, 100);
  ASSERT_TRUE(entries.ok()) << entries.error().message();
  EXPECT_EQ(entries->size(), hostile.size()) << "one dead entry per hostile payload";
  std::vector<Json> dead;
  for (const auto& e : *entries) {
    Json d = Json::parse(e.payload, nullptr, false);
    EXPECT_TRUE(d.is_object()) << "every dead entry is a JSON object: " << e.payload.substr(0, 200);
    if (d.is_object()) dead.push_back(std::move(d));
  }
  for (const auto& h : hostile) {
    const Json* d = entry_for(h, dead);
    ASSERT_NE(d, nullptr) << h.name << " is not in the dead set";
    const std::string message = text_of(*d, "error_message");
    EXPECT_NE(message.find(h.reason), std::string::npos) << h.name << ": " << message;
    EXPECT_FALSE(text_of(*d, "error_class").empty()) << h.name;
  }
  // The 100 MiB payload is kept whole, as the dead entry's one argument.
  const Json* huge = entry_for(hostile[13], dead);
  ASSERT_NE(huge, nullptr);
  EXPECT_EQ((*huge)["args"][0], hostile[13].text);
  EXPECT_EQ(worker.stop(), 0) << worker.output().substr(0, 4000);
}

INSTANTIATE_TEST_SUITE_P(Stores, HostilePayloadTest, ::testing::Values("redis", "sqlite"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace errand::testing
