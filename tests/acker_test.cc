// The acker on its own (src/server/acker.h): its threads store every job
// handed to them, with its status record, from many processor threads at
// once; sync() waits for what was added before it; stop() returns even
// while every thread is idle, and acks inline afterwards.
#include "server/acker.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "errand/store.h"
#include "support/wall.h"

namespace errand {
namespace {

using errand::testing::wall;

std::string payload_for(const std::string& jid) {
  return R"({"class":"T","args":[],"jid":")" + jid + R"(","queue":"default"})";
}

/// `n` jobs pushed and claimed by "host:1:w", as a worker holds them.
std::vector<Fetched> claimed(Store& store, int n) {
  std::vector<PushItem> items;
  for (int i = 0; i < n; ++i) {
    const std::string jid = "a" + std::to_string(i);
    items.push_back(PushItem{"default", jid, payload_for(jid)});
  }
  EXPECT_TRUE(store.push({.jobs = items, .now = wall()}).ok());
  auto got = store.fetch({.queues = std::vector<std::string>{"default"},
                          .max = static_cast<std::size_t>(n),
                          .wait = std::chrono::milliseconds(0),
                          .owner = "host:1:w",
                          .now = wall()});
  EXPECT_TRUE(got.ok());
  return got.ok() ? std::move(*got) : std::vector<Fetched>{};
}

/// Claims no ack removed: what a rescue after the owner's death gives back.
std::size_t unacked(Store& store) {
  auto r = store.rescue_orphans({.now = wall() + 1e6, .grace_seconds = 0});
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : 0;
}

TEST(Acker, StoresEveryJobFromManyThreadsWithItsStatus) {
  auto store = open_store("memory://").value();
  constexpr int kJobs = 3000, kProducers = 6;
  auto jobs = claimed(*store, kJobs);
  ASSERT_EQ(jobs.size(), static_cast<std::size_t>(kJobs));
  // A small cap: producers wait for room; three threads: batches overlap.
  Acker acker(*store, 8, Acker::kMaxThreads);
  acker.start();
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = p; i < kJobs; i += kProducers) {
        StatusUpdate s;
        s.jid = "a" + std::to_string(i);
        s.state = JobState::succeeded;
        s.result = std::to_string(i);
        s.now = wall();
        s.ttl_seconds = 3600;
        acker.add(jobs[static_cast<std::size_t>(i)], std::move(s));
      }
    });
  for (auto& t : producers) t.join();
  acker.sync();  // everything added is stored once sync() returns
  for (int i : {0, 1, kJobs / 2, kJobs - 1}) {
    auto st = store->job_status("a" + std::to_string(i), wall());
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->state, JobState::succeeded) << i;
    EXPECT_EQ(st->result, std::to_string(i));
  }
  acker.stop();
  EXPECT_EQ(unacked(*store), 0u);
}

TEST(Acker, StopReturnsWithEveryThreadIdleAndLaterJobsAreAckedInline) {
  auto store = open_store("memory://").value();
  auto jobs = claimed(*store, 2);
  Acker acker(*store, 4, Acker::kMaxThreads);
  acker.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // all threads waiting
  acker.stop();  // must wake each of the three threads, or this never returns
  acker.add(jobs[0]);
  acker.add(jobs[1]);
  EXPECT_EQ(unacked(*store), 0u);
}

}  // namespace
}  // namespace errand
