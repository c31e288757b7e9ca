// Progress (JobContext::progress: the throttle, the stored value) and job
// events (ServerOptions::on_event, Client::subscribe, enqueued events) with
// an in-process Server. The same against real worker processes on every
// store: progress_cli_test.cc; the store calls: the conformance suite.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "errand/errand.h"
#include "errand/testing.h"
#include "server/progress.h"
#include "support/process.h"

namespace errand::testing {
namespace {

using std::chrono::milliseconds;

#define ASSERT_OK(expr)                                        \
  do {                                                         \
    auto st_ = (expr);                                         \
    ASSERT_TRUE(st_.ok()) << int(st_.code()) << st_.message(); \
  } while (0)

/// The events the hook saw, per jid.
struct Recorder {
  std::mutex mu;
  std::vector<JobEvent> events;
  EventCallback callback() {
    return [this](const JobEvent& e) {
      std::lock_guard lk(mu);
      events.push_back(e);
    };
  }
  std::vector<JobEventKind> kinds(const std::string& jid) {
    std::lock_guard lk(mu);
    std::vector<JobEventKind> out;
    for (const auto& e : events)
      if (e.jid == jid) out.push_back(e.kind);
    return out;
  }
  std::vector<JobEvent> of(const std::string& jid) {
    std::lock_guard lk(mu);
    std::vector<JobEvent> out;
    for (const auto& e : events)
      if (e.jid == jid) out.push_back(e);
    return out;
  }
};

/// A store that counts record_progress calls (one store write each).
class CountingStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status record_progress(std::span<const ProgressUpdate> updates) override {
    writes.fetch_add(1);
    return ForwardingStore::record_progress(updates);
  }
  std::atomic<int> writes{0};
};

std::atomic<bool> g_release{false};

struct ProgressResize {
  static constexpr errand::JobOptions options{.queue = "progress", .retry = 0};
  int perform(int n, bool hold) {
    const auto& job = current_job();
    for (int i = 1; i <= n; ++i)
      job.progress(static_cast<double>(i) / n,
                   "resized " + std::to_string(i) + " of " + std::to_string(n));
    while (hold && !g_release.load() && !job.stop.stop_requested())
      std::this_thread::sleep_for(milliseconds(5));
    return n;
  }
};
ERRAND_JOB(ProgressResize);

struct ProgressFailing {
  static constexpr errand::JobOptions options{.queue = "progress", .retry = 1};
  static std::chrono::seconds retry_in(int) { return std::chrono::seconds(1); }  // + up to 9 s
  void perform() { throw std::runtime_error("nope"); }
};
ERRAND_JOB(ProgressFailing);

struct ProgressWaits {
  static constexpr errand::JobOptions options{.queue = "progress", .retry = 0};
  void perform() {
    while (!current_job().stop.stop_requested()) std::this_thread::sleep_for(milliseconds(5));
  }
};
ERRAND_JOB(ProgressWaits);

ServerOptions options(EventCallback hook = {}, bool publish = false) {
  ServerOptions o;
  o.queues = {{"progress"}};
  o.concurrency = 2;
  o.log_jobs = false;
  o.poll_interval = milliseconds(100);
  o.on_event = std::move(hook);
  o.publish_events = publish;
  return o;
}

TEST(ProgressThrottle, ManyReportsMakeFewWritesAndTheLastIsFlushed) {
  std::vector<std::pair<double, std::string>> sent;
  ProgressThrottle t(milliseconds(250),
                     [&](double f, const std::string& m) { sent.emplace_back(f, m); });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 100'000; ++i) t.report(i / 100'000.0, "r" + std::to_string(i));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // At most one write per interval that passed, plus the first.
  const auto bound = static_cast<std::size_t>(elapsed / milliseconds(250)) + 1;
  EXPECT_LE(sent.size(), bound);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.front().second, "r1") << "the first report goes out at once";
  t.flush();
  EXPECT_EQ(sent.back().first, 1.0);
  EXPECT_EQ(sent.back().second, "r100000") << "the last report, held back, is flushed";
  const auto n = sent.size();
  t.flush();
  EXPECT_EQ(sent.size(), n) << "nothing more to flush";
  EXPECT_EQ(t.sent(), n);
}

TEST(ProgressThrottle, PeriodicFlushesKeepReportsAnIntervalApart) {
  int sent = 0;
  ProgressThrottle t(std::chrono::hours(1), [&](double, const std::string&) { ++sent; });
  t.report(0.1, "first");  // at once
  t.report(0.2, "held");
  t.flush_due();
  EXPECT_EQ(sent, 1) << "the interval has not passed";
  t.flush();
  EXPECT_EQ(sent, 2) << "when perform() returns, the held report goes";
}

TEST(Progress, IsReadThroughClientStatusWhileTheJobRunsAndAfter) {
  g_release = false;
  auto client = Client::open("memory://progress-running").value();
  Server server(client.queues(), options());
  ASSERT_OK(server.start());
  auto jid = client.perform_async<ProgressResize>(4, true).value();
  std::optional<JobStatus> st;
  ASSERT_TRUE(eventually(std::chrono::seconds(30), [&] {
    st = client.status(jid).value();
    return st->progress && *st->progress == 1.0;
  }));
  EXPECT_EQ(st->state, JobState::running);
  EXPECT_EQ(st->progress_message, "resized 4 of 4");
  g_release = true;
  auto done = client.wait(jid, std::chrono::seconds(30)).value();
  EXPECT_EQ(done.state, JobState::succeeded);
  ASSERT_TRUE(done.progress);
  EXPECT_EQ(*done.progress, 1.0);
  server.stop();
}

TEST(Progress, ManyCallsAreFewStoreWritesAndTheFinalValueIsStored) {
  auto counting = std::make_shared<CountingStore>(open_store("memory://progress-count").value());
  Client client{QueueMap(counting)};
  Server server(client.queues(), options());
  ASSERT_OK(server.start());
  const auto start = std::chrono::steady_clock::now();
  auto jid = client.perform_async<ProgressResize>(50'000, false).value();
  auto done = client.wait(jid, std::chrono::seconds(60)).value();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(done.state, JobState::succeeded) << done.error;
  ASSERT_TRUE(done.progress);
  EXPECT_EQ(*done.progress, 1.0);
  EXPECT_EQ(done.progress_message, "resized 50000 of 50000");
  // The first report, one per interval, and the last (flushed).
  const auto bound = static_cast<int>(elapsed / milliseconds(250)) + 2;
  EXPECT_GE(counting->writes.load(), 1);
  EXPECT_LE(counting->writes.load(), bound);
  server.stop();
}

TEST(Progress, SqliteKeepsIt) {
  TempDir dir;
  auto client = Client::open("sqlite://" + (dir / "p.db").string()).value();
  Server server(client.queues(), options());
  ASSERT_OK(server.start());
  auto jid = client.perform_async<ProgressResize>(3, false).value();
  auto done = client.wait(jid, std::chrono::seconds(60)).value();
  ASSERT_EQ(done.state, JobState::succeeded) << done.error;
  ASSERT_TRUE(done.progress);
  EXPECT_EQ(*done.progress, 1.0);
  EXPECT_EQ(done.progress_message, "resized 3 of 3");
  server.stop();
}

TEST(Progress, TheHarnessRecordsEveryReport) {
  Fake fake;
  ASSERT_TRUE(fake.client().perform_async<ProgressResize>(3, false).ok());
  EXPECT_EQ(drain(), 1u);
  auto reports = progress_reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].job_class, "ProgressResize");
  EXPECT_DOUBLE_EQ(reports[0].fraction, 1.0 / 3);
  EXPECT_EQ(reports[2].message, "resized 3 of 3");
  clear();
  EXPECT_TRUE(progress_reports().empty());
}

TEST(Events, TheHookSeesEachJobFromStartToItsEnd) {
  g_release = true;
  Recorder rec;
  auto client = Client::open("memory://events-hook").value();
  Server server(client.queues(), options(rec.callback()));
  ASSERT_OK(server.start());
  auto ok = client.perform_async<ProgressResize>(1, false).value();
  auto failing = client.perform_async<ProgressFailing>().value();
  auto waits = client.perform_async<ProgressWaits>().value();
  EXPECT_EQ(client.wait(ok, std::chrono::seconds(30))->state, JobState::succeeded);
  EXPECT_EQ(client.wait(failing, std::chrono::seconds(60))->state, JobState::dead);
  ASSERT_TRUE(eventually(std::chrono::seconds(30),
                         [&] { return client.status(waits)->state == JobState::running; }));
  EXPECT_EQ(client.cancel(waits).value(), JobState::running);
  EXPECT_EQ(client.wait(waits, std::chrono::seconds(30))->state, JobState::cancelled);
  server.stop();  // every event delivered by now

  using K = JobEventKind;
  EXPECT_EQ(rec.kinds(ok), (std::vector<K>{K::started, K::progress, K::succeeded}));
  EXPECT_EQ(rec.kinds(failing), (std::vector<K>{K::started, K::retrying, K::started, K::dead}));
  EXPECT_EQ(rec.kinds(waits), (std::vector<K>{K::started, K::cancelled}));
  auto ok_events = rec.of(ok);
  ASSERT_EQ(ok_events.size(), 3u);
  EXPECT_EQ(ok_events[1].progress, 1.0);
  EXPECT_EQ(ok_events[1].message, "resized 1 of 1");
  EXPECT_EQ(ok_events[0].job_class, "ProgressResize");
  EXPECT_EQ(ok_events[0].queue, "progress");
  EXPECT_EQ(ok_events[0].process, server.identity());
  auto failed = rec.of(failing);
  ASSERT_EQ(failed.size(), 4u);
  EXPECT_EQ(failed[1].error, "std::runtime_error: nope");
  EXPECT_EQ(failed[3].error, "std::runtime_error: nope");
}

TEST(Events, ASubscriberOnTheMemoryStoreSeesWhatTheWorkerPublishes) {
  auto client = Client::open("memory://events-subscribe").value();
  Recorder rec;
  auto sub = client.subscribe(rec.callback());
  ASSERT_TRUE(sub.ok()) << sub.error().message();
  ServerOptions o = options({}, true);
  Server server(client.queues(), o);
  ASSERT_OK(server.start());
  auto jid = client.perform_async<ProgressResize>(2, false).value();
  EXPECT_EQ(client.wait(jid, std::chrono::seconds(30))->state, JobState::succeeded);
  using K = JobEventKind;
  const std::vector<K> want{K::started, K::progress, K::progress, K::succeeded};
  EXPECT_TRUE(eventually(std::chrono::seconds(30), [&] { return rec.kinds(jid) == want; }))
      << rec.kinds(jid).size() << " events";
  sub->reset();
  auto later = client.perform_async<ProgressResize>(1, false).value();
  EXPECT_EQ(client.wait(later, std::chrono::seconds(30))->state, JobState::succeeded);
  server.stop();
  EXPECT_TRUE(rec.kinds(later).empty()) << "the subscription ended";
}

TEST(Events, ClientsThatPublishSendEnqueued) {
  ClientOptions co;
  co.publish_events = true;
  auto publishing = Client::open("memory://events-enqueued", co).value();
  auto quiet = Client::open("memory://events-enqueued").value();
  Recorder rec;
  auto sub = quiet.subscribe(rec.callback());
  ASSERT_TRUE(sub.ok());
  auto jid = publishing.perform_async<ProgressResize>(1, false).value();
  auto other = quiet.perform_async<ProgressResize>(1, false).value();
  auto events = rec.of(jid);  // the memory store delivers on the pushing thread
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, JobEventKind::enqueued);
  EXPECT_EQ(events[0].job_class, "ProgressResize");
  EXPECT_EQ(events[0].queue, "progress");
  EXPECT_TRUE(rec.of(other).empty()) << "that client does not publish";
}

TEST(Events, SqliteHasNoChannel) {
  TempDir dir;
  auto client = Client::open("sqlite://" + (dir / "e.db").string()).value();
  auto sub = client.subscribe([](const JobEvent&) {});
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.code(), Errc::unsupported);
  EXPECT_NE(sub.error().message().find("event channel"), std::string::npos);
}

TEST(Events, EncodeAndDecodeRoundTrip) {
  JobEvent e;
  e.kind = JobEventKind::progress;
  e.jid = "abc";
  e.job_class = "ProgressResize";
  e.queue = "q";
  e.progress = 0.25;
  e.message = std::string(3000, 'x');
  e.at = 12.5;
  auto back = decode_event(encode_event(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, JobEventKind::progress);
  EXPECT_EQ(back->jid, "abc");
  EXPECT_EQ(back->job_class, "ProgressResize");
  EXPECT_EQ(back->progress, 0.25);
  EXPECT_EQ(back->at, 12.5);
  EXPECT_LT(back->message.size(), 2100u) << "long messages are cut";
  EXPECT_FALSE(decode_event(R"({"event":"exploded","jid":"x"})"));
  EXPECT_FALSE(decode_event("not json"));
}

}  // namespace
}  // namespace errand::testing
