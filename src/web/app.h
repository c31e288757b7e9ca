// What the dashboard's request handlers share: the Admin, the options, the
// sessions, and the view model of jobs, processes and queues (one place that
// decides what a row shows, used by the pages and the JSON API alike).
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "api/display.h"
#include "errand/admin.h"
#include "errand/job.h"
#include "web/web_server.h"

namespace errand {
struct BatchStatus;  // errand/batch.h
}

namespace errand::web {

// ---- security (security.cc) ------------------------------------------------

/// True for 127.x.y.z, ::1 and localhost.
bool is_loopback_bind(std::string_view bind);
/// `n` random bytes as lowercase hex, from the kernel's CSPRNG.
std::string random_hex(std::size_t n);
/// Compares in time independent of where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);
std::optional<std::string> base64_decode(std::string_view in);

struct Session {
  std::string id;
  std::string csrf;
  bool authed = false;  ///< logged in through the token form
  double last_seen = 0;
};

/// Server-side sessions, keyed by a random id kept in an HttpOnly cookie.
/// Thread-safe.
class Sessions {
 public:
  /// The request's session, or a new one (Set-Cookie added to `res`).
  Session get_or_create(const httplib::Request& req, httplib::Response& res);
  /// The request's session if its cookie names a live one.
  std::optional<Session> find(const httplib::Request& req);
  /// Logs in: replaces the request's session with a new, authenticated one
  /// (a new id, so that a session id planted before login is worth nothing).
  Session login(const httplib::Request& req, httplib::Response& res);
  /// Forgets the request's session.
  void logout(const httplib::Request& req);

  /// Sessions that are not logged in (any visitor gets one, for the CSRF
  /// token of the login form) are a bounded pool of their own: when it is
  /// full its idlest half is forgotten, and logged-in sessions never are.
  static constexpr std::size_t kMaxAnonymous = 10'000;
  /// Logged-in sessions (created only by a successful, throttled login).
  static constexpr std::size_t kMaxAuthed = 1'000;

 private:
  /// Forgets the idlest half of the sessions whose `authed` is `authed`. Holds mu_.
  void evict_locked(bool authed);
  std::mutex mu_;
  std::map<std::string, Session, std::less<>> by_id_;  // guarded by mu_
  std::size_t authed_count_ = 0;                       // guarded by mu_
};

inline constexpr const char* kSessionCookie = "errand_session";

/// Failed credentials per client address: past kMaxFailures within
/// kWindowSeconds the client is refused (429) until the window has passed,
/// without its credentials being checked. Thread-safe.
class FailureThrottle {
 public:
  static constexpr int kMaxFailures = 10;
  static constexpr double kWindowSeconds = 60;
  /// Seconds the client must still wait (0: it may try).
  double blocked_for(const std::string& client, double now);
  void failed(const std::string& client, double now);

 private:
  struct Entry {
    double window_start = 0;
    int failures = 0;
  };
  std::mutex mu_;
  std::map<std::string, Entry> by_client_;  // guarded by mu_
};

// ---- the app ---------------------------------------------------------------

struct App {
  std::shared_ptr<Admin> admin;
  WebOptions options;
  Registry* registry = nullptr;
  Sessions sessions;
  FailureThrottle throttle;

  double now() const;
  /// True if a request carries a valid Bearer token (exempt from CSRF: a
  /// browser never adds that header by itself).
  bool bearer_ok(const httplib::Request& req) const;
  /// True if the request may see the dashboard.
  bool authorized(const httplib::Request& req);
  bool auth_required() const { return !options.token.empty() || !options.basic.empty(); }
  /// True if the request carries an Authorization header that is wrong.
  bool bad_credentials(const httplib::Request& req) const;
  /// True if `host` (a Host header, or the host of an Origin) names this
  /// dashboard: a loopback name, the bound address or one of options.hosts.
  /// Any host is accepted only on a non-loopback bind without options.hosts.
  bool host_allowed(std::string_view host) const;
  /// Whether the store can pause queues. The seam has no capability query,
  /// and probing would write, so: assumed until a pause answers unsupported.
  bool pause_supported() const { return pause_supported_.load() != 0; }
  /// Records what a pause/resume answered.
  void note_pause_result(const Status& st) {
    if (!st && st.code() == Errc::unsupported) pause_supported_.store(0);
  }

 private:
  std::atomic<int> pause_supported_{-1};  // -1 unknown, 0 no, 1 yes
};

// ---- view model (model.cc) ------------------------------------------------

/// A cron entry's most recent tick at or before `now` (0 if none in the last
/// 32 days) and its next tick after `now` (0 if never).
struct CronTimes {
  double last = 0;
  double next = 0;
};
CronTimes cron_times(const CronEntry& e, double now);

/// Sets by their URL name: "scheduled", "retry", "dead" (also "retries").
std::optional<SetKind> parse_set(std::string_view name);
std::string_view set_url_name(SetKind kind);  ///< "scheduled", "retry", "dead"
std::string_view set_title(SetKind kind);     ///< "Scheduled", "Retries", "Dead"
std::string_view set_page(SetKind kind);      ///< "/scheduled", "/retries", "/dead"

/// "1700000000.123456-<jid>": how an entry is addressed in URLs and forms.
std::string entry_key(double score, std::string_view jid);
bool parse_entry_key(std::string_view key, double& score, std::string& jid);

inline constexpr const char* kRedacted = "[REDACTED]";

/// One job of a set or a queue, as every list shows it.
struct JobRow {
  std::string key;  ///< entry_key (sets only)
  double score = 0;
  std::string jid;
  std::string job_class;  ///< display class (wrapped / display_class / class)
  std::string queue;
  std::string args;  ///< compact JSON of the args, or "[REDACTED]"
  bool redacted = false;
  bool valid = true;      ///< false: the payload is not a JSON object
  bool too_deep = false;  ///< the payload nests deeper than kMaxAdminDepth (args not shown)
  std::string error_class;
  std::string error_message;
  std::optional<int> retry_count;
  std::optional<double> enqueued_at, created_at, failed_at, retried_at;
  Json doc;  ///< the parsed payload (args redacted when `redacted`)
};

/// True if the payload says "redact": true or its class is registered with redact_args.
bool is_redacted(const Json& doc, const Registry& registry);
JobRow make_row(const std::string& payload, const Registry& registry);
JobRow make_row(const SetEntry& entry, const Registry& registry);
Json row_json(const JobRow& row, SetKind kind, bool full);
struct RowPage {
  std::vector<JobRow> rows;
  std::size_t total = 0;   ///< entries in the set, or matches of the search
  bool truncated = false;  ///< the search stopped after kMaxScan entries
};
inline constexpr std::size_t kMaxScan = 50'000;

/// A page of a set, filtered (case-insensitive substring of class, jid,
/// queue, error and args — never of redacted args) when `q` is non-empty.
Result<RowPage> list_set(App& app, SetKind kind, std::size_t offset, std::size_t limit,
                         std::string_view q);

/// The entry addressed by `key` (falls back to a search by jid when its score moved).
Result<SetEntry> find_entry(App& app, SetKind kind, std::string_view key);

/// Outcome of an action on many entries.
struct ActionOutcome {
  std::size_t done = 0;
  std::size_t failed = 0;
  std::string error;  ///< the first error's message
  Errc code = Errc::internal;
};
/// "retry", "delete", "kill" on `keys`; "retry_all", "delete_all", "kill_all" on the set.
Result<ActionOutcome> set_action(App& app, SetKind kind, std::string_view action,
                                 const std::vector<std::string>& keys);

/// Admin::queues(), each marked paused when the store lists it as paused.
Result<std::vector<QueueInfo>> list_queues(App& app);

/// "12s", "3m 4s", "2h 5m", "3d 4h".
std::string format_duration(double seconds);
/// "12s ago" / "in 3m" relative to `now`.
std::string relative_time(double epoch, double now);
/// "2024-05-01 12:00:00 UTC".
std::string utc_time(double epoch);
/// "2024-05-01"
std::string utc_date(double epoch);
/// "12,345".
std::string format_count(std::int64_t n);
/// Case-insensitive substring test (ASCII).
bool contains_icase(std::string_view hay, std::string_view needle);

/// The largest ?offset= a list accepts (larger ones are clamped to it).
inline constexpr std::size_t kMaxOffset = 1'000'000'000;

using Names = std::vector<std::string>;
/// The captures of `strict` matched against the request's raw path (as sent,
/// before httplib decoded it), each percent-decoded exactly once; nullopt if
/// the raw path does not match. Names read from the decoded path would be
/// decoded twice ("%2564efault" → "%64efault" → "default"), and a name with
/// an encoded '/' would split in two.
std::optional<Names> raw_captures(const httplib::Request& req, const std::regex& strict);

/// Query parameter as size_t, clamped to [lo, hi]; `fallback` when absent/bad.
std::size_t param_size(const httplib::Request& req, const char* name, std::size_t fallback,
                       std::size_t lo, std::size_t hi);

// ---- routes ------------------------------------------------------------------

void add_page_routes(httplib::Server& server, App& app);
/// GET /status and /status/JID: a job's status, result and a cancel button (pages_status.cc).
void add_status_page_routes(httplib::Server& server, App& app);
/// GET /batches and /batches/BID: batches and workflows (pages_batches.cc).
void add_batch_page_routes(httplib::Server& server, App& app);
/// A batch's status as the JSON API shows it (pages_batches.cc).
Json batch_json(const BatchStatus& s);
void add_api_routes(httplib::Server& server, App& app);
/// The Prometheus exposition (metrics.cc).
std::string render_metrics(App& app);

/// Checks a state-changing request: the session's CSRF token in the
/// X-CSRF-Token header or the `_csrf` form field (or a valid Bearer token).
bool csrf_ok(App& app, const httplib::Request& req);

/// The token login form (pages.cc).
void render_login(App& app, const httplib::Request& req, httplib::Response& res, bool failed);

}  // namespace errand::web
