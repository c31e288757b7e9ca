// The engine end to end on the memory store: client → store → fetcher →
// processor → retrier → poller, with a manual clock for retry times.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "errand/errand.h"
#include "support/fast_server.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand {
namespace {

using namespace std::chrono_literals;

std::atomic<int> g_runs{0};
std::mutex g_mu;
std::vector<std::string> g_order;  // guarded by g_mu

struct CountJob {
  void perform(int) { g_runs.fetch_add(1); }
};
ERRAND_JOB(CountJob);

struct OrderJob {
  static constexpr JobOptions options{.queue = "low"};
  void perform(std::string tag) {
    std::lock_guard lk(g_mu);
    g_order.push_back(tag);
  }
};
ERRAND_JOB(OrderJob);

struct FailOnceJob {
  static constexpr JobOptions options{.queue = "default", .retry = 3};
  void perform(std::string key) {
    if (current_job().retry_count < 0) throw std::runtime_error("first try fails: " + key);
    g_runs.fetch_add(1);
  }
};
ERRAND_JOB(FailOnceJob);

struct AlwaysFails {
  static constexpr JobOptions options{.retry = 0};
  void perform() { throw std::domain_error("never works"); }
};
ERRAND_JOB(AlwaysFails);

struct DiscardJob {
  void perform() { throw Discard("not needed"); }
};
ERRAND_JOB(DiscardJob);

struct SnoozeJob {
  void perform() { throw Snooze(std::chrono::seconds(300)); }
};
ERRAND_JOB(SnoozeJob);

struct SlowJob {
  void perform(int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (current_job().stop.stop_requested()) return;
      std::this_thread::sleep_for(5ms);
    }
    g_runs.fetch_add(1);
  }
};
ERRAND_JOB(SlowJob);

struct StubbornJob {  // ignores its stop token
  void perform(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
};
ERRAND_JOB(StubbornJob);

struct ContextJob {
  static inline std::string seen_jid;
  void perform() { seen_jid = current_job().jid; }
};
ERRAND_JOB(ContextJob);

std::shared_ptr<Store> fresh_store() { return open_store("memory://").value(); }

using testing::eventually;
using testing::fast_options;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_runs = 0;
    std::lock_guard lk(g_mu);
    g_order.clear();
  }
};

TEST_F(ServerTest, ClientWritesSidekiqPayloads) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  auto jid = client.perform_async<OrderJob>("x");
  ASSERT_TRUE(jid.ok()) << jid.error().message();
  auto jobs = store->queue_jobs("low", 0, 10).value();
  ASSERT_EQ(jobs.size(), 1u);
  Json doc = Json::parse(jobs[0]);
  EXPECT_EQ(doc["class"], "OrderJob");
  EXPECT_EQ(doc["args"], Json({"x"}));
  EXPECT_EQ(doc["jid"], *jid);
  EXPECT_EQ(doc["queue"], "low");
  EXPECT_EQ(doc["retry"], true);
  EXPECT_TRUE(doc["created_at"].is_number_float());
  EXPECT_TRUE(doc["enqueued_at"].is_number_float());
  EXPECT_FALSE(doc.contains("at"));

  auto j2 = client.perform_async<FailOnceJob>("k");
  Json d2 = Json::parse(store->queue_jobs("default", 0, 10).value().at(0));
  EXPECT_EQ(d2["retry"], 3);
  (void)j2;
}

TEST_F(ServerTest, ScheduledPushesGoToTheScheduleSet) {
  ManualClock clock;
  auto store = fresh_store();
  ClientOptions co;
  co.clock = &clock;
  Client client{QueueMap(store), co};
  ASSERT_TRUE(client.perform_in<CountJob>(10min, 1).ok());
  auto set = store->set_range(SetKind::scheduled, 0, 10).value();
  ASSERT_EQ(set.size(), 1u);
  EXPECT_NEAR(set[0].score, clock.epoch() + 600, 1e-3);
  Json doc = Json::parse(set[0].payload);
  EXPECT_FALSE(doc.contains("enqueued_at"));
  EXPECT_FALSE(doc.contains("at"));
  // perform_at in the past and perform_in(0) enqueue now.
  ASSERT_TRUE(client.perform_at<CountJob>(clock.now() - 1h, 2).ok());
  ASSERT_TRUE(client.perform_in<CountJob>(0s, 3).ok());
  EXPECT_EQ(store->queue_jobs("default", 0, 10).value().size(), 2u);
  // A raw push with `at` is scheduled even in the past, as Sidekiq's.
  ASSERT_TRUE(
      client.push(Json{{"class", "CountJob"}, {"args", {4}}, {"at", clock.epoch() - 5}}).ok());
  EXPECT_EQ(store->set_size(SetKind::scheduled).value(), 2u);
}

TEST_F(ServerTest, PushBulkKeepsOrderAndSharesCreatedAt) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  std::vector<Json> args;
  for (int i = 0; i < 5; ++i) args.push_back(Json::array({i}));
  auto jids = client.push_bulk<CountJob>(args);
  ASSERT_TRUE(jids.ok());
  ASSERT_EQ(jids->size(), 5u);
  auto jobs = store->queue_jobs("default", 0, 10).value();
  ASSERT_EQ(jobs.size(), 5u);
  double created = Json::parse(jobs[0])["created_at"];
  for (int i = 0; i < 5; ++i) {
    Json d = Json::parse(jobs[static_cast<std::size_t>(i)]);
    EXPECT_EQ(d["args"][0], i) << "next-to-run first";
    EXPECT_EQ(d["jid"], (*jids)[static_cast<std::size_t>(i)]);
    EXPECT_DOUBLE_EQ(d["created_at"].get<double>(), created);
  }
  EXPECT_FALSE(client.push_bulk<CountJob>({Json("x")}).ok());
}

struct TagMiddleware : ClientMiddleware {
  void call(Json& job, std::string_view, const std::function<void()>& next) override {
    if (job["args"].size() == 1 && job["args"][0] == 13) return;  // unlucky: dropped
    job["tags"] = Json::array({"tagged"});
    next();
  }
};

struct PassMiddleware : ClientMiddleware {
  void call(Json&, std::string_view, const std::function<void()>& next) override { next(); }
};

struct RichOptionsJob {
  static constexpr JobOptions options{
      .queue = "rich", .retry = 7, .retry_queue = "later", .priority = 3, .expires_in = 60};
  void perform(int, std::string) {}
};
ERRAND_JOB(RichOptionsJob);

// push_bulk without middleware splices each payload as text; with middleware
// it builds a document per job. Both must store the same fields.
TEST_F(ServerTest, PushBulkFastPathWritesTheSamePayloadAsTheGeneralPath) {
  ManualClock clock;
  auto fast_store = fresh_store();
  auto slow_store = fresh_store();
  ClientOptions fast_o, slow_o;
  fast_o.clock = slow_o.clock = &clock;
  slow_o.middleware.push_back(std::make_shared<PassMiddleware>());
  Client fast{QueueMap(fast_store), fast_o}, slow{QueueMap(slow_store), slow_o};
  const std::vector<Json> args = {Json::array({1, "a\"<b>"}), Json::array({2, "\u00e9"})};
  ASSERT_TRUE(fast.push_bulk<RichOptionsJob>(args).ok());
  ASSERT_TRUE(slow.push_bulk<RichOptionsJob>(args).ok());
  auto a = fast_store->queue_jobs("rich", 0, 10).value();
  auto b = slow_store->queue_jobs("rich", 0, 10).value();
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    Json x = Json::parse(a[i]), y = Json::parse(b[i]);
    EXPECT_EQ(x["jid"].get<std::string>().size(), 24u);
    EXPECT_NE(x["jid"], y["jid"]);
    x.erase("jid");
    y.erase("jid");
    EXPECT_EQ(x, y) << a[i] << "\n" << b[i];
    EXPECT_EQ(x["args"], args[i]);
    EXPECT_EQ(x["priority"], 3);
  }
}

struct UniqueBulkJob {
  static constexpr JobOptions options{.unique = Unique::until_executed};
  static std::string unique_key(const Json& args) { return args.at(0).dump(); }
  void perform(int, int) {}
};
ERRAND_JOB(UniqueBulkJob);

TEST_F(ServerTest, PushBulkOfAUniqueJobKeysEachJobByItsOwnArguments) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  auto jids = client.push_bulk<UniqueBulkJob>(
      {Json::array({1, 0}), Json::array({2, 0}), Json::array({1, 9}), Json::array({3, 0})});
  ASSERT_TRUE(jids.ok()) << jids.error().message();
  ASSERT_EQ(jids->size(), 4u);
  EXPECT_FALSE((*jids)[0].empty());
  EXPECT_FALSE((*jids)[1].empty());
  EXPECT_TRUE((*jids)[2].empty()) << "same key (first argument 1) as the first job";
  EXPECT_FALSE((*jids)[3].empty());
  EXPECT_EQ(store->queue_jobs("default", 0, 10).value().size(), 3u);
}

TEST_F(ServerTest, ClientMiddlewareEditsAndStops) {
  auto store = fresh_store();
  ClientOptions co;
  co.middleware.push_back(std::make_shared<TagMiddleware>());
  Client client{QueueMap(store), co};
  auto ok = client.perform_async<CountJob>(1);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->empty());
  auto dropped = client.perform_async<CountJob>(13);
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(dropped->empty());
  auto jobs = store->queue_jobs("default", 0, 10).value();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(Json::parse(jobs[0])["tags"], Json({"tagged"}));
}

TEST_F(ServerTest, RunsJobsAndCountsThem) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(client.perform_async<CountJob>(i).ok());
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 200; }));
  server.stop();
  EXPECT_EQ(server.counters().processed, 200);
  EXPECT_EQ(server.counters().failed, 0);
  auto stats = store->stats(wall()).value();
  EXPECT_EQ(stats.processed, 200);  // reported by the heartbeats
  EXPECT_EQ(stats.enqueued, 0u);
  EXPECT_EQ(stats.processes, 0u) << "unregistered at stop";
}

TEST_F(ServerTest, StrictQueueOrderServesEarlierQueuesFirst) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  PushOptions low, high;
  low.queue = "low";
  high.queue = "high";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.perform_with<OrderJob>(low, "low").ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.perform_with<OrderJob>(high, "high").ok());
  auto o = fast_options();
  o.concurrency = 1;
  o.fetch_batch = 1;
  o.queues = {{"high", 0}, {"low", 0}};
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lk(g_mu);
    return g_order.size() == 10;
  }));
  server.stop();
  std::lock_guard lk(g_mu);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g_order[static_cast<std::size_t>(i)], "high");
}

TEST_F(ServerTest, FailureRetriesWithBackoffThenSucceeds) {
  ManualClock clock;
  auto store = fresh_store();
  ClientOptions co;
  co.clock = &clock;
  Client client{QueueMap(store), co};
  auto jid = client.perform_async<FailOnceJob>("a").value();
  std::vector<std::string> errors;
  std::mutex emu;
  auto o = fast_options(&clock);
  o.error_handlers.push_back([&](const JobFailure& f) {
    std::lock_guard lk(emu);
    errors.push_back(f.error_class + ": " + f.error_message);
  });
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return store->set_size(SetKind::retry).value() == 1; }));
  auto entry = store->set_range(SetKind::retry, 0, 1).value().at(0);
  EXPECT_EQ(entry.jid, jid);
  EXPECT_GE(entry.score, clock.epoch() + 15);
  EXPECT_LE(entry.score, clock.epoch() + 24 + 1e-3);
  Json doc = Json::parse(entry.payload);
  EXPECT_EQ(doc["error_class"], "std::runtime_error");
  EXPECT_EQ(doc["error_message"], "first try fails: a");
  EXPECT_EQ(doc["retry_count"], 0);
  EXPECT_EQ(g_runs.load(), 0);
  // Not due yet: nothing happens. Then time passes and the poller moves it.
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(g_runs.load(), 0);
  clock.advance(30s);
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 1; }));
  server.stop();
  EXPECT_EQ(store->set_size(SetKind::retry).value(), 0u);
  std::lock_guard lk(emu);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "std::runtime_error: first try fails: a");
}

TEST_F(ServerTest, ExhaustedJobsDieAndDeathHandlersRun) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  ASSERT_TRUE(client.perform_async<AlwaysFails>().ok());
  std::atomic<int> deaths{0};
  auto o = fast_options();
  o.death_handlers.push_back([&](const JobFailure& f) {
    EXPECT_EQ(f.error_class, "std::domain_error");
    deaths.fetch_add(1);
  });
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return store->set_size(SetKind::dead).value() == 1; }));
  server.stop();
  EXPECT_EQ(deaths.load(), 1);
  Json doc = Json::parse(store->set_range(SetKind::dead, 0, 1).value().at(0).payload);
  EXPECT_EQ(doc["error_message"], "never works");
  EXPECT_EQ(server.counters().dead, 1);
}

TEST_F(ServerTest, BadInputParksTheJobAndTheWorkerGoesOn) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  // Not JSON, JSON without fields, wrong types, unknown class.
  std::vector<PushItem> raw(3);
  raw[0].queue = raw[1].queue = raw[2].queue = "default";
  raw[0].payload = "this is not json";
  raw[1].payload = R"({"class":"CountJob","jid":"abc123"})";
  raw[1].jid = "abc123";
  raw[2].payload = R"({"class":"CountJob","args":"nope","jid":"def456"})";
  raw[2].jid = "def456";
  ASSERT_TRUE(store->push({.jobs = raw, .now = wall()}).ok());
  ASSERT_TRUE(client.enqueue("CountJob", Json::array({"not an int"})).ok());
  auto unknown = client.enqueue("NoSuchJob", Json::array({1})).value();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client.perform_async<CountJob>(i).ok());
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] {
    return g_runs.load() == 10 && store->set_size(SetKind::dead).value() == 4 &&
           store->set_size(SetKind::retry).value() == 1;
  })) << "runs="
      << g_runs.load();
  server.stop();
  auto dead = store->set_range(SetKind::dead, 0, 10).value();
  int not_json = 0, bad_payload = 0, bad_args = 0;
  for (auto& e : dead) {
    Json d = Json::parse(e.payload);
    if (d["class"] == "errand::BadPayload") {
      ++not_json;
      EXPECT_EQ(d["args"], Json::array({"this is not json"})) << "kept exactly as it was";
      EXPECT_EQ(d["error_message"], "payload is not valid JSON");
    } else if (d["error_class"] == "errand::BadPayload") {
      ++bad_payload;
    } else if (d["error_class"] == "errand::ArgumentError") {
      ++bad_args;
      EXPECT_NE(d["error_message"].get<std::string>().find("argument 1 must be an integer"),
                std::string::npos);
    }
  }
  EXPECT_EQ(not_json, 1);
  EXPECT_EQ(bad_payload, 2);
  EXPECT_EQ(bad_args, 1);
  auto retry = store->set_range(SetKind::retry, 0, 1).value().at(0);
  EXPECT_EQ(retry.jid, unknown);
  Json r = Json::parse(retry.payload);
  EXPECT_EQ(r["error_class"], "errand::UnknownJobClass");
  EXPECT_NE(r["error_message"].get<std::string>().find("NoSuchJob"), std::string::npos);
}

TEST_F(ServerTest, DiscardAndSnooze) {
  ManualClock clock;
  auto store = fresh_store();
  Client client{QueueMap(store)};
  ASSERT_TRUE(client.perform_async<DiscardJob>().ok());
  auto snoozed = client.perform_async<SnoozeJob>().value();
  Server server(QueueMap(store), fast_options(&clock));
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().processed == 2; }));
  server.stop();
  EXPECT_EQ(store->stats(wall()).value().enqueued, 0u);
  EXPECT_EQ(store->set_size(SetKind::dead).value(), 0u);
  EXPECT_EQ(store->set_size(SetKind::retry).value(), 0u) << "a snooze is not a failure";
  auto entries = store->set_range(SetKind::scheduled, 0, 10).value();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].jid, snoozed);
  EXPECT_NEAR(entries[0].score, clock.epoch() + 300, 1);
  EXPECT_EQ(server.counters().failed, 0);
}

struct RecordingMiddleware : ServerMiddleware {
  std::atomic<int> calls{0};
  void call(const JobContext& job, const std::function<void()>& next) override {
    EXPECT_FALSE(job.jid.empty());
    calls.fetch_add(1);
    next();
  }
};

TEST_F(ServerTest, ServerMiddlewareAndCurrentJob) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  auto jid = client.perform_async<ContextJob>().value();
  auto mw = std::make_shared<RecordingMiddleware>();
  auto o = fast_options();
  o.middleware.push_back(mw);
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().processed == 1; }));
  server.stop();
  EXPECT_EQ(mw->calls.load(), 1);
  EXPECT_EQ(ContextJob::seen_jid, jid);
}

TEST_F(ServerTest, StopLetsRunningJobsFinishWithinTheTimeout) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.perform_async<SlowJob>(300).ok());
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().busy == 4; }));
  server.stop();
  EXPECT_EQ(g_runs.load(), 4);
  EXPECT_EQ(store->stats(wall()).value().enqueued, 0u);
}

TEST_F(ServerTest, StopRequeuesJobsThatOverrunTheTimeout) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.perform_async<StubbornJob>(1500).ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(client.perform_async<SlowJob>(60'000).ok());
  auto o = fast_options();
  o.shutdown_timeout = 200ms;
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return server.counters().busy == 4; }));
  server.stop();
  // All four are back in the queue, unchanged; none acked, none lost.
  auto jobs = store->queue_jobs("default", 0, 10).value();
  EXPECT_EQ(jobs.size(), 4u);
  EXPECT_EQ(g_runs.load(), 0) << "the slow jobs saw their stop token and returned early";
}

TEST_F(ServerTest, QuietStopsFetching) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  server.quiet();
  EXPECT_TRUE(server.quiet_mode());
  ASSERT_TRUE(client.perform_async<CountJob>(1).ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(g_runs.load(), 0);
  server.stop();
  EXPECT_EQ(store->queue_jobs("default", 0, 10).value().size(), 1u);
}

struct ShortJob {
  void perform(int) {
    std::this_thread::sleep_for(200us);
    g_runs.fetch_add(1);
  }
};
ERRAND_JOB(ShortJob);

// Short jobs turn read-ahead on; quieting must not leave the jobs read
// ahead claimed by a process that will not run them.
TEST_F(ServerTest, QuietPutsTheJobsReadAheadBack) {
  constexpr int kJobs = 5000;
  auto store = fresh_store();
  Client client{QueueMap(store)};
  std::vector<Json> args;
  for (int i = 0; i < kJobs; ++i) args.push_back(Json::array({i}));
  ASSERT_TRUE(client.push_bulk<ShortJob>(args).ok());
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() >= 1000; }));
  server.quiet();
  std::this_thread::sleep_for(200ms);  // the jobs running at the quiet finish
  const auto waiting = store->queue_jobs("default", 0, kJobs).value().size();
  EXPECT_LT(g_runs.load(), kJobs) << "everything ran before the quiet; the test proves nothing";
  EXPECT_EQ(static_cast<int>(waiting) + g_runs.load(), kJobs)
      << "jobs neither run nor back in the queue";
  server.stop();
}

std::atomic<bool> g_release_limited{false};
struct LimitedBlockJob {
  static constexpr JobOptions options{.concurrency_limit = 1};
  void perform() {
    g_runs.fetch_add(1);
    while (!g_release_limited.load()) std::this_thread::sleep_for(1ms);
  }
};
ERRAND_JOB(LimitedBlockJob);

/// A store without Store::lock_extend, saying so in its capabilities (the
/// server reads the declaration; it does not probe).
struct NoExtendStore : ForwardingStore {
  using ForwardingStore::ForwardingStore;
  StoreCapabilities capabilities() const override {
    auto c = ForwardingStore::capabilities();
    c.lock_extend = false;
    return c;
  }
  Result<bool> lock_extend(const std::string&, const std::string&, double, double) override {
    return fail(Errc::unsupported, "no lock_extend");
  }
};

// Without lock_extend a slot cannot be renewed, so it is leased for the
// job's whole possible run (10 minutes here), not for process_ttl.
TEST_F(ServerTest, ConcurrencySlotOnAStoreWithoutLockExtendOutlastsTheProcessTtl) {
  g_release_limited = false;
  auto inner = fresh_store();
  auto store = std::make_shared<NoExtendStore>(inner);
  Client client{QueueMap(store)};
  ASSERT_TRUE(client.perform_async<LimitedBlockJob>().ok());
  Server server(QueueMap(store), fast_options());  // process_ttl 1 s
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 1; }));
  const double now = SystemClock::instance().epoch();
  EXPECT_FALSE(inner->lock_acquire("limit:LimitedBlockJob:0", "other", now + 5, now + 10).value())
      << "the slot would lapse while the job runs";
  EXPECT_TRUE(
      inner->lock_acquire("limit:LimitedBlockJob:0", "other", now + 700, now + 710).value());
  g_release_limited = true;
  server.stop();
}

TEST_F(ServerTest, SignalsThroughTheStoreQuietAndStop) {
  auto store = fresh_store();
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(store->signal(server.identity(), "TSTP").ok());
  ASSERT_TRUE(eventually([&] { return server.quiet_mode(); }));
  auto procs = store->processes(SystemClock::instance().epoch()).value();
  ASSERT_EQ(procs.size(), 1u);
  ASSERT_TRUE(eventually([&] {
    auto p = store->processes(SystemClock::instance().epoch()).value();
    return !p.empty() && p[0].quiet;
  }));
  ASSERT_TRUE(store->signal(server.identity(), "TERM").ok());
  std::thread waiter([&] { server.wait(); });
  waiter.join();  // returns because TERM arrived through the store
  EXPECT_EQ(store->processes(SystemClock::instance().epoch()).value().size(), 0u);
}

TEST_F(ServerTest, WaitReturnsOnRequestStopFromAnotherThread) {
  auto store = fresh_store();
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  std::thread waiter([&] { server.wait(); });  // asleep until woken: no polling
  server.request_stop();
  waiter.join();
  EXPECT_EQ(store->processes(SystemClock::instance().epoch()).value().size(), 0u);
}

TEST_F(ServerTest, EveryWaiterReturnsWhenTheServerStops) {
  auto store = fresh_store();
  Server server(QueueMap(store), fast_options());
  ASSERT_TRUE(server.start().ok());
  std::thread first([&] { server.wait(); });
  std::thread second([&] { server.wait(); });
  server.stop();  // one wake-up, seen by both waiters
  first.join();
  second.join();
  server.wait();  // stopped: returns at once
}

TEST_F(ServerTest, QueuesRouteToTheirStores) {
  auto main_store = fresh_store();
  auto local = fresh_store();
  QueueMap map(main_store);
  map.define("local", local);
  Client client{map};
  PushOptions lo;
  lo.queue = "local";
  ASSERT_TRUE(client.perform_with<CountJob>(lo, 1).ok());
  ASSERT_TRUE(client.perform_async<CountJob>(2).ok());
  EXPECT_EQ(local->queue_jobs("local", 0, 10).value().size(), 1u);
  EXPECT_EQ(main_store->queue_jobs("default", 0, 10).value().size(), 1u);
  auto o = fast_options();
  o.queues = {{"default", 0}, {"local", 0}};
  Server server(map, o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 2; }));
  server.stop();
}

TEST_F(ServerTest, InvalidOptionsAreRefused) {
  auto store = fresh_store();
  auto o = fast_options();
  o.concurrency = 0;
  Server a(QueueMap(store), o);
  EXPECT_EQ(a.start().code(), Errc::invalid_argument);
  Server b{QueueMap(), fast_options()};
  auto st = b.start();
  EXPECT_EQ(st.code(), Errc::invalid_argument);
  EXPECT_NE(st.message().find("default"), std::string::npos);
  Server c(QueueMap(store), fast_options());
  c.stop();  // safe without start
  c.stop();
}

TEST_F(ServerTest, RescuerReturnsJobsOfADeadProcess) {
  auto store = fresh_store();
  Client client{QueueMap(store)};
  ASSERT_TRUE(client.perform_async<CountJob>(7).ok());
  // A "process" that claimed the job and died without ever beating.
  std::vector<std::string> q{"default"};
  auto claimed =
      store->fetch({.queues = q, .max = 1, .wait = 0ms, .owner = "ghost:1:abc", .now = wall()})
          .value();
  ASSERT_EQ(claimed.size(), 1u);
  auto o = fast_options();
  o.process_ttl = 200ms;
  o.heartbeat_interval = 50ms;
  Server server(QueueMap(store), o);
  ASSERT_TRUE(server.start().ok());
  ASSERT_TRUE(eventually([&] { return g_runs.load() == 1; }));
  server.stop();
}

}  // namespace
}  // namespace errand
