// Conformance: pausing and resuming queues (set_paused, paused_queues, the
// paused flag of queues()). Pausing is advisory at this seam: the store
// records it for every process sharing the data; the servers read it back
// and stop fetching the queue.
#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int pause = 1;
}  // namespace anchors
namespace {

using Names = std::vector<std::string>;

// Pauses `queue`, or skips the case on a store that cannot pause.
#define PAUSE_OR_SKIP(queue)                                                    \
  do {                                                                          \
    if (!store->capabilities().pause) GTEST_SKIP() << "the store cannot pause"; \
    auto st = store->set_paused(queue, true);                                   \
    ASSERT_TRUE(st.ok()) << st.message();                                       \
  } while (0)

const QueueInfo* find_queue(const std::vector<QueueInfo>& queues, const std::string& name) {
  for (const auto& q : queues)
    if (q.name == name) return &q;
  return nullptr;
}

TEST_P(StoreConformance, PauseAndResumeAreRecorded) {
  EXPECT_EQ(*store->paused_queues(), Names{});
  push_jobs(*store, {item("a", "q1"), item("b", "q2")});
  PAUSE_OR_SKIP("q1");
  EXPECT_EQ(*store->paused_queues(), Names{"q1"});
  auto queues = store->queues(wall());
  ASSERT_TRUE(queues.ok());
  ASSERT_NE(find_queue(*queues, "q1"), nullptr);
  EXPECT_TRUE(find_queue(*queues, "q1")->paused);
  ASSERT_NE(find_queue(*queues, "q2"), nullptr);
  EXPECT_FALSE(find_queue(*queues, "q2")->paused);

  ASSERT_TRUE(store->set_paused("q1", false).ok());
  EXPECT_EQ(*store->paused_queues(), Names{});
  queues = store->queues(wall());
  ASSERT_TRUE(queues.ok());
  ASSERT_NE(find_queue(*queues, "q1"), nullptr);
  EXPECT_FALSE(find_queue(*queues, "q1")->paused);
}

TEST_P(StoreConformance, PausedQueueKeepsItsJobsAndAcceptsMore) {
  push_jobs(*store, {item("a", "q1")});
  PAUSE_OR_SKIP("q1");
  push_jobs(*store, {item("b", "q1")});
  auto queues = store->queues(wall());
  ASSERT_TRUE(queues.ok());
  ASSERT_NE(find_queue(*queues, "q1"), nullptr);
  EXPECT_EQ(find_queue(*queues, "q1")->size, 2u);
  EXPECT_EQ(jids(*store->queue_jobs("q1", 0, 10)), (Names{"a", "b"}));
  // Resumed, the jobs run in their order.
  ASSERT_TRUE(store->set_paused("q1", false).ok());
  EXPECT_EQ(jids(fetch(*store, {"q1"}, 10)), (Names{"a", "b"}));
}

TEST_P(StoreConformance, PausedQueuesAreSortedAndPausingIsIdempotent) {
  PAUSE_OR_SKIP("b");
  for (const char* q : {"a", "c", "a"}) ASSERT_TRUE(store->set_paused(q, true).ok());
  EXPECT_EQ(*store->paused_queues(), (Names{"a", "b", "c"}));
  ASSERT_TRUE(store->set_paused("a", false).ok());
  ASSERT_TRUE(store->set_paused("a", false).ok()) << "resuming twice is not an error";
  ASSERT_TRUE(store->set_paused("never-paused", false).ok());
  EXPECT_EQ(*store->paused_queues(), (Names{"b", "c"}));
}

TEST_P(StoreConformance, PauseIsSeenByEveryView) {
  if (!GetParam().second_view) GTEST_SKIP() << "one view only";
  auto other = GetParam().second_view();
  ASSERT_NE(other, nullptr);
  PAUSE_OR_SKIP("shared");
  EXPECT_EQ(*other->paused_queues(), Names{"shared"});
  ASSERT_TRUE(other->set_paused("shared", false).ok());
  EXPECT_EQ(*store->paused_queues(), Names{});
}

}  // namespace
}  // namespace errand::testing
