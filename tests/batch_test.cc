// Batches and workflows (errand/batch.h) on every store of the conformance
// registry (memory, sqlite, redis, postgres), with a real Server: callbacks
// run exactly once, failures and deaths are counted, nested batches report
// to their parent, workflow steps receive their dependencies' results, a
// dead step stops its dependants, a cancelled workflow stops its steps. The
// last case races many threads (and a second view of the store: another
// process's connections) reporting the last members at once.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "batch/join.h"
#include "errand/errand.h"
#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"
#include "support/process.h"

namespace {

std::mutex g_mu;
std::map<std::string, int> g_runs;  // guarded by g_mu: tag → runs

void note(const std::string& tag) {
  std::lock_guard lock(g_mu);
  ++g_runs[tag];
}
int runs(const std::string& tag) {
  std::lock_guard lock(g_mu);
  auto it = g_runs.find(tag);
  return it == g_runs.end() ? 0 : it->second;
}

}  // namespace

struct BatchWork {
  void perform(std::string tag) { note(tag); }
};
ERRAND_JOB(BatchWork);

struct BatchFails {
  static constexpr errand::JobOptions options{.retry = 0};
  void perform(std::string tag) {
    note(tag);
    throw std::runtime_error("no");
  }
};
ERRAND_JOB(BatchFails);

struct BatchCallback {
  void perform(std::string tag) {
    // "tag:" when the callback knows its batch, "tag:no-bid" otherwise.
    note(tag + ":" + (errand::current_job().batch_id.empty() ? "no-bid" : ""));
  }
};
ERRAND_JOB(BatchCallback);

struct Doubled {
  std::int64_t perform(std::int64_t x) { return 2 * x; }
};
ERRAND_JOB(Doubled);

struct PlusOne {
  std::int64_t perform(std::int64_t x) { return x + 1; }
};
ERRAND_JOB(PlusOne);

struct Summed {
  std::int64_t perform(std::string tag, std::vector<std::int64_t> xs) {
    std::int64_t s = 0;
    for (auto x : xs) s += x;
    note(tag + ":" + std::to_string(s));
    return s;
  }
};
ERRAND_JOB(Summed);

struct Collected {
  void perform(std::vector<std::int64_t> xs) {
    std::string all;
    for (auto x : xs) all += std::to_string(x) + ",";
    note("collected:" + all);
  }
};
ERRAND_JOB(Collected);

struct Noted {
  void perform(std::string tag, std::int64_t x) { note(tag + ":" + std::to_string(x)); }
};
ERRAND_JOB(Noted);

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

class Batches : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().unavailable) {
      auto why = GetParam().unavailable();
      if (!why.empty()) GTEST_SKIP() << why;
    }
    store_ = GetParam().make();
    ASSERT_NE(store_, nullptr);
    if (!store_->capabilities().batches) GTEST_SKIP() << "the store keeps no batches";
    client_.emplace(QueueMap(store_));
    std::lock_guard lock(g_mu);
    g_runs.clear();
  }
  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    client_.reset();
    store_.reset();
  }
  void start_server() {
    ServerOptions o;
    o.queues = {{"default"}};
    o.concurrency = 4;
    o.poll_interval = 50ms;
    o.log_jobs = false;
    server_ = std::make_unique<Server>(client_->queues(), o);
    ASSERT_TRUE(server_->start());
  }
  Client& client() { return *client_; }
  BatchStatus status(const std::string& bid) {
    auto st = client_->batch_status(bid);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message());
    return st.ok() ? *st : BatchStatus{};
  }

  std::shared_ptr<Store> store_;
  std::optional<Client> client_;
  std::unique_ptr<Server> server_;
};

TEST_P(Batches, CallbacksRunOnceWhenEveryJobSucceeded) {
  Batch batch(client(), "thirty");
  batch.on_success<BatchCallback>("success").on_complete<BatchCallback>("complete");
  batch.on_death<BatchCallback>("death");
  ASSERT_TRUE(batch.jobs([](Client& c) {
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(c.perform_async<BatchWork>("work").ok());
  }));
  auto before = status(batch.bid());
  EXPECT_EQ(before.total, 30u);
  EXPECT_EQ(before.pending, 30u);
  EXPECT_FALSE(before.complete);
  start_server();
  ASSERT_TRUE(eventually(20s, [&] { return runs("success:") == 1 && runs("complete:") == 1; }));
  std::this_thread::sleep_for(300ms);  // a second firing would show by now
  EXPECT_EQ(runs("work"), 30);
  EXPECT_EQ(runs("success:"), 1);
  EXPECT_EQ(runs("complete:"), 1);
  EXPECT_EQ(runs("death:"), 0);
  auto after = status(batch.bid());
  EXPECT_EQ(after.description, "thirty");
  EXPECT_EQ(after.total, 30u);
  EXPECT_EQ(after.pending, 0u);
  EXPECT_TRUE(after.success);
  EXPECT_TRUE(after.complete);
  EXPECT_FALSE(after.failed);
}

TEST_P(Batches, ADeadJobFiresCompleteAndDeathButNeverSuccess) {
  Batch batch(client());
  batch.on_success<BatchCallback>("success").on_complete<BatchCallback>("complete");
  batch.on_death<BatchCallback>("death");
  std::string bad;
  ASSERT_TRUE(batch.jobs([&](Client& c) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.perform_async<BatchWork>("work").ok());
    bad = c.perform_async<BatchFails>("fail").value();
  }));
  start_server();
  ASSERT_TRUE(eventually(20s, [&] { return runs("complete:") == 1 && runs("death:") == 1; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(runs("success:"), 0);
  auto st = status(batch.bid());
  EXPECT_EQ(st.total, 6u);
  EXPECT_EQ(st.pending, 1u);
  EXPECT_EQ(st.failures, 1u);
  EXPECT_EQ(st.dead, 1u);
  EXPECT_EQ(st.failed_jids, std::vector<std::string>{bad});
  EXPECT_TRUE(st.complete);
  EXPECT_FALSE(st.success);
  EXPECT_TRUE(st.failed);
}

TEST_P(Batches, ANestedBatchCountsAsOneMemberOfItsParent) {
  Batch parent(client(), "parent");
  parent.on_success<BatchCallback>("parent");
  std::string child_bid;
  ASSERT_TRUE(parent.jobs([&](Client& c) {
    ASSERT_TRUE(c.perform_async<BatchWork>("p").ok());
    Batch child = parent.child("child");
    child.on_success<BatchCallback>("child");
    child_bid = child.bid();
    ASSERT_TRUE(child.jobs([](Client& cc) {
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(cc.perform_async<BatchWork>("c").ok());
    }));
  }));
  EXPECT_EQ(status(parent.bid()).total, 2u) << "one job and one child batch";
  EXPECT_EQ(status(child_bid).parent, parent.bid());
  start_server();
  ASSERT_TRUE(eventually(20s, [&] { return runs("parent:") == 1; }));
  EXPECT_EQ(runs("child:"), 1);
  EXPECT_EQ(runs("c"), 3);
  EXPECT_TRUE(status(child_bid).success);
  EXPECT_TRUE(status(parent.bid()).success);
}

TEST_P(Batches, AChainPassesEachResultToTheNextStep) {
  Workflow wf(client(), "chain");
  auto a = wf.step<Doubled>(std::int64_t{3});
  auto b = wf.step<PlusOne>();
  auto c = wf.step<Noted>("chain");
  wf.chain({a, b, c});
  wf.on_success<BatchCallback>("wf");
  ASSERT_TRUE(wf.start().ok());
  EXPECT_EQ(client().status(b.jid)->state, JobState::unknown) << "held until a succeeds";
  start_server();
  ASSERT_TRUE(eventually(20s, [&] { return runs("wf:") == 1; }));
  EXPECT_EQ(runs("chain:7"), 1) << "(3 * 2) + 1";
  auto st = status(wf.bid());
  EXPECT_TRUE(st.workflow);
  EXPECT_EQ(st.total, 3u);
  EXPECT_TRUE(st.success);
}

TEST_P(Batches, AChordGetsEveryResultOfItsGroup) {
  Workflow wf(client());
  std::vector<Workflow::Step> group;
  for (std::int64_t i = 1; i <= 4; ++i) group.push_back(wf.step<Doubled>(i));
  auto sum = wf.chord(group, wf.step<Summed>("sum"));
  ASSERT_TRUE(wf.start().ok());
  start_server();
  auto done = client().wait(sum.jid, 20s);
  ASSERT_TRUE(done.ok()) << done.error().message();
  ASSERT_EQ(done->state, JobState::succeeded) << done->error;
  EXPECT_EQ(client().result<std::int64_t>(sum.jid).value(), 20);
  EXPECT_EQ(runs("sum:20"), 1);
}

TEST_P(Batches, AChordOfAHundredGetsEveryResultInOrder) {
  Workflow wf(client());
  std::vector<Workflow::Step> group;
  std::string expected;
  for (std::int64_t i = 1; i <= 100; ++i) {
    group.push_back(wf.step<Doubled>(i));
    expected += std::to_string(2 * i) + ",";
  }
  auto last = wf.chord(group, wf.step<Collected>());
  ASSERT_TRUE(wf.start().ok());
  start_server();
  auto done = client().wait(last.jid, 60s);
  ASSERT_TRUE(done.ok()) << done.error().message();
  ASSERT_EQ(done->state, JobState::succeeded) << done->error;
  EXPECT_EQ(runs("collected:" + expected), 1) << "100 results, in the group's order";
}

TEST_P(Batches, ADeadStepStopsItsDependantsAndFailsTheWorkflow) {
  Workflow wf(client());
  auto bad = wf.step<BatchFails>("root");
  auto next = wf.depends_on(wf.step<BatchWork>("next"), {bad});
  auto last = wf.depends_on(wf.step<BatchWork>("last"), {next});
  auto other = wf.step<BatchWork>("other");
  wf.on_death<BatchCallback>("death").on_complete<BatchCallback>("complete");
  ASSERT_TRUE(wf.start().ok());
  start_server();
  ASSERT_TRUE(eventually(20s, [&] { return runs("complete:") == 1; }));
  EXPECT_EQ(runs("death:"), 1);
  EXPECT_EQ(runs("next") + runs("last"), 0) << "dependants of a dead step never run";
  EXPECT_EQ(runs("other"), 1);
  auto st = status(wf.bid());
  EXPECT_TRUE(st.failed);
  EXPECT_FALSE(st.success);
  EXPECT_EQ(st.dead, 3u);
  EXPECT_EQ(st.failed_jids.size(), 3u);
  (void)last;
  (void)other;
}

TEST_P(Batches, CancellingAWorkflowRemovesItsWaitingAndHeldSteps) {
  Workflow wf(client());
  auto first = wf.step<BatchWork>("first");
  auto second = wf.depends_on(wf.step<BatchWork>("second"), {first});
  ASSERT_TRUE(wf.start().ok());
  ASSERT_TRUE(client().cancel_batch(wf.bid()));
  EXPECT_EQ(client().status(first.jid)->state, JobState::cancelled);
  start_server();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(runs("first") + runs("second"), 0);
  auto st = status(wf.bid());
  EXPECT_TRUE(st.cancelled);
  EXPECT_TRUE(st.complete) << "every step ended (cancelled)";
  EXPECT_EQ(st.dead, 2u);
  (void)second;
  // No job joins a cancelled batch.
  auto again = Batch::reopen(client(), wf.bid()).jobs([](Client&) {});
  EXPECT_FALSE(again.ok());
}

TEST_P(Batches, ACycleOrAnEmptyWorkflowIsRefused) {
  Workflow wf(client());
  auto a = wf.step<PlusOne>();
  auto b = wf.step<PlusOne>();
  wf.after(a, b);
  wf.after(b, a);
  auto st = wf.start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::invalid_argument);
  EXPECT_NE(st.error().message().find("cycle"), std::string::npos);
  EXPECT_EQ(Workflow(client()).start().code(), Errc::invalid_argument);
}

TEST_P(Batches, TheBatchesAreListedNewestFirst) {
  Batch one(client(), "one");
  ASSERT_TRUE(one.jobs([](Client&) {}));
  std::this_thread::sleep_for(20ms);
  Batch two(client(), "two");
  ASSERT_TRUE(two.jobs([](Client&) {}));
  auto list = store_->batch_list(0, 10, wall());
  ASSERT_TRUE(list.ok()) << list.error().message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], two.bid());
  EXPECT_EQ((*list)[1], one.bid());
  EXPECT_TRUE(status(one.bid()).success) << "an empty batch succeeds when it closes";
  EXPECT_EQ(client().batch_status("no-such-batch").code(), Errc::not_found);
}

// The last members finish at once on many threads, twice each (a job run
// again after a crash), half of them through a second view of the store
// (another process's connections): the success callback is pushed once.
TEST_P(Batches, TheLastMembersFinishingAtOnceFireTheCallbackOnce) {
  constexpr int kMembers = 40;
  Batch batch(client());
  batch.on_success<BatchCallback>("once");
  std::vector<std::string> jids;
  ASSERT_TRUE(batch.jobs([&](Client& c) {
    for (int i = 0; i < kMembers; ++i) jids.push_back(c.perform_async<BatchWork>("x").value());
  }));
  std::shared_ptr<Store> other = GetParam().second_view ? GetParam().second_view() : store_;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      Store& s = (t % 2) ? *other : *store_;
      for (int i = t % 4; i < kMembers; i += 4)
        if (!batch::report(s, batch.bid(), jids[static_cast<std::size_t>(i)],
                           batch::Outcome::succeeded, "null", wall()))
          ++errors;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_TRUE(status(batch.bid()).success);
  // The queue holds the 40 members and exactly one callback.
  auto jobs = store_->queue_jobs("default", 0, 1000);
  ASSERT_TRUE(jobs.ok());
  int callbacks = 0;
  for (const auto& p : *jobs)
    if (p.find("\"BatchCallback\"") != std::string::npos) ++callbacks;
  EXPECT_EQ(jobs->size(), static_cast<std::size_t>(kMembers + 1));
  EXPECT_EQ(callbacks, 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, Batches, ::testing::ValuesIn(registered_stores()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace errand::testing
