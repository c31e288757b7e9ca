// The aggregate enqueue stage: buffering, batching, flush, back-pressure,
// flush on destruction, and what a store outage does to it.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "errand/errand.h"

namespace errand {
namespace {

using namespace std::chrono_literals;

struct Gate {
  std::atomic<bool> down{false};
  std::atomic<int> pushes{0};
  std::atomic<int> max_batch{0};
};

// A forwarding store: only push is interesting here.
class GatedStore final : public ForwardingStore {
 public:
  GatedStore(std::shared_ptr<Store> inner, Gate& gate)
      : ForwardingStore(std::move(inner)), gate_(gate) {}
  std::string_view scheme() const override { return "gated"; }
  Status push(const PushParams& p) override {
    if (gate_.down.load()) return fail(Errc::unavailable, "store is down");
    gate_.pushes.fetch_add(1);
    int n = static_cast<int>(p.jobs.size());
    int prev = gate_.max_batch.load();
    while (n > prev && !gate_.max_batch.compare_exchange_weak(prev, n)) {
    }
    return inner_->push(p);
  }

 private:
  Gate& gate_;
};

struct Noop {
  void perform(int) {}
};
ERRAND_JOB(Noop);

std::size_t queued(Store& s) { return s.queue_jobs("default", 0, 1'000'000).value().size(); }

TEST(Aggregate, PushReturnsBeforeTheStoreWriteAndFlushWritesAll) {
  Gate gate;
  auto mem = open_store("memory://").value();
  AggregateOptions o;
  o.flush_interval = 1h;  // only size or flush() wakes the writer
  o.max_batch = 100;
  auto agg = make_aggregate(std::make_shared<GatedStore>(mem, gate), o);
  Client client{QueueMap(agg)};
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(client.perform_async<Noop>(i).ok());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(queued(*mem), 0u) << "a half batch waits in the buffer";
  EXPECT_EQ(agg->aggregate_stats().buffered, 50u);
  ASSERT_TRUE(agg->flush().ok());
  EXPECT_EQ(queued(*mem), 50u);
  // Order is kept: the first pushed runs first.
  auto first = Json::parse(mem->queue_jobs("default", 0, 1).value().at(0));
  EXPECT_EQ(first["args"][0], 0);
}

TEST(Aggregate, WritesInBatches) {
  Gate gate;
  auto mem = open_store("memory://").value();
  AggregateOptions o;
  o.max_batch = 250;
  auto agg = make_aggregate(std::make_shared<GatedStore>(mem, gate), o);
  Client client{QueueMap(agg)};
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(client.perform_async<Noop>(i).ok());
  ASSERT_TRUE(agg->flush().ok());
  EXPECT_EQ(queued(*mem), 5000u);
  EXPECT_LE(gate.max_batch.load(), 250);
  EXPECT_LT(gate.pushes.load(), 5000) << "batched, not one write per job";
  auto st = agg->aggregate_stats();
  EXPECT_EQ(st.pushed, 5000u);
  EXPECT_EQ(st.written, 5000u);
}

TEST(Aggregate, LoneJobsAreWrittenWithinTheInterval) {
  auto mem = open_store("memory://").value();
  AggregateOptions o;
  o.flush_interval = 5ms;
  auto agg = make_aggregate(mem, o);
  Client client{QueueMap(agg)};
  ASSERT_TRUE(client.perform_async<Noop>(1).ok());
  auto until = std::chrono::steady_clock::now() + 5s;
  while (queued(*mem) == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(queued(*mem), 1u);
}

TEST(Aggregate, BackPressureWhenTheStoreFallsBehind) {
  Gate gate;
  gate.down = true;
  auto mem = open_store("memory://").value();
  AggregateOptions o;
  o.max_buffered = 10;
  o.max_batch = 5;
  o.push_timeout = 100ms;
  auto agg = make_aggregate(std::make_shared<GatedStore>(mem, gate), o);
  Client client{QueueMap(agg)};
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client.perform_async<Noop>(i).ok());
  auto t0 = std::chrono::steady_clock::now();
  auto over = client.perform_async<Noop>(11);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.code(), Errc::busy);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 90ms) << "it waited before giving up";
  EXPECT_NE(over.error().message().find("store is down"), std::string::npos)
      << over.error().message();
  EXPECT_FALSE(agg->flush(100ms).ok());
  // The store comes back: everything buffered is written, nothing lost.
  gate.down = false;
  ASSERT_TRUE(agg->flush(5s).ok());
  EXPECT_EQ(queued(*mem), 10u);
  EXPECT_GE(agg->aggregate_stats().failures, 1u);
  ASSERT_TRUE(client.perform_async<Noop>(12).ok()) << "room again";
}

TEST(Aggregate, DestructionFlushes) {
  auto mem = open_store("memory://").value();
  {
    AggregateOptions o;
    o.flush_interval = 1h;
    auto agg = make_aggregate(mem, o);
    Client client{QueueMap(agg)};
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(client.perform_async<Noop>(i).ok());
  }
  EXPECT_EQ(queued(*mem), 30u);
}

TEST(Aggregate, ConcurrentProducersLoseNothing) {
  auto mem = open_store("memory://").value();
  AggregateOptions o;
  o.max_buffered = 500;  // small: exercises back-pressure under contention
  auto agg = make_aggregate(mem, o);
  Client client{QueueMap(agg)};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t)
    producers.emplace_back([&] {
      for (int i = 0; i < 2500; ++i) ASSERT_TRUE(client.perform_async<Noop>(i).ok());
    });
  for (auto& p : producers) p.join();
  ASSERT_TRUE(agg->flush().ok());
  EXPECT_EQ(queued(*mem), 10000u);
}

TEST(Aggregate, ForwardsFlowControlToTheStore) {
  auto mem = open_store("memory://").value();
  auto agg = make_aggregate(mem);
  ASSERT_TRUE(agg->set_paused("default", true).ok());
  EXPECT_EQ(mem->paused_queues().value(), std::vector<std::string>{"default"});
  EXPECT_TRUE(agg->lock_acquire("k", "a", 0, 10).value());
  EXPECT_FALSE(mem->lock_acquire("k", "b", 0, 10).value());
  ASSERT_TRUE(agg->lock_release("k", "a").ok());
  EXPECT_TRUE(mem->lock_acquire("k", "b", 0, 10).value());
  EXPECT_EQ(agg->inner(), mem);
}

TEST(Aggregate, UrlPrefixOpensAStagedStore) {
  auto s = open_store("aggregate+memory://agg-url");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_NE(std::dynamic_pointer_cast<AggregateStore>(*s), nullptr);
  EXPECT_FALSE(open_store("aggregate+nosuch://x").ok());
}

}  // namespace
}  // namespace errand
