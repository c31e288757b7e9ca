// The view model: what a row of a list shows, searching and paging sets, and
// the operator actions on set entries. Pages and the JSON API both use it,
// so the browser and a script always see the same thing.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

#include "errand/payload_limits.h"
#include "web/app.h"

namespace errand::web {

std::optional<SetKind> parse_set(std::string_view name) {
  if (name == "scheduled") return SetKind::scheduled;
  if (name == "retry" || name == "retries") return SetKind::retry;
  if (name == "dead" || name == "morgue") return SetKind::dead;
  return std::nullopt;
}

std::string_view set_url_name(SetKind kind) {
  switch (kind) {
    case SetKind::scheduled:
      return "scheduled";
    case SetKind::retry:
      return "retry";
    case SetKind::dead:
      return "dead";
  }
  return "dead";
}

std::string_view set_title(SetKind kind) {
  switch (kind) {
    case SetKind::scheduled:
      return "Scheduled";
    case SetKind::retry:
      return "Retries";
    case SetKind::dead:
      return "Dead";
  }
  return "Dead";
}

std::string_view set_page(SetKind kind) {
  switch (kind) {
    case SetKind::scheduled:
      return "/scheduled";
    case SetKind::retry:
      return "/retries";
    case SetKind::dead:
      return "/dead";
  }
  return "/dead";
}

std::string entry_key(double score, std::string_view jid) {
  // The shortest text that reads back as the same double, so the key finds
  // the exact entry again.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, score, std::chars_format::fixed);
  std::string out(buf, r.ec == std::errc() ? r.ptr : buf);
  out += '-';
  out += jid;
  return out;
}

bool parse_entry_key(std::string_view key, double& score, std::string& jid) {
  auto dash = key.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= key.size()) return false;
  const char* first = key.data();
  const char* last = key.data() + dash;
  auto r = std::from_chars(first, last, score, std::chars_format::fixed);
  if (r.ec != std::errc() || r.ptr != last || !std::isfinite(score)) return false;
  jid = std::string(key.substr(dash + 1));
  return true;
}

bool is_redacted(const Json& doc, const Registry& registry) {
  if (!doc.is_object()) return false;
  if (auto r = doc.find("redact"); r != doc.end() && r->is_boolean() && r->get<bool>()) return true;
  for (const char* field : {"class", "wrapped"}) {
    auto c = doc.find(field);
    if (c == doc.end() || !c->is_string()) continue;
    if (auto d = registry.find(c->get<std::string>()); d && d->redact_args) return true;
  }
  return false;
}

namespace {

std::string string_field(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

JobRow make_row(const std::string& payload, const Registry& registry) {
  JobRow row;
  bool cut = false;
  row.doc = parse_for_display(payload, &cut);
  if (row.doc.is_discarded() || !row.doc.is_object()) {
    row.valid = false;
    row.job_class = "(unreadable payload)";
    // Never echo an unreadable payload into lists: it may hold secrets that
    // a redact flag we cannot read was meant to hide.
    row.args = "";
    row.doc = Json();
    return row;
  }
  const Json& d = row.doc;
  row.jid = string_field(d, "jid");
  row.job_class = payload::display_class(d);
  row.queue = string_field(d, "queue");
  row.redacted = is_redacted(d, registry);
  if (row.redacted) {
    row.args = kRedacted;
    if (row.doc.contains("args")) row.doc["args"] = kRedacted;
    // ActiveJob keeps the real arguments inside args[0].arguments: covered
    // by replacing args as a whole.
  } else if (cut) {
    row.args = "(nested deeper than " + std::to_string(kMaxAdminDepth) + " levels: not shown)";
    row.too_deep = true;
    if (row.doc.contains("args")) row.doc["args"] = row.args;
  } else if (auto a = d.find("args"); a != d.end()) {
    row.args = payload::dump(*a);
  }
  row.error_class = string_field(d, "error_class");
  row.error_message = string_field(d, "error_message");
  if (auto rc = d.find("retry_count"); rc != d.end() && rc->is_number_integer())
    row.retry_count = rc->get<int>();
  row.enqueued_at = payload::timestamp(d, "enqueued_at");
  row.created_at = payload::timestamp(d, "created_at");
  row.failed_at = payload::timestamp(d, "failed_at");
  row.retried_at = payload::timestamp(d, "retried_at");
  return row;
}

JobRow make_row(const SetEntry& entry, const Registry& registry) {
  JobRow row = make_row(entry.payload, registry);
  row.score = entry.score;
  if (row.jid.empty()) row.jid = entry.jid;
  row.key = entry_key(entry.score, entry.jid);
  return row;
}

Json row_json(const JobRow& row, SetKind kind, bool full) {
  auto opt = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  Json j = {
      {"key", row.key},
      {"jid", row.jid},
      {"class", row.job_class},
      {"queue", row.queue},
      {"redacted", row.redacted},
      {"valid", row.valid},
      {"error_class", row.error_class.empty() ? Json(nullptr) : Json(row.error_class)},
      {"error_message", row.error_message.empty() ? Json(nullptr) : Json(row.error_message)},
      {"retry_count", row.retry_count ? Json(*row.retry_count) : Json(nullptr)},
      {"enqueued_at", opt(row.enqueued_at)},
      {"created_at", opt(row.created_at)},
      {"failed_at", opt(row.failed_at)},
      {"retried_at", opt(row.retried_at)},
  };
  j["score"] = row.score;
  if (kind == SetKind::dead)
    j["died_at"] = row.score;
  else
    j["next_run_at"] = row.score;
  if (row.redacted)
    j["args"] = kRedacted;
  else if (row.valid && row.doc.contains("args"))
    j["args"] = row.doc["args"];
  else
    j["args"] = nullptr;
  if (full) {
    j["payload"] = row.valid ? row.doc : Json(nullptr);
    j["error_backtrace"] = row.valid && row.doc.contains("error_backtrace")
                               ? row.doc["error_backtrace"]
                               : Json(nullptr);
  }
  return j;
}

bool contains_icase(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

Result<RowPage> list_set(App& app, SetKind kind, std::size_t offset, std::size_t limit,
                         std::string_view q) {
  RowPage page;
  if (q.empty()) {
    auto size = app.admin->size(kind);
    if (!size) return size.error();
    page.total = *size;
    auto entries = app.admin->list(kind, offset, limit);
    if (!entries) return entries.error();
    for (const auto& e : *entries) page.rows.push_back(make_row(e, *app.registry));
    return page;
  }
  constexpr std::size_t kChunk = 500;
  std::size_t scanned = 0;
  for (std::size_t from = 0;; from += kChunk) {
    auto entries = app.admin->list(kind, from, kChunk);
    if (!entries) return entries.error();
    for (const auto& e : *entries) {
      JobRow row = make_row(e, *app.registry);
      const bool hit = contains_icase(row.job_class, q) || contains_icase(row.jid, q) ||
                       contains_icase(row.queue, q) || contains_icase(row.error_class, q) ||
                       contains_icase(row.error_message, q) ||
                       (!row.redacted && contains_icase(row.args, q));
      if (!hit) continue;
      if (page.total >= offset && page.rows.size() < limit) page.rows.push_back(std::move(row));
      ++page.total;
    }
    scanned += entries->size();
    if (entries->size() < kChunk) break;
    if (scanned >= kMaxScan) {
      page.truncated = true;
      break;
    }
  }
  return page;
}

Result<SetEntry> find_entry(App& app, SetKind kind, std::string_view key) {
  double score = 0;
  std::string jid;
  if (!parse_entry_key(key, score, jid))
    return fail(Errc::invalid_argument, "bad job key '" + std::string(key) + "'");
  return app.admin->find(kind, score, jid);
}

Result<ActionOutcome> set_action(App& app, SetKind kind, std::string_view action,
                                 const std::vector<std::string>& keys) {
  ActionOutcome out;
  auto note = [&](const Status& st) {
    if (st) {
      ++out.done;
    } else {
      if (out.failed++ == 0) {
        out.error = st.message();
        out.code = st.code();
      }
    }
  };
  if (action == "retry_all") {
    auto n = app.admin->retry_all(kind);
    if (!n) return n.error();
    out.done = *n;
    return out;
  }
  if (action == "delete_all") {
    auto n = app.admin->size(kind);
    if (auto st = app.admin->clear(kind); !st) return st.error();
    out.done = n.value_or(0);
    return out;
  }
  if (action == "kill_all") {
    if (kind == SetKind::dead) return fail(Errc::invalid_argument, "dead jobs are dead already");
    for (;;) {
      auto page = app.admin->list(kind, 0, 500);
      if (!page) return page.error();
      if (page->empty()) break;
      const std::size_t before = out.done;
      for (const auto& e : *page) note(app.admin->kill(kind, e));
      if (out.done == before) break;
    }
    return out;
  }
  if (action != "retry" && action != "delete" && action != "kill")
    return fail(Errc::invalid_argument, "unknown action '" + std::string(action) + "'");
  if (action == "kill" && kind == SetKind::dead)
    return fail(Errc::invalid_argument, "dead jobs are dead already");
  if (keys.empty()) return fail(Errc::invalid_argument, "no job selected");
  for (const auto& key : keys) {
    auto entry = find_entry(app, kind, key);
    if (!entry) {
      note(entry.status());
      continue;
    }
    if (action == "retry")
      note(app.admin->retry_now(kind, *entry));
    else if (action == "delete")
      note(app.admin->remove(kind, *entry));
    else
      note(app.admin->kill(kind, *entry));
  }
  return out;
}

Result<std::vector<QueueInfo>> list_queues(App& app) { return app.admin->queues(); }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  auto s = static_cast<long long>(seconds);
  if (seconds < 10 && seconds > 0 && s < 10) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
  }
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
  return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
}

std::string relative_time(double epoch, double now) {
  const double d = epoch - now;
  if (std::fabs(d) < 1) return "just now";
  return d > 0 ? "in " + format_duration(d) : format_duration(-d) + " ago";
}

namespace {

std::tm utc_tm(double epoch) {
  std::time_t t = static_cast<std::time_t>(std::floor(std::isfinite(epoch) ? epoch : 0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string utc_time(double epoch) {
  std::tm tm = utc_tm(epoch);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string utc_date(double epoch) {
  std::tm tm = utc_tm(epoch);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string format_count(std::int64_t n) {
  const bool neg = n < 0;
  std::string digits = std::to_string(neg ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return neg ? "-" + out : out;
}

std::size_t param_size(const httplib::Request& req, const char* name, std::size_t fallback,
                       std::size_t lo, std::size_t hi) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  std::size_t n = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return fallback;
  return std::clamp(n, lo, hi);
}

std::optional<Names> raw_captures(const httplib::Request& req, const std::regex& strict) {
  const std::string& target = req.target.empty() ? req.path : req.target;
  const std::string raw = target.substr(0, target.find('?'));
  std::smatch m;
  if (!std::regex_match(raw, m, strict)) return std::nullopt;
  Names names;
  for (std::size_t i = 1; i < m.size(); ++i)
    names.push_back(httplib::detail::decode_url(m[i].str(), false));
  return names;
}

CronTimes cron_times(const CronEntry& e, double now) {
  CronTimes t;
  auto expr = CronExpression::parse(e.expression);
  if (!expr) return t;
  const SystemTime at = from_epoch(now);
  if (auto n = expr->next(at, e.time_zone); n && *n) t.next = to_epoch(**n);
  // The last tick: the smallest look-back window (a second, a minute, an
  // hour, a day, a month) that holds a tick, then walked forward to `now`.
  using std::chrono::seconds;
  for (auto window :
       {seconds(2), seconds(61), seconds(3601), seconds(86401), seconds(32 * 86400)}) {
    SystemTime probe = at - window;
    for (int i = 0; i < 5000; ++i) {
      auto n = expr->next(probe, e.time_zone);
      if (!n || !*n || **n > at) break;
      t.last = to_epoch(**n);
      probe = **n;
    }
    if (t.last > 0) break;
  }
  return t;
}

}  // namespace errand::web
