// errand::testing::Fake (include/errand/testing.h): a private memory store,
// a manual clock, and drain() through a real errand::Server.
// Built into liberrand, which does not need GoogleTest.
#define ERRAND_TESTING_NO_GTEST
#include "errand/testing.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "core/job_context.h"
#include "errand/errand.h"

namespace errand::testing {

namespace {

Fake* g_current = nullptr;

EnqueuedJob to_enqueued(const std::string& text, std::optional<double> at) {
  EnqueuedJob j;
  j.payload = Json::parse(text, nullptr, false);
  if (!j.payload.is_object()) j.payload = Json::object();
  j.jid = j.payload.value("jid", "");
  j.job_class = j.payload.value("class", "");
  j.queue = j.payload.value("queue", "");
  j.args = j.payload.value("args", Json::array());
  if (at) j.at = from_epoch(*at);
  return j;
}

/// Inline mode: runs the job in the pushing thread, through the server
/// middleware, and stops the push (nothing is stored).
class InlineRunner final : public ClientMiddleware {
 public:
  explicit InlineRunner(ServerChain chain) : chain_(std::move(chain)) {}
  void call(Json& job, std::string_view queue, const std::function<void()>&) override {
    const std::string job_class = job.value("class", "");
    auto descriptor = Registry::global().find(job_class);
    if (!descriptor)
      throw std::invalid_argument("errand::testing inline: no job class " + job_class);
    JobContext ctx;
    ctx.jid = job.value("jid", "");
    ctx.job_class = job_class;
    ctx.queue = std::string(queue);
    ctx.set_payload(&job);
    const Json args = job.value("args", Json::array());
    ScopedJobContext scope(ctx);
    run_server_chain(chain_, ctx, [&] { descriptor->perform(args); });
  }

 private:
  ServerChain chain_;
};

double sort_time(const EnqueuedJob& j) {
  const double created = j.payload.value("created_at", 0.0);
  return created > 0 ? created : j.payload.value("enqueued_at", 0.0);
}

}  // namespace

struct Fake::Impl {
  FakeOptions options;
  std::string url;
  std::shared_ptr<Store> store;
  ManualClock clock;
  std::optional<Client> client;

  std::vector<EnqueuedJob> set_jobs(SetKind kind) const {
    std::vector<EnqueuedJob> out;
    auto entries = store->set_range(kind, 0, 1'000'000);
    if (!entries) return out;
    for (const auto& e : *entries) out.push_back(to_enqueued(e.payload, e.score));
    return out;
  }
  /// The names of the queues holding jobs now.
  std::vector<std::string> busy_queues() const {
    std::vector<std::string> out;
    if (auto qs = store->queues())
      for (const auto& q : *qs)
        if (q.size > 0) out.push_back(q.name);
    return out;
  }
};

Fake::Fake(FakeOptions options) : impl_(std::make_unique<Impl>()) {
  static std::atomic<int> n{0};
  auto& I = *impl_;
  I.options = std::move(options);
  I.url = "memory://errand-testing-" + std::to_string(n.fetch_add(1));
  I.store = open_store(I.url).value();
  ClientOptions co;
  co.middleware = I.options.client_middleware;
  if (I.options.inline_mode)
    co.middleware.push_back(std::make_shared<InlineRunner>(I.options.middleware));
  co.clock = &I.clock;
  I.client.emplace(QueueMap(I.store), co);
  previous_ = g_current;
  g_current = this;
}

Fake::~Fake() {
  clear();
  if (g_current == this) g_current = previous_;
}

Fake* Fake::current() {
  if (g_current == nullptr) throw std::logic_error("errand::testing: no Fake alive in this test");
  return g_current;
}

const std::string& Fake::url() const { return impl_->url; }
std::shared_ptr<Store> Fake::store() const { return impl_->store; }
Client& Fake::client() { return *impl_->client; }
ManualClock& Fake::clock() { return impl_->clock; }

std::vector<EnqueuedJob> Fake::jobs() const {
  auto& I = *impl_;
  std::vector<EnqueuedJob> out;
  if (auto qs = I.store->queues())
    for (const auto& q : *qs)
      if (auto texts = I.store->queue_jobs(q.name, 0, 1'000'000))
        for (const auto& t : *texts) out.push_back(to_enqueued(t, std::nullopt));
  for (auto& j : I.set_jobs(SetKind::scheduled)) out.push_back(std::move(j));
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return sort_time(a) < sort_time(b); });
  return out;
}

std::vector<EnqueuedJob> Fake::jobs(std::string_view job_class) const {
  auto all = jobs();
  std::erase_if(all, [&](const EnqueuedJob& j) { return j.job_class != job_class; });
  return all;
}

std::vector<EnqueuedJob> Fake::retries() const { return impl_->set_jobs(SetKind::retry); }
std::vector<EnqueuedJob> Fake::dead() const { return impl_->set_jobs(SetKind::dead); }

void Fake::clear() {
  auto& I = *impl_;
  if (auto qs = I.store->queues())
    for (const auto& q : *qs) (void)I.store->clear_queue(q.name);
  for (auto kind : {SetKind::scheduled, SetKind::retry, SetKind::dead})
    (void)I.store->set_clear(kind);
}

Result<DrainResult> Fake::drain() {
  using namespace std::chrono_literals;
  auto& I = *impl_;
  DrainResult result;
  // Each round: promote what is due, work every queue holding jobs until
  // they are empty and nothing runs; jobs pushed meanwhile get a next round.
  for (int round = 0; round < 1000; ++round) {
    if (auto p = I.store->promote_due(I.clock.epoch(), 1'000'000); !p) return p.error();
    auto queues = I.busy_queues();
    if (queues.empty()) return result;
    ServerOptions o;
    o.concurrency = 1;  // one job at a time, in queue order
    for (const auto& q : queues) o.queues.push_back({q, 0});
    o.fetch_wait = 20ms;
    o.poll_interval = 3'600'000ms;  // promotion is ours, at the manual clock
    o.heartbeat_interval = 1'000ms;
    o.process_ttl = 60'000ms;
    o.rescue_interval = 3'600'000ms;
    o.shutdown_timeout = 10'000ms;
    o.max_retries = I.options.max_retries;
    o.middleware = I.options.middleware;
    o.log_jobs = false;
    o.clock = &I.clock;
    Server server(QueueMap(I.store), o);
    if (auto st = server.start(); !st) return st.error();
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    int quiet_checks = 0;
    std::int64_t last = -1;
    while (quiet_checks < 3) {
      if (std::chrono::steady_clock::now() > deadline) {
        server.stop();
        return fail(Errc::unavailable, "errand::testing::drain: jobs still running after 60 s");
      }
      std::this_thread::sleep_for(2ms);
      const auto c = server.counters();
      const bool idle = c.busy == 0 && I.busy_queues().empty() && c.processed == last;
      quiet_checks = idle ? quiet_checks + 1 : 0;
      last = c.processed;
    }
    server.stop();
    const auto c = server.counters();
    result.processed += c.processed;
    result.failed += c.failed;
  }
  return fail(Errc::invalid_argument, "errand::testing::drain: jobs keep enqueueing jobs");
}

std::vector<EnqueuedJob> jobs(std::string_view job_class) {
  return Fake::current()->jobs(job_class);
}
void clear() { Fake::current()->clear(); }
Result<DrainResult> drain() { return Fake::current()->drain(); }

}  // namespace errand::testing
