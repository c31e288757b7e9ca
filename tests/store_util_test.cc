// store_util: the helpers every store shares (UTC days, promoting a
// scheduled payload to its queue, reading enqueued_at).
#include "store/memory/store_util.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cstdio>
#include <string>

namespace errand::testing {
namespace {

// format_score writes what "%.6f" writes (without printf): every record's
// and score's text stays as it was.
TEST(StoreUtil, FormatScoreIsPrintfsFixedSix) {
  for (double v : {0.0, -0.0, 1.0, -1.5, 0.0000004, 0.0000005, 0.0000015, 1764860000.123456,
                   1764860000.9999996, 123456789012345678.0, 1e300, -DBL_MAX, DBL_MAX, DBL_MIN}) {
    char want[400];
    std::snprintf(want, sizeof want, "%.6f", v);
    EXPECT_EQ(store_util::format_score(v), std::string(want)) << v;
  }
}

TEST(StoreUtil, UtcDayAndPromotePayload) {
  EXPECT_EQ(store_util::utc_day(0), "1970-01-01");
  EXPECT_EQ(store_util::utc_day(1700000000.5), "2023-11-14");
  auto p = store_util::promote_payload(R"({"b":1,"a":2,"queue":"q"})", 5.5);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->queue, "q");
  EXPECT_EQ(p->payload, R"({"b":1,"a":2,"queue":"q","enqueued_at":5.5})");
  EXPECT_EQ(store_util::promote_payload("not json", 1), std::nullopt);
  EXPECT_EQ(store_util::promote_payload(R"({"args":[]})", 1)->queue, "default");
  EXPECT_EQ(store_util::enqueued_at(R"({"enqueued_at":1700000000123})"), 1700000000.123);
  EXPECT_EQ(store_util::enqueued_at(R"({"enqueued_at":12.5})"), 12.5);
  EXPECT_EQ(store_util::enqueued_at(R"({})"), std::nullopt);
}

}  // namespace
}  // namespace errand::testing
