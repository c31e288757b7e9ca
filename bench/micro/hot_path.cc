// Micro-benchmarks of the per-job hot path: payload encode and decode, typed
// dispatch, middleware, and a whole memory-store round trip.
#include <benchmark/benchmark.h>

#include "core/invocation.h"
#include "errand/errand.h"

namespace {

struct MicroJob {
  void perform(std::int64_t id, std::string name) {
    benchmark::DoNotOptimize(id);
    benchmark::DoNotOptimize(name);
  }
};
ERRAND_JOB(MicroJob);

const std::string kPayload =
    R"({"class":"MicroJob","args":[42,"hello"],"jid":"3469c202ba92a19fc5680796","queue":"default","retry":true,"created_at":1700000000.9679568,"enqueued_at":1700000000.968029})";

void BM_NewJid(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(errand::payload::new_jid());
}
BENCHMARK(BM_NewJid);

void BM_PayloadEncode(benchmark::State& s) {
  for (auto _ : s) {
    errand::Json j = errand::Json::object();
    j["class"] = "MicroJob";
    j["args"] = errand::make_args<MicroJob>(42, "hello");
    j["jid"] = errand::payload::new_jid();
    j["queue"] = "default";
    j["retry"] = true;
    j["created_at"] = 1700000000.9679568;
    j["enqueued_at"] = 1700000000.968029;
    benchmark::DoNotOptimize(errand::payload::dump(j));
  }
}
BENCHMARK(BM_PayloadEncode);

void BM_PayloadDecode(benchmark::State& s) {
  for (auto _ : s) benchmark::DoNotOptimize(errand::payload::parse_for_work(kPayload));
}
BENCHMARK(BM_PayloadDecode);

void BM_Dispatch(benchmark::State& s) {
  auto doc = errand::payload::parse_for_work(kPayload).value();
  for (auto _ : s) {
    auto inv = errand::resolve_invocation(doc);
    auto job = errand::Registry::global().find(inv->job_class);
    job->perform(inv->args);
  }
}
BENCHMARK(BM_Dispatch);

struct PassThrough : errand::ServerMiddleware {
  void call(const errand::JobContext&, const std::function<void()>& next) override { next(); }
};

void BM_ServerMiddleware3(benchmark::State& s) {
  errand::ServerChain chain;
  for (int i = 0; i < 3; ++i) chain.push_back(std::make_shared<PassThrough>());
  errand::JobContext ctx;
  int n = 0;
  for (auto _ : s) errand::run_server_chain(chain, ctx, [&] { ++n; });
  benchmark::DoNotOptimize(n);
}
BENCHMARK(BM_ServerMiddleware3);

void BM_ClientPerformAsyncMemory(benchmark::State& s) {
  auto store = errand::open_store("memory://").value();
  errand::Client client{errand::QueueMap(store)};
  std::int64_t i = 0;
  for (auto _ : s) {
    benchmark::DoNotOptimize(client.perform_async<MicroJob>(i++, "hello"));
    if ((i & 0xffff) == 0) (void)store->clear_queue("default");
  }
}
BENCHMARK(BM_ClientPerformAsyncMemory);

void BM_MemoryFetchAck(benchmark::State& s) {
  auto store = errand::open_store("memory://").value();
  std::vector<std::string> queues{"default"};
  std::vector<errand::PushItem> batch(1);
  batch[0].queue = "default";
  batch[0].jid = "3469c202ba92a19fc5680796";
  batch[0].payload = kPayload;
  for (auto _ : s) {
    (void)store->push({.jobs = batch, .now = errand::SystemClock::instance().epoch()});
    auto got = store->fetch({.queues = queues,
                             .max = 1,
                             .wait = std::chrono::milliseconds(0),
                             .owner = "bench",
                             .now = errand::SystemClock::instance().epoch()});
    (void)store->ack(*got);
  }
}
BENCHMARK(BM_MemoryFetchAck);

}  // namespace

BENCHMARK_MAIN();
