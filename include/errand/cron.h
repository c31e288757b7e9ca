// Cron expressions and periodic jobs.
//
// Syntax (Vixie cron, plus an optional leading seconds field):
//   [second] minute hour day-of-month month day-of-week
//   *  a  a-b  */n  a-b/n  a/n  lists with commas; month names JAN-DEC,
//   day names SUN-SAT (0 and 7 are Sunday); @yearly @annually @monthly
//   @weekly @daily @midnight @hourly.
// When both day-of-month and day-of-week are restricted, a day matching
// either matches (as cron does).
//
// Time zones are IANA names ("Europe/Paris"), resolved with the tz database.
// Daylight-saving changes:
//   * a local time skipped by a spring-forward jump fires once, at the
//     instant of the jump (so a 02:30 daily job still runs that day);
//   * a local time that occurs twice in a fall-back hour fires once, at its
//     first occurrence.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "errand/clock.h"
#include "errand/payload.h"
#include "errand/status.h"

namespace errand {

class CronExpression {
 public:
  /// Parses `text`; invalid_argument naming the bad field on error.
  static Result<CronExpression> parse(std::string_view text);

  /// The first tick strictly after `after` in `time_zone` ("" or "UTC" for
  /// UTC). nullopt if there is none within the next 5 years (e.g. Feb 30),
  /// or an invalid_argument error for an unknown zone.
  Result<std::optional<SystemTime>> next(SystemTime after, std::string_view time_zone = "") const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> seconds_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

/// What happens to ticks that came due while no process was running.
enum class MissedTicks {
  skip,      ///< forget them; run at the next tick (the default)
  run_once,  ///< enqueue one job for all the missed ticks together
};

/// A periodic job: `job_class` with `args` enqueued on `queue` at every tick.
struct CronEntry {
  std::string name;        ///< unique; the key of "fired once" across processes
  std::string expression;  ///< as CronExpression::parse takes it
  std::string job_class;
  Json args = Json::array();
  std::string queue;      ///< empty: the class's queue, else "default"
  std::string time_zone;  ///< IANA name; empty: UTC
  MissedTicks missed = MissedTicks::skip;
};

class Registry;
/// The queue `entry` enqueues on: its own, else its class's (when `registry`
/// knows the class), else "default".
std::string cron_queue(const CronEntry& entry, const Registry* registry);

}  // namespace errand
