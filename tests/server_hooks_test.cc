// ServerOptions::hooks, in-process: what a host application (or the CLI's
// systemd notifier) is told, and when.
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "errand/errand.h"
#include "support/fast_server.h"

namespace errand::testing {
namespace {

struct HookedJob {
  void perform(int) {}
};
ERRAND_JOB(HookedJob);

/// What the hooks saw, in order.
class Events {
 public:
  void add(std::string e) {
    std::lock_guard lk(mu_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> all() const {
    std::lock_guard lk(mu_);
    return events_;
  }
  int count(const std::string& e) const {
    int n = 0;
    for (const auto& x : all()) n += x == e;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

TEST(ServerHooks, ReadyHeartbeatsWithCountersThenStopping) {
  Events events;
  QueueMap queues(open_store("memory://").value());
  Client(queues).perform_async<HookedJob>(1).value();
  ServerOptions o = fast_options();
  o.hooks.on_ready = [&] { events.add("ready"); };
  o.hooks.on_stopping = [&] { events.add("stopping"); };
  o.hooks.on_heartbeat = [&](const ServerCounters& c) {
    events.add("beat processed=" + std::to_string(c.processed));
  };
  Server server(queues, o);
  EXPECT_TRUE(events.all().empty()) << "nothing before start()";
  ASSERT_TRUE(server.start().ok());
  EXPECT_EQ(events.count("ready"), 1);
  ASSERT_TRUE(eventually([&] { return events.count("beat processed=1") >= 1; }))
      << "a heartbeat reports the job that ran";
  EXPECT_EQ(events.count("stopping"), 0);
  server.stop();
  server.stop();  // idempotent: one on_stopping
  const auto all = events.all();
  EXPECT_EQ(all.front(), "ready");
  EXPECT_EQ(events.count("stopping"), 1);
  EXPECT_EQ(events.count("ready"), 1);
}

TEST(ServerHooks, NoHookRunsWhenStartFails) {
  Events events;
  ServerOptions o = fast_options();
  o.concurrency = 0;  // invalid: start() refuses
  o.hooks.on_ready = [&] { events.add("ready"); };
  o.hooks.on_stopping = [&] { events.add("stopping"); };
  Server server(QueueMap(open_store("memory://").value()), o);
  EXPECT_FALSE(server.start().ok());
  server.stop();
  EXPECT_TRUE(events.all().empty());
}

}  // namespace
}  // namespace errand::testing
