// Process isolation (issue #11): jobs that crash their process — a null
// write, abort(), a stack overflow, a runaway allocation, a job that ignores
// its stop token — run in child processes; each fails alone, with the signal
// or limit named, and the ordinary jobs around them all run.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/process.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

// The crashing code lives in named, non-inlined functions so that the
// backtrace can name them (the test binary exports its symbols).
}  // namespace

// Outside the anonymous namespace: exported, so that dladdr can name them.
[[gnu::noinline]] void isolation_null_write() {
  // Both volatile: the compiler can neither see that it is null nor drop the store.
  volatile int* volatile p = nullptr;
  *p = 42;  // NOLINT: the crash is the point
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"  // the stack overflow is the point
[[gnu::noinline]] int isolation_recurse(int depth) {
  volatile char pad[1024];
  pad[0] = static_cast<char>(depth);
  return isolation_recurse(depth + 1) + pad[0];
}
#pragma GCC diagnostic pop

namespace {

struct IsoSegfault {
  static constexpr JobOptions options{.queue = "iso", .retry = 0};
  void perform() { isolation_null_write(); }
};
ERRAND_JOB(IsoSegfault);

struct IsoAbort {
  static constexpr JobOptions options{.queue = "iso", .retry = 0};
  void perform() { std::abort(); }
};
ERRAND_JOB(IsoAbort);

struct IsoStackOverflow {
  static constexpr JobOptions options{.queue = "iso", .retry = 0};
  void perform() { (void)isolation_recurse(0); }
};
ERRAND_JOB(IsoStackOverflow);

struct IsoRunawayAlloc {
  static constexpr JobOptions options{.queue = "iso", .retry = 0};
  void perform() {
    std::vector<char*> held;
    for (;;) {
      char* p = new char[8 << 20];
      std::memset(p, 1, 8 << 20);
      held.push_back(p);
    }
  }
};
ERRAND_JOB(IsoRunawayAlloc);

struct IsoStubborn {
  static constexpr JobOptions options{.queue = "iso", .retry = 0, .timeout = 1};
  void perform() {
    for (;;) std::this_thread::sleep_for(50ms);  // ignores its stop token
  }
};
ERRAND_JOB(IsoStubborn);

struct IsoOrdinary {
  static constexpr JobOptions options{.queue = "iso"};
  void perform(int) {}
};
ERRAND_JOB(IsoOrdinary);

struct IsoPid {
  static constexpr JobOptions options{.queue = "iso", .retry = 0};
  void perform(int parent) {
    if (::getpid() == parent) throw std::runtime_error("ran in the worker process itself");
  }
};
ERRAND_JOB(IsoPid);

struct IsoPidFile {  // leaves a file named after the process that ran it
  static constexpr JobOptions options{.queue = "iso", .retry = 0};
  void perform(std::string dir) {
    std::ofstream(dir + "/" + std::to_string(::getpid())) << "ran\n";
  }
};
ERRAND_JOB(IsoPidFile);

std::size_t files_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

struct IsoProcessOnly {  // isolation chosen by the class, on a thread-mode server
  static constexpr JobOptions options{.queue = "iso", .retry = 0, .isolation = Isolation::process};
  void perform(int parent) {
    if (::getpid() == parent) throw std::runtime_error("ran in the worker process itself");
  }
};
ERRAND_JOB(IsoProcessOnly);

ServerOptions isolated(Isolation mode) {
  auto o = fast_options();
  o.queues = {{"iso", 0}};
  o.isolation = mode;
  o.concurrency = 2;
  o.children.address_space_mb = 256;  // the runaway allocation fails here
  o.children.kill_grace = 500ms;
  return o;
}

Json dead_entry(Store& store, const std::string& jid) {
  const auto entries = store.set_range(SetKind::dead, 0, 100).value();
  for (const auto& e : entries)
    if (e.jid == jid) return Json::parse(e.payload);
  return Json();
}

std::string backtrace_text(const Json& doc) {
  std::string out;
  if (auto bt = doc.find("error_backtrace"); bt != doc.end() && bt->is_array())
    for (const auto& line : *bt) out += line.get<std::string>() + "\n";
  return out;
}

TEST(Isolation, EachCrashFailsItsJobOnlyAndTheOthersRun) {
#if ERRAND_TEST_SANITIZED
  GTEST_SKIP()
      << "the sanitizer ends a deliberately crashing job its own way: tests/sanitize/README.md";
#endif
  auto store = open_store("memory://").value();
  Client client{QueueMap(store)};
  PushOptions with_trace;
  with_trace.extra = Json{{"backtrace", true}};
  std::vector<std::string> jids;
  const auto push_ordinary = [&](int from) {
    for (int i = from; i < from + 200; ++i) ASSERT_TRUE(client.perform_async<IsoOrdinary>(i).ok());
  };
  push_ordinary(0);
  jids.push_back(
      client.push(*Registry::global().find("IsoSegfault"), Json::array(), with_trace).value());
  push_ordinary(200);
  jids.push_back(client.perform_async<IsoAbort>().value());
  push_ordinary(400);
  jids.push_back(client.perform_async<IsoStackOverflow>().value());
  push_ordinary(600);
  jids.push_back(client.perform_async<IsoRunawayAlloc>().value());
  jids.push_back(client.perform_async<IsoStubborn>().value());
  push_ordinary(800);

  Server server(QueueMap(store), isolated(Isolation::process));
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return store->set_size(SetKind::dead).value() == 5; }, 60s))
      << "dead: " << store->set_size(SetKind::dead).value();
  ASSERT_TRUE(eventually([&] { return server.counters().processed == 1005; }, 60s))
      << "processed " << server.counters().processed;
  server.stop();
  EXPECT_EQ(store->set_size(SetKind::retry).value(), 0u);
  EXPECT_EQ(store->stats(wall()).value().enqueued, 0u);

  const Json seg = dead_entry(*store, jids[0]);
  EXPECT_EQ(seg["error_class"], "errand::WorkerCrashed");
  EXPECT_NE(seg["error_message"].get<std::string>().find("SIGSEGV (signal 11) in child"),
            std::string::npos)
      << seg.dump();
  EXPECT_NE(backtrace_text(seg).find("isolation_null_write"), std::string::npos)
      << backtrace_text(seg);
  const Json ab = dead_entry(*store, jids[1]);
  EXPECT_NE(ab["error_message"].get<std::string>().find("SIGABRT (signal 6)"), std::string::npos)
      << ab.dump();
  const Json so = dead_entry(*store, jids[2]);
  EXPECT_NE(so["error_message"].get<std::string>().find("SIGSEGV"), std::string::npos) << so.dump();
  const Json al = dead_entry(*store, jids[3]);
  EXPECT_EQ(al["error_class"], "std::bad_alloc") << al.dump();
  const Json st = dead_entry(*store, jids[4]);
  EXPECT_EQ(st["error_class"], "errand::JobTimeout") << st.dump();
  EXPECT_NE(st["error_message"].get<std::string>().find("killed in child"), std::string::npos)
      << st.dump();
}

TEST(Isolation, ProcessAndForkRunJobsOutsideTheWorker) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  for (Isolation mode : {Isolation::process, Isolation::fork}) {
    auto store = open_store("memory://").value();
    Client client{QueueMap(store)};
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.perform_async<IsoPid>(::getpid()).ok());
    Server server(QueueMap(store), isolated(mode));
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(eventually([&] { return server.counters().processed == 20; }));
    server.stop();
    EXPECT_EQ(server.counters().failed, 0) << dead_entry(*store, "").dump();
    EXPECT_EQ(store->set_size(SetKind::dead).value(), 0u);
  }
}

TEST(Isolation, AJobClassCanAskForAProcessOnAThreadServer) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  auto store = open_store("memory://").value();
  Client client{QueueMap(store)};
  ASSERT_TRUE(client.perform_async<IsoProcessOnly>(::getpid()).ok());
  ASSERT_TRUE(client.perform_async<IsoPid>(::getpid()).ok());  // runs on a thread: fails
  Server server(QueueMap(store), isolated(Isolation::thread));
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().processed == 2; }));
  server.stop();
  EXPECT_EQ(server.counters().failed, 1);
  auto dead = store->set_range(SetKind::dead, 0, 10).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(Json::parse(dead[0].payload)["class"], "IsoPid");
}

TEST(Isolation, AQueueCanAskForAProcess) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  auto store = open_store("memory://").value();
  Client client{QueueMap(store)};
  ASSERT_TRUE(client.perform_async<IsoPid>(::getpid()).ok());
  auto o = isolated(Isolation::thread);
  o.queues = {{"iso", 0, Isolation::process}};
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().processed == 1; }));
  server.stop();
  EXPECT_EQ(server.counters().failed, 0);
}

TEST(Isolation, ChildrenAreRecycledAfterMaxJobsAndForkUsesOnePerJob) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  struct Case {
    Isolation mode;
    std::size_t max_jobs;
    std::size_t min_pids, max_pids;
  };
  // 30 jobs on 2 processors: at most 3 jobs per child means at least 10
  // children; fork mode means one per job.
  for (const Case c : {Case{Isolation::process, 3, 10, 30}, Case{Isolation::fork, 0, 30, 30}}) {
    TempDir dir;
    auto store = open_store("memory://").value();
    Client client{QueueMap(store)};
    for (int i = 0; i < 30; ++i)
      ASSERT_TRUE(client.perform_async<IsoPidFile>(dir.path().string()).ok());
    auto o = isolated(c.mode);
    o.children.max_jobs_per_child = c.max_jobs;
    Server server(QueueMap(store), o);
    ASSERT_TRUE(server.start().ok());
    ASSERT_TRUE(eventually([&] { return server.counters().processed == 30; }));
    server.stop();
    EXPECT_EQ(server.counters().failed, 0);
    const auto pids = files_in(dir.path());
    EXPECT_GE(pids, c.min_pids);
    EXPECT_LE(pids, c.max_pids);
    EXPECT_EQ(std::filesystem::exists(dir / std::to_string(::getpid())), false);
  }
}

TEST(Isolation, TheHeartbeatReportsTheChildren) {
  ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN();
  auto store = open_store("memory://").value();
  Server server(QueueMap(store), isolated(Isolation::process));
  ASSERT_TRUE(server.start().ok());
  // Pre-forked: both children exist before any job.
  ASSERT_TRUE(eventually([&] {
    auto procs = store->processes(0).value();
    if (procs.size() != 1) return false;
    auto kids = procs[0].info.find("children");
    return kids != procs[0].info.end() && kids->size() == 2;
  }));
  const auto info = store->processes(0).value().at(0).info;
  for (const auto& kid : info["children"]) {
    EXPECT_GT(kid["pid"].get<int>(), 0);
    EXPECT_NE(kid["pid"].get<int>(), ::getpid());
    EXPECT_GT(kid["rss_kb"].get<std::int64_t>(), 0);
  }
  server.stop();
}

}  // namespace
}  // namespace errand::testing
