// Conformance: named locks (unique jobs, limit slots, cron ticks): acquire,
// expiry, release by the holder only, extension by the holder only, and
// exactly one winner across two views of the store.
#include <atomic>
#include <thread>

#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int locks = 1;  // see registry.cc
}  // namespace anchors
namespace {

TEST_P(StoreConformance, LockIsExclusiveUntilItExpires) {
  const double now = wall();
  ASSERT_TRUE(store->lock_acquire("k", "a", now, now + 10).value());
  EXPECT_FALSE(store->lock_acquire("k", "b", now + 1, now + 11).value());
  EXPECT_FALSE(store->lock_acquire("k", "a", now + 1, now + 11).value()) << "not re-entrant";
  EXPECT_TRUE(store->lock_acquire("other", "b", now, now + 10).value()) << "keys are separate";
  // Past its end, another holder takes it.
  EXPECT_TRUE(store->lock_acquire("k", "b", now + 10.5, now + 20).value());
  EXPECT_FALSE(store->lock_acquire("k", "a", now + 11, now + 21).value());
}

TEST_P(StoreConformance, LockReleaseOnlyByItsHolder) {
  const double now = wall();
  ASSERT_TRUE(store->lock_acquire("k", "a", now, now + 60).value());
  ASSERT_TRUE(store->lock_release("k", "b").ok());
  EXPECT_FALSE(store->lock_acquire("k", "c", now, now + 60).value()) << "b could not release it";
  ASSERT_TRUE(store->lock_release("k", "a").ok());
  EXPECT_TRUE(store->lock_acquire("k", "c", now, now + 60).value());
  EXPECT_TRUE(store->lock_release("gone", "a").ok()) << "releasing a free lock is not an error";
}

TEST_P(StoreConformance, LockExtendOnlyByItsHolder) {
  const double now = wall();
  ASSERT_TRUE(store->lock_acquire("k", "a", now, now + 10).value());
  EXPECT_FALSE(store->lock_extend("k", "b", wall(), now + 100).value());
  ASSERT_TRUE(store->lock_extend("k", "a", wall(), now + 100).value());
  // Held past its first end now.
  EXPECT_FALSE(store->lock_acquire("k", "b", now + 50, now + 60).value());
  EXPECT_TRUE(store->lock_acquire("k", "b", now + 101, now + 160).value());
  // a lost it: extending does not take it back.
  EXPECT_FALSE(store->lock_extend("k", "a", wall(), now + 500).value());
  EXPECT_FALSE(store->lock_extend("never", "a", wall(), now + 500).value());
  ASSERT_TRUE(store->lock_release("k", "b").ok());
  EXPECT_FALSE(store->lock_extend("k", "b", wall(), now + 500).value()) << "released";
}

TEST_P(StoreConformance, LockHasOneWinnerAcrossViews) {
  if (!GetParam().second_view) GTEST_SKIP() << "one view only";
  auto other = GetParam().second_view();
  const double now = wall();
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      Store& s = (i % 2) ? *other : *store;
      if (s.lock_acquire("contended", "h" + std::to_string(i), now, now + 60).value_or(false))
        ++wins;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
}

}  // namespace
}  // namespace errand::testing
