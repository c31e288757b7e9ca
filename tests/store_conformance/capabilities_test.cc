// Conformance: each store's declared capabilities() match what it does. A
// capability declared must work; one not declared must answer unsupported
// (or, for ordering, must not be pretended). transactional_push and
// listen_notify are declarations only here: the first has no call at this
// seam yet, the second differs from polling only in time.
#include "store_conformance/conformance.h"
#include "store_conformance/helpers.h"

namespace errand::testing {
namespace anchors {
extern const int capabilities = 1;
}  // namespace anchors
namespace {

using Jids = std::vector<std::string>;

TEST_P(StoreConformance, CapabilityLocksMatchesLockAcquireAndRelease) {
  const bool declared = store->capabilities().locks;
  const double now = wall();
  auto got = store->lock_acquire("cap-probe", "h", now, now + 60);
  auto released = store->lock_release("cap-probe", "h");
  if (declared) {
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_TRUE(*got);
    EXPECT_TRUE(released.ok()) << released.message();
  } else {
    ASSERT_FALSE(got.ok()) << "locks not declared, yet lock_acquire works";
    EXPECT_EQ(got.code(), Errc::unsupported);
    ASSERT_FALSE(released.ok());
    EXPECT_EQ(released.code(), Errc::unsupported);
  }
}

TEST_P(StoreConformance, CapabilityLockExtendMatchesLockExtend) {
  const bool declared = store->capabilities().lock_extend;
  auto got = store->lock_extend("cap-probe-never-taken", "h", wall(), wall() + 60);
  if (declared) {
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_FALSE(*got) << "nobody holds it";
  } else {
    ASSERT_FALSE(got.ok()) << "lock_extend not declared, yet it answers";
    EXPECT_EQ(got.code(), Errc::unsupported);
  }
  if (declared) {
    EXPECT_TRUE(store->capabilities().locks) << "lock_extend without locks";
  }
}

TEST_P(StoreConformance, CapabilityPauseMatchesSetPaused) {
  const bool declared = store->capabilities().pause;
  auto st = store->set_paused("q", true);
  if (declared) {
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(*store->paused_queues(), Jids{"q"});
  } else {
    ASSERT_FALSE(st.ok()) << "pause not declared, yet set_paused works";
    EXPECT_EQ(st.code(), Errc::unsupported);
  }
}

TEST_P(StoreConformance, CapabilityOrderingMatchesFetchOrder) {
  push_jobs(*store, {item("p0a", "default", 0, 0), item("p5", "default", 0, 5),
                     item("p0b", "default", 0, 0)});
  const auto order = jids(fetch(*store, {"default"}, 10));
  if (store->capabilities().ordering)
    EXPECT_EQ(order, (Jids{"p5", "p0a", "p0b"}));
  else
    EXPECT_EQ(order, (Jids{"p0a", "p5", "p0b"})) << "ordering not declared: FIFO";
}

TEST_P(StoreConformance, CapabilityInProcessMatchesInProcess) {
  EXPECT_EQ(store->capabilities().in_process, store->in_process());
}

TEST_P(StoreConformance, CapabilitiesAreTheSameForEveryView) {
  if (!GetParam().second_view) GTEST_SKIP() << "one view only";
  auto other = GetParam().second_view();
  ASSERT_NE(other, nullptr);
  const auto a = store->capabilities();
  const auto b = other->capabilities();
  EXPECT_EQ(a.ordering, b.ordering);
  EXPECT_EQ(a.pause, b.pause);
  EXPECT_EQ(a.locks, b.locks);
  EXPECT_EQ(a.lock_extend, b.lock_extend);
  EXPECT_EQ(a.in_process, b.in_process);
  EXPECT_EQ(a.transactional_push, b.transactional_push);
  EXPECT_EQ(a.listen_notify, b.listen_notify);
  EXPECT_EQ(a.status, b.status);
}

}  // namespace
}  // namespace errand::testing
