// Poison pills (issue #11 item 5), in process: a payload whose crash count
// (errand_crashes, written by the stores' rescue; see the conformance case
// EachRescueCountsACrashInThePayload) has reached max_crashes goes to the dead
// set as errand::PoisonPill without running; below it, it runs.
#include <gtest/gtest.h>

#include <atomic>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/process.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_poison_runs{0};

struct PoisonCount {
  static constexpr JobOptions options{.queue = "poison"};
  void perform(int) { g_poison_runs.fetch_add(1); }
};
ERRAND_JOB(PoisonCount);

std::string payload(const std::string& jid, int crashes) {
  return R"({"errand_crashes":)" + std::to_string(crashes) +
         R"(,"class":"PoisonCount","args":[1],"jid":")" + jid +
         R"(","queue":"poison","retry":true,"enqueued_at":1700000000.5})";
}

class PoisonPill : public ::testing::TestWithParam<std::string> {
 protected:
  std::string url() const {
    return GetParam() == "memory" ? "memory://" : "sqlite://" + (dir_ / "poison.db").string();
  }
  TempDir dir_;
};

TEST_P(PoisonPill, AJobAtMaxCrashesGoesToTheDeadSetWithoutRunning) {
  auto store = open_store(url()).value();
  ASSERT_TRUE(store
                  ->push({.jobs = {{PushItem{"poison", "twice", payload("twice", 2), 0, 0},
                                    PushItem{"poison", "thrice", payload("thrice", 3), 0, 0},
                                    PushItem{"poison", "often", payload("often", 7), 0, 0}}},
                          .now = wall()})
                  .ok());
  g_poison_runs = 0;
  ServerOptions o = fast_options();
  o.queues = {{"poison", 0}};
  ASSERT_EQ(o.max_crashes, 3) << "the documented default";
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return store->set_size(SetKind::dead).value_or(0) == 2; }));
  ASSERT_TRUE(eventually([&] { return g_poison_runs.load() == 1; }));
  server.stop();
  EXPECT_EQ(g_poison_runs.load(), 1) << "only the job below max_crashes ran";
  EXPECT_EQ(store->stats(wall())->enqueued, 0u);
  const auto dead = store->set_range(SetKind::dead, 0, 10).value();
  ASSERT_EQ(dead.size(), 2u);
  for (const auto& e : dead) {
    const Json doc = Json::parse(e.payload);
    EXPECT_TRUE(doc["jid"] == "thrice" || doc["jid"] == "often") << doc;
    EXPECT_EQ(doc["error_class"], "errand::PoisonPill") << doc;
    const std::string msg = doc["error_message"];
    EXPECT_NE(msg.find(doc["jid"] == "thrice" ? "3 workers died" : "7 workers died"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("max_crashes 3"), std::string::npos) << msg;
    EXPECT_EQ(doc["args"], Json::array({1})) << "the job is kept whole";
  }
}

TEST_P(PoisonPill, MaxCrashesZeroNeverQuarantines) {
  auto store = open_store(url()).value();
  ASSERT_TRUE(store
                  ->push({.jobs = {{PushItem{"poison", "often", payload("often", 9), 0, 0}}},
                          .now = wall()})
                  .ok());
  g_poison_runs = 0;
  ServerOptions o = fast_options();
  o.queues = {{"poison", 0}};
  o.max_crashes = 0;
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_poison_runs.load() == 1; }));
  server.stop();
  EXPECT_EQ(store->set_size(SetKind::dead).value_or(99), 0u);
}

TEST(PoisonPillOptions, NegativeMaxCrashesIsRefused) {
  ServerOptions o = fast_options();
  o.queues = {{"poison", 0}};
  o.max_crashes = -1;
  Server server(QueueMap(open_store("memory://").value()), o);
  auto st = server.start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("max_crashes"), std::string::npos) << st.message();
}

INSTANTIATE_TEST_SUITE_P(Stores, PoisonPill, ::testing::Values("memory", "sqlite"));

}  // namespace
}  // namespace errand::testing
