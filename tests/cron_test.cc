#include "errand/cron.h"

#include <date/date.h>
#include <gtest/gtest.h>

namespace errand {
namespace {

using namespace std::chrono;

SystemTime utc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return date::sys_days(date::year(y) / date::month(mo) / date::day(d)) + hours(h) + minutes(mi) +
         seconds(s);
}

std::string show(SystemTime t) { return date::format("%F %T", floor<seconds>(t)); }

struct Case {
  const char* expr;
  const char* zone;
  SystemTime after;
  const char* expected_utc;  // "" = none
};

class CronTable : public ::testing::TestWithParam<Case> {};

TEST_P(CronTable, NextTick) {
  const Case& c = GetParam();
  auto e = CronExpression::parse(c.expr);
  ASSERT_TRUE(e.ok()) << e.error().message();
  auto n = e->next(c.after, c.zone);
  ASSERT_TRUE(n.ok()) << n.error().message();
  if (std::string(c.expected_utc).empty()) {
    EXPECT_FALSE(n->has_value()) << show(**n);
  } else {
    ASSERT_TRUE(n->has_value());
    EXPECT_EQ(show(**n), c.expected_utc) << c.expr << " in " << c.zone;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Expressions, CronTable,
    ::testing::Values(
        Case{"*/5 * * * *", "", utc(2026, 11, 28, 10, 2), "2026-11-28 10:05:00"},
        Case{"*/5 * * * *", "", utc(2026, 11, 28, 10, 5), "2026-11-28 10:10:00"},  // strictly after
        Case{"0 9 * * MON-FRI", "", utc(2026, 11, 28, 10, 0), "2026-11-30 09:00:00"},  // Sat → Mon
        Case{"30 2 1 * *", "", utc(2026, 12, 15, 0, 0), "2027-01-01 02:30:00"},
        Case{"0 0 29 2 *", "", utc(2027, 3, 1, 0, 0), "2028-02-29 00:00:00"},  // leap day
        Case{"0 0 30 2 *", "", utc(2027, 3, 1, 0, 0), ""},                     // never
        Case{"15,45 */6 * * *", "", utc(2026, 1, 1, 6, 20), "2026-01-01 06:45:00"},
        Case{"0 12 1 * SUN", "", utc(2026, 11, 2, 0, 0), "2026-11-08 12:00:00"},       // dom OR dow
        Case{"*/20 * * * * *", "", utc(2026, 1, 1, 0, 0, 41), "2026-01-01 00:01:00"},  // seconds
        Case{"10 0 * * * *", "", utc(2026, 1, 1, 0, 0, 11), "2026-01-01 01:00:10"},    // s=10 m=0
        Case{"@hourly", "", utc(2026, 1, 1, 0, 0, 1), "2026-01-01 01:00:00"},
        Case{"@weekly", "", utc(2026, 11, 28, 0, 0), "2026-11-29 00:00:00"},
        Case{"0 0 * * 7", "", utc(2026, 11, 28, 0, 0), "2026-11-29 00:00:00"},  // 7 = Sunday
        Case{"5/15 * * * *", "", utc(2026, 1, 1, 0, 6), "2026-01-01 00:20:00"},
        Case{"0 9 * * *", "Europe/Paris", utc(2026, 11, 28, 7, 0), "2026-11-28 08:00:00"},
        Case{"0 9 * * *", "America/New_York", utc(2026, 7, 1, 0, 0), "2026-07-01 13:00:00"},
        // Spring forward, Europe/Paris 2026-03-29: 02:00 local jumps to 03:00.
        // A 02:30 job fires once, at the jump (01:00 UTC).
        Case{"30 2 * * *", "Europe/Paris", utc(2026, 3, 28, 12, 0), "2026-03-29 01:00:00"},
        Case{"30 2 * * *", "Europe/Paris", utc(2026, 3, 29, 1, 0), "2026-03-30 00:30:00"},
        // Fall back, Europe/Paris 2026-10-25: 03:00 local goes back to 02:00.
        // A 02:30 job fires once, at the first 02:30 (00:30 UTC), not again at 01:30 UTC.
        Case{"30 2 * * *", "Europe/Paris", utc(2026, 10, 24, 12, 0), "2026-10-25 00:30:00"},
        Case{"30 2 * * *", "Europe/Paris", utc(2026, 10, 25, 0, 30), "2026-10-26 01:30:00"},
        // Every 30 min across the fall-back hour: 02:00 and 02:30 fire once each.
        Case{"*/30 * * * *", "Europe/Paris", utc(2026, 10, 25, 0, 30), "2026-10-25 02:00:00"},
        // New York spring forward 2026-03-08 02:00 → 03:00 EDT.
        Case{"0 2 * * *", "America/New_York", utc(2026, 3, 7, 12, 0), "2026-03-08 07:00:00"}));

TEST(Cron, BadExpressionsNameTheField) {
  struct Bad {
    const char* expr;
    const char* mentions;
  };
  for (auto b :
       {Bad{"* * * *", "5 fields"}, Bad{"61 * * * *", "minute"}, Bad{"* 24 * * *", "hour"},
        Bad{"* * 0 * *", "day-of-month"}, Bad{"* * * 13 *", "month"},
        Bad{"* * * * 8", "day-of-week"}, Bad{"*/0 * * * *", "step"}, Bad{"5-1 * * * *", "minute"},
        Bad{"@sometimes", "macro"}, Bad{"a * * * *", "minute"}, Bad{"1,,2 * * * *", "empty"}}) {
    auto e = CronExpression::parse(b.expr);
    ASSERT_FALSE(e.ok()) << b.expr;
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(e.error().message().find(b.mentions), std::string::npos)
        << b.expr << ": " << e.error().message();
  }
}

TEST(Cron, NamesAreCaseInsensitive) {
  auto e = CronExpression::parse("0 0 * jan,Feb mon");
  ASSERT_TRUE(e.ok()) << e.error().message();
  auto n = e->next(utc(2026, 11, 28, 0, 0));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(show(**n), "2027-01-04 00:00:00");
}

TEST(Cron, UnknownZoneIsAnError) {
  auto e = CronExpression::parse("* * * * *").value();
  auto n = e.next(utc(2026, 1, 1, 0, 0), "Mars/Olympus");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message().find("Mars/Olympus"), std::string::npos);
}

}  // namespace
}  // namespace errand
