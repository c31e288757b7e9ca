#include "errand/cron.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "errand/job.h"

namespace errand {

namespace {

constexpr std::string_view kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                        "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::string_view kDays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::vector<std::string_view> fields_of(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

struct FieldSpec {
  const char* name;
  int lo;
  int hi;
  const std::string_view* names;  // optional symbolic names, index 0 = value names_base
  int names_count;
  int names_base;
};

/// Parses one value (number or name) of a field.
std::optional<int> value_of(std::string_view v, const FieldSpec& f) {
  if (v.empty()) return std::nullopt;
  if (f.names) {
    std::string up(v);
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (int i = 0; i < f.names_count; ++i)
      if (up == f.names[i]) return f.names_base + i;
  }
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
  return n;
}

/// Sets the bits of `out` for one field; `restricted` tells whether it was not '*'.
template <std::size_t N>
Status parse_field(std::string_view text, const FieldSpec& f, std::bitset<N>& out,
                   bool& restricted) {
  auto bad = [&](const std::string& why) {
    return fail(Errc::invalid_argument,
                std::string("cron: ") + f.name + " field '" + std::string(text) + "': " + why);
  };
  restricted = !(text == "*" || text == "?");
  for (auto part : split(text, ',')) {
    if (part.empty()) return bad("empty list item");
    int step = 1;
    if (auto slash = part.find('/'); slash != std::string_view::npos) {
      auto s = value_of(part.substr(slash + 1), FieldSpec{f.name, 1, 1000, nullptr, 0, 0});
      if (!s || *s < 1) return bad("step must be a positive number");
      step = *s;
      part = part.substr(0, slash);
    }
    int lo = f.lo, hi = f.hi;
    if (part == "*" || part == "?") {
      // the whole range
    } else if (auto dash = part.find('-'); dash != std::string_view::npos) {
      auto a = value_of(part.substr(0, dash), f);
      auto b = value_of(part.substr(dash + 1), f);
      if (!a || !b) return bad("not a number or name");
      lo = *a;
      hi = *b;
    } else {
      auto a = value_of(part, f);
      if (!a) return bad("not a number or name");
      lo = *a;
      // "a/n" means from a to the end of the range, every n.
      hi = (step > 1 || text.find('/') != std::string_view::npos) ? f.hi : *a;
    }
    if (lo < f.lo || hi > f.hi || lo > hi)
      return bad("out of range " + std::to_string(f.lo) + "-" + std::to_string(f.hi));
    for (int v = lo; v <= hi; v += step) out.set(static_cast<std::size_t>(v));
  }
  return {};
}

}  // namespace

Result<CronExpression> CronExpression::parse(std::string_view input) {
  CronExpression c;
  c.text_ = std::string(input);
  std::string expanded(input);
  static const std::pair<std::string_view, std::string_view> macros[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  auto trimmed = fields_of(input);
  if (trimmed.size() == 1 && trimmed[0].starts_with('@')) {
    bool found = false;
    for (auto [m, e] : macros)
      if (trimmed[0] == m) {
        expanded = e;
        found = true;
      }
    if (!found)
      return fail(Errc::invalid_argument, "cron: unknown macro '" + std::string(trimmed[0]) + "'");
  }
  auto f = fields_of(expanded);
  if (f.size() != 5 && f.size() != 6)
    return fail(Errc::invalid_argument, "cron: '" + std::string(input) +
                                            "' must have 5 fields (minute hour day month "
                                            "weekday) or 6 (with seconds first)");
  std::size_t i = 0;
  bool unused = false;
  if (f.size() == 6) {
    if (auto st = parse_field(f[i++], {"second", 0, 59, nullptr, 0, 0}, c.seconds_, unused); !st)
      return st.error();
  } else {
    c.seconds_.set(0);
  }
  if (auto st = parse_field(f[i++], {"minute", 0, 59, nullptr, 0, 0}, c.minutes_, unused); !st)
    return st.error();
  if (auto st = parse_field(f[i++], {"hour", 0, 23, nullptr, 0, 0}, c.hours_, unused); !st)
    return st.error();
  if (auto st =
          parse_field(f[i++], {"day-of-month", 1, 31, nullptr, 0, 0}, c.days_, c.days_restricted_);
      !st)
    return st.error();
  if (auto st = parse_field(f[i++], {"month", 1, 12, kMonths, 12, 1}, c.months_, unused); !st)
    return st.error();
  std::bitset<8> dow;
  if (auto st =
          parse_field(f[i++], {"day-of-week", 0, 7, kDays, 7, 0}, dow, c.weekdays_restricted_);
      !st)
    return st.error();
  for (std::size_t d = 0; d < 7; ++d) c.weekdays_[d] = dow[d];
  if (dow[7]) c.weekdays_.set(0);  // 7 is Sunday too
  return c;
}

Result<std::optional<SystemTime>> CronExpression::next(SystemTime after,
                                                       std::string_view time_zone) const {
  using namespace std::chrono;
  const date::time_zone* tz = nullptr;
  if (!time_zone.empty() && time_zone != "UTC" && time_zone != "Etc/UTC") {
    try {
      tz = date::locate_zone(std::string(time_zone));
    } catch (const std::exception& e) {
      return fail(Errc::invalid_argument,
                  "cron: unknown time zone '" + std::string(time_zone) + "': " + e.what());
    }
  }
  auto to_local = [&](SystemTime t) -> date::local_seconds {
    auto s = floor<seconds>(t);
    if (!tz) return date::local_seconds(s.time_since_epoch());
    return floor<seconds>(tz->to_local(s));
  };
  // Skipped local times map to the instant of the jump; repeated ones to
  // their first occurrence.
  auto to_sys = [&](date::local_seconds l) -> SystemTime {
    if (!tz) return SystemTime(duration_cast<SystemTime::duration>(l.time_since_epoch()));
    auto info = tz->get_info(l);
    if (info.result == date::local_info::nonexistent)
      return SystemTime(duration_cast<SystemTime::duration>(info.first.end.time_since_epoch()));
    return tz->to_sys(l, date::choose::earliest);
  };

  const date::local_seconds start = to_local(after);
  date::local_days day = floor<date::days>(start);
  const date::local_days limit = day + date::days(366 * 5);
  for (; day <= limit; day += date::days(1)) {
    date::year_month_day ymd(day);
    if (!months_[static_cast<unsigned>(ymd.month())]) continue;
    const bool dom_ok = days_[static_cast<unsigned>(ymd.day())];
    const bool dow_ok = weekdays_[date::weekday(day).c_encoding()];
    bool day_ok;
    if (days_restricted_ && weekdays_restricted_)
      day_ok = dom_ok || dow_ok;
    else
      day_ok = dom_ok && dow_ok;
    if (!day_ok) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_[static_cast<std::size_t>(h)]) continue;
      auto hour_start = day + hours(h);
      if (hour_start + hours(1) <= start) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_[static_cast<std::size_t>(m)]) continue;
        auto minute_start = hour_start + minutes(m);
        if (minute_start + minutes(1) <= start) continue;
        for (int s = 0; s < 60; ++s) {
          if (!seconds_[static_cast<std::size_t>(s)]) continue;
          auto local = minute_start + seconds(s);
          if (local < start) continue;
          SystemTime t = to_sys(local);
          if (t > after) return std::optional<SystemTime>(t);
        }
      }
    }
  }
  return std::optional<SystemTime>();
}

}  // namespace errand
