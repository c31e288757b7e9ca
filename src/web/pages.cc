// The dashboard's pages, rendered on the server. Each list is paginated
// (?offset=&limit=) and the long ones are searchable (?q=). Forms post to the
// JSON API's action routes with the session's CSRF token; the API answers a
// form with a redirect back here.
#include <algorithm>

#include "errand/errand.h"
#include "web/html.h"
#include "web/page_parts.h"

namespace errand::web {

void send_page(PageCtx& ctx, std::string_view title, std::string_view active,
               const std::string& body) {
  ctx.res.set_content(layout(ctx, title, active, body), "text/html; charset=utf-8");
}

std::string error_box(const Error& e) {
  return "<div class=\"flash flash-error\">The store answered with an error: " +
         esc(std::string(to_string(e.code()))) + ": " + esc(e.message()) + "</div>";
}

std::string current_url(const httplib::Request& req) {
  std::string url = req.path;
  std::string query;
  for (const auto& [k, v] : req.params) {
    if (k == "done" || k == "n" || k == "failed" || k == "err") continue;
    query += (query.empty() ? "?" : "&") + url_encode(k) + "=" + url_encode(v);
  }
  return url + query;
}

std::string stat_card(const char* label, const char* stat, std::int64_t value, const char* href,
                      const char* tone = "") {
  return std::string("<a class=\"card ") + tone + "\" href=\"" + href +
         "\"><span class=\"card-label\">" + label +
         "</span><span class=\"card-value\" data-stat=\"" + stat + "\">" + format_count(value) +
         "</span></a>";
}

std::string search_box(std::string_view action, std::string_view q, std::string_view hint) {
  return "<form class=\"search\" method=\"get\" action=\"" + esc(action) +
         "\" role=\"search\"><input type=\"search\" name=\"q\" value=\"" + esc(q) +
         "\" placeholder=\"" + esc(hint) +
         "\" aria-label=\"search\"><button class=\"btn\">Search"
         "</button>" +
         (q.empty() ? std::string()
                    : "<a class=\"btn btn-ghost\" href=\"" + esc(action) + "\">Clear</a>") +
         "</form>";
}

std::string queue_badge(std::string_view q) {
  return "<a class=\"tag\" href=\"/queues/" + esc(url_encode(q)) + "\">" + esc(q) + "</a>";
}

namespace {

// ---- overview ----------------------------------------------------------------

void overview(PageCtx& ctx) {
  std::string b;
  auto stats = ctx.app.admin->stats();
  if (!stats) {
    send_page(ctx, "Dashboard", "overview", error_box(stats.error()));
    return;
  }
  const Stats& s = *stats;
  b += "<div class=\"page-head\"><h1>Dashboard</h1><span class=\"muted\">All processes "
       "sharing this store</span></div>";
  b += "<section class=\"cards\">";
  b += stat_card("Processed", "processed", s.processed, "/busy");
  b += stat_card("Failed", "failed", s.failed, "/retries", "tone-bad");
  b += stat_card("Busy", "busy", static_cast<std::int64_t>(s.busy), "/busy");
  b += stat_card("Enqueued", "enqueued", static_cast<std::int64_t>(s.enqueued), "/queues");
  b += stat_card("Retries", "retries", static_cast<std::int64_t>(s.retries), "/retries",
                 "tone-warn");
  b += stat_card("Scheduled", "scheduled", static_cast<std::int64_t>(s.scheduled), "/scheduled");
  b += stat_card("Dead", "dead", static_cast<std::int64_t>(s.dead), "/dead", "tone-bad");
  b += stat_card("Processes", "processes", static_cast<std::int64_t>(s.processes), "/busy");
  b += "</section>";

  b += "<div class=\"grid-2\">";
  b += "<section class=\"panel\"><div class=\"panel-head\"><h2>Real-time</h2><span "
       "class=\"muted\">jobs per second, last 5 minutes</span></div>"
       "<div class=\"chart\" id=\"live-chart\" data-poll=\"3000\"></div>"
       "<div class=\"legend\"><span class=\"key key-ok\"></span>processed<span "
       "class=\"key key-bad\"></span>failed</div></section>";
  b += "<section class=\"panel\"><div class=\"panel-head\"><h2>History</h2><span "
       "class=\"muted\">per day (UTC), last 30 days</span></div>"
       "<div class=\"chart\" id=\"history-chart\" data-src=\"/api/history?days=30\"></div>"
       "<div class=\"legend\"><span class=\"key key-ok\"></span>processed<span "
       "class=\"key key-bad\"></span>failed</div></section>";
  b += "</div>";

  auto queues = list_queues(ctx.app);
  b += "<section class=\"panel\"><div class=\"panel-head\"><h2>Queues</h2><a href=\"/queues\">"
       "All queues \u203a</a></div>";
  if (!queues) {
    b += error_box(queues.error());
  } else if (queues->empty()) {
    b += "<p class=\"empty\">No queues yet: enqueue a job and it appears here.</p>";
  } else {
    b += "<table class=\"table\"><thead><tr><th>Queue</th><th class=\"num\">Size</th><th "
         "class=\"num\">Latency</th></tr></thead><tbody>";
    std::size_t shown = 0;
    for (const auto& q : *queues) {
      if (++shown > 10) break;
      b += "<tr><td>" + queue_badge(q.name) +
           (q.paused ? " <span class=\"pill\">paused</span>" : "") + "</td><td class=\"num\">" +
           format_count(static_cast<std::int64_t>(q.size)) + "</td><td class=\"num\">" +
           esc(q.size ? format_duration(q.latency) : "\u2014") + "</td></tr>";
    }
    b += "</tbody></table>";
  }
  b += "</section>";
  send_page(ctx, "Dashboard", "overview", b);
}

// ---- queues ------------------------------------------------------------------

void queues_page(PageCtx& ctx) {
  const std::string q = ctx.req.get_param_value("q");
  const auto offset = param_size(ctx.req, "offset", 0, 0, kMaxOffset);
  const auto limit = param_size(ctx.req, "limit", 50, 1, kMaxLimit);
  std::string b = "<div class=\"page-head\"><h1>Queues</h1>" +
                  search_box("/queues", q, "queue name") + "</div>";
  auto queues = list_queues(ctx.app);
  if (!queues) {
    send_page(ctx, "Queues", "queues", b + error_box(queues.error()));
    return;
  }
  std::vector<QueueInfo> shown;
  for (auto& qi : *queues)
    if (contains_icase(qi.name, q)) shown.push_back(qi);
  const std::string back = current_url(ctx.req);
  const bool pause_ok = ctx.app.pause_supported();
  b += "<section class=\"panel\">";
  if (shown.empty()) {
    b += q.empty() ? "<p class=\"empty\">No queues yet.</p>"
                   : "<p class=\"empty\">No queue matches.</p>";
  } else {
    b += "<table class=\"table\"><thead><tr><th>Queue</th><th class=\"num\">Size</th><th "
         "class=\"num\">Latency</th><th>State</th><th class=\"actions\">Actions</th></tr>"
         "</thead><tbody>";
    for (std::size_t i = offset; i < shown.size() && i < offset + limit; ++i) {
      const auto& qi = shown[i];
      const std::string name = url_encode(qi.name);
      b += "<tr><td><a href=\"/queues/" + esc(name) + "\">" + esc(qi.name) + "</a></td>";
      b += "<td class=\"num\">" + format_count(static_cast<std::int64_t>(qi.size)) + "</td>";
      b += "<td class=\"num\">" + esc(qi.size ? format_duration(qi.latency) : "\u2014") + "</td>";
      b += std::string("<td>") +
           (qi.paused ? "<span class=\"pill pill-warn\">paused</span>"
                      : "<span class=\"pill pill-ok\">active</span>") +
           "</td>";
      b += "<td class=\"actions\">";
      if (pause_ok) {
        const char* verb = qi.paused ? "resume" : "pause";
        b += "<form method=\"post\" action=\"/api/queues/" + esc(name) + "/" + verb +
             "\" class=\"inline\">" + form_fields(ctx, back) + "<button class=\"btn btn-sm\">" +
             (qi.paused ? "Resume" : "Pause") + "</button></form>";
      } else {
        b += "<button class=\"btn btn-sm\" disabled title=\"pausing queues is not supported by "
             "this store\">" +
             std::string(qi.paused ? "Resume" : "Pause") + "</button>";
      }
      b += "<form method=\"post\" action=\"/api/queues/" + esc(name) +
           "/clear\" class=\"inline\">" + form_fields(ctx, back) +
           "<button class=\"btn btn-sm btn-danger\" data-confirm=\"Delete all " +
           esc(std::to_string(qi.size)) + " jobs waiting in " + esc(qi.name) +
           "?\">Clear</button></form>";
      b += "</td></tr>";
    }
    b += "</tbody></table>";
    b += pager("/queues", shown.size(), offset, limit, q);
  }
  b += "</section>";
  send_page(ctx, "Queues", "queues", b);
}

void queue_page(PageCtx& ctx, const std::string& name) {
  const auto offset = param_size(ctx.req, "offset", 0, 0, kMaxOffset);
  const auto limit = param_size(ctx.req, "limit", kDefaultLimit, 1, kMaxLimit);
  std::string b =
      "<div class=\"page-head\"><h1><a href=\"/queues\">Queues</a> / " + esc(name) + "</h1></div>";
  std::size_t total = 0;
  if (auto queues = list_queues(ctx.app))
    for (auto& qi : *queues)
      if (qi.name == name) total = qi.size;
  auto jobs = ctx.app.admin->queue_jobs(name, offset, limit);
  if (!jobs) {
    send_page(ctx, name, "queues", b + error_box(jobs.error()));
    return;
  }
  b += "<section class=\"panel\">";
  if (jobs->empty()) {
    b += "<p class=\"empty\">No job is waiting in this queue.</p>";
  } else {
    b += "<table class=\"table\"><thead><tr><th>Class</th><th>Arguments</th><th>JID</th><th>"
         "Enqueued</th></tr></thead><tbody>";
    const double now = ctx.app.now();
    for (const auto& p : *jobs) {
      JobRow row = make_row(p, *ctx.app.registry);
      b += "<tr><td class=\"cls\">" + esc(row.job_class) + "</td><td><code class=\"args" +
           (row.redacted ? " redacted" : "") + "\">" + esc(truncate(row.args, 200)) +
           "</code></td><td><code>" + esc(row.jid) + "</code></td><td>" +
           time_html(row.enqueued_at.value_or(0), now) + "</td></tr>";
    }
    b += "</tbody></table>";
    b += pager("/queues/" + url_encode(name), total, offset, limit, "");
  }
  b += "</section>";
  send_page(ctx, name, "queues", b);
}

// ---- sets ------------------------------------------------------------------------

/// The set's count and its whole-set actions, each its own form.
std::string set_toolbar(PageCtx& ctx, SetKind kind, const RowPage& rows, bool all) {
  const std::string page = std::string(set_page(kind));
  const std::string set = std::string(set_url_name(kind));
  std::string b;
  b += "<div class=\"toolbar\"><span class=\"muted\">" +
       format_count(static_cast<std::int64_t>(rows.total)) + (all ? " job(s)" : " match(es)") +
       (rows.truncated ? " (search stopped early)" : "") + "</span><div class=\"toolbar-right\">";
  auto all_form = [&](const char* action, const char* label, const char* cls, const char* confirm) {
    return "<form method=\"post\" action=\"/api/sets/" + set + "/" + action +
           "\" class=\"inline\">" + form_fields(ctx, page) + "<button class=\"btn btn-sm " + cls +
           "\" data-confirm=\"" + confirm + "\">" + label + "</button></form>";
  };
  if (rows.total > 0 && all) {
    b += all_form("retry_all", kind == SetKind::scheduled ? "Enqueue all" : "Retry all", "",
                  "Run every job of this set now?");
    if (kind != SetKind::dead)
      b += all_form("kill_all", "Kill all", "btn-danger", "Move every job of this set to Dead?");
    b += all_form("delete_all", "Delete all", "btn-danger", "Delete every job of this set?");
  }
  b += "</div></div>";
  return b;
}

void set_page_render(PageCtx& ctx, SetKind kind) {
  const std::string q = ctx.req.get_param_value("q");
  const auto offset = param_size(ctx.req, "offset", 0, 0, kMaxOffset);
  const auto limit = param_size(ctx.req, "limit", kDefaultLimit, 1, kMaxLimit);
  const std::string page = std::string(set_page(kind));
  const std::string set = std::string(set_url_name(kind));
  const std::string back = current_url(ctx.req);
  const std::string active = page.substr(1);
  const double now = ctx.app.now();

  std::string b = "<div class=\"page-head\"><h1>" + std::string(set_title(kind)) + "</h1>" +
                  search_box(page, q, "class, jid, queue, error or args") + "</div>";
  auto rows = list_set(ctx.app, kind, offset, limit, q);
  if (!rows) {
    send_page(ctx, set_title(kind), active, b + error_box(rows.error()));
    return;
  }
  b += "<section class=\"panel\">";
  b += set_toolbar(ctx, kind, *rows, q.empty());

  if (rows->rows.empty()) {
    b += q.empty() ? "<p class=\"empty\">No " + std::string(set_title(kind)) +
                         " jobs. <span class=\"muted\">That is good news.</span></p>"
                   : "<p class=\"empty\">No job matches.</p>";
  } else {
    // One form for the selection; each button posts to its own action route.
    b += "<form method=\"post\" action=\"/api/sets/" + set + "/retry\" class=\"selection\">" +
         form_fields(ctx, back);
    b += "<div class=\"bulk\"><span class=\"muted\" data-selected-count>0 selected</span>";
    b += "<button class=\"btn btn-sm\" formaction=\"/api/sets/" + set +
         "/retry\" data-needs-selection disabled>" +
         (kind == SetKind::scheduled ? "Enqueue now" : "Retry now") + "</button>";
    if (kind != SetKind::dead)
      b += "<button class=\"btn btn-sm btn-danger\" formaction=\"/api/sets/" + set +
           "/kill\" data-needs-selection disabled data-confirm=\"Move the selected jobs to "
           "Dead?\">Kill</button>";
    b += "<button class=\"btn btn-sm btn-danger\" formaction=\"/api/sets/" + set +
         "/delete\" data-needs-selection disabled data-confirm=\"Delete the selected jobs?\">"
         "Delete</button></div>";
    b += "<table class=\"table selectable\"><thead><tr><th class=\"check\"><input "
         "type=\"checkbox\" data-select-all aria-label=\"select all\"></th><th>" +
         std::string(kind == SetKind::dead ? "Died" : "Next run") +
         "</th><th>Class</th><th>Arguments</th>" +
         (kind == SetKind::scheduled ? "" : "<th>Error</th><th class=\"num\">Retries</th>") +
         "</tr></thead><tbody>";
    for (const auto& row : rows->rows) {
      const std::string href = "/jobs/" + set + "/" + url_encode(row.key);
      b += "<tr><td class=\"check\"><input type=\"checkbox\" name=\"key\" value=\"" + esc(row.key) +
           "\" aria-label=\"select\"></td>";
      b += "<td><a href=\"" + esc(href) + "\">" + time_html(row.score, now) + "</a></td>";
      b += "<td><a class=\"cls\" href=\"" + esc(href) + "\">" + esc(row.job_class) + "</a> " +
           (row.queue.empty() ? "" : queue_badge(row.queue)) + "</td>";
      b += "<td><code class=\"args" + std::string(row.redacted ? " redacted" : "") + "\">" +
           esc(truncate(row.args, 160)) + "</code></td>";
      if (kind != SetKind::scheduled) {
        b += "<td class=\"error\">";
        if (!row.error_class.empty()) b += "<strong>" + esc(row.error_class) + "</strong> ";
        b += "<span>" + esc(truncate(row.error_message, 160)) + "</span></td>";
        b += "<td class=\"num\">" +
             esc(row.retry_count ? std::to_string(*row.retry_count) : std::string("\u2014")) +
             "</td>";
      }
      b += "</tr>";
    }
    b += "</tbody></table></form>";
    b += pager(page, rows->total, offset, limit, q);
  }
  b += "</section>";
  send_page(ctx, set_title(kind), active, b);
}

// ---- job detail ------------------------------------------------------------------

void job_page(PageCtx& ctx, SetKind kind, const std::string& key) {
  const std::string set = std::string(set_url_name(kind));
  const std::string page = std::string(set_page(kind));
  const double now = ctx.app.now();
  std::string b = "<div class=\"page-head\"><h1><a href=\"" + page + "\">" +
                  std::string(set_title(kind)) + "</a> / job</h1></div>";
  auto entry = find_entry(ctx.app, kind, key);
  if (!entry) {
    ctx.res.status = entry.code() == Errc::not_found ? 404 : 400;
    b += "<section class=\"panel\"><p class=\"empty\">This job is no longer in the " +
         esc(std::string(set_title(kind))) +
         " set: it may have run, been retried or been deleted.</p></section>";
    send_page(ctx, "Job", page.substr(1), b);
    return;
  }
  JobRow row = make_row(*entry, *ctx.app.registry);
  const std::string k = url_encode(row.key);
  b += "<section class=\"panel\"><div class=\"panel-head\"><h2 class=\"cls\">" +
       esc(row.job_class) + "</h2><div class=\"toolbar-right\">";
  b += "<form method=\"post\" class=\"inline\" action=\"/api/sets/" + set + "/retry\">" +
       form_fields(ctx, page) + "<input type=\"hidden\" name=\"key\" value=\"" + esc(row.key) +
       "\"><button class=\"btn btn-sm\">" +
       (kind == SetKind::scheduled ? "Enqueue now" : "Retry now") + "</button>";
  if (kind != SetKind::dead)
    b += "<button class=\"btn btn-sm btn-danger\" formaction=\"/api/sets/" + set +
         "/kill\" data-confirm=\"Move this job to Dead?\">Kill</button>";
  b += "<button class=\"btn btn-sm btn-danger\" formaction=\"/api/sets/" + set +
       "/delete\" data-confirm=\"Delete this job?\">Delete</button></form></div></div>";

  auto dt = [&](const char* term, const std::string& html) {
    b += "<dt>" + std::string(term) + "</dt><dd>" + html + "</dd>";
  };
  auto when = [&](const std::optional<double>& t) {
    return t ? time_html(*t, now) + " <span class=\"muted small\">" + esc(utc_time(*t)) + "</span>"
             : std::string("<span class=\"muted\">\u2014</span>");
  };
  b += "<dl class=\"details\">";
  dt("Queue", row.queue.empty() ? "\u2014" : queue_badge(row.queue));
  dt("JID", "<code>" + esc(row.jid) + "</code>");
  dt(kind == SetKind::dead ? "Died" : "Next run", when(row.score));
  dt("Arguments", "<pre class=\"code" + std::string(row.redacted ? " redacted" : "") + "\">" +
                      esc(row.redacted ? kRedacted
                                       : (row.valid && row.doc.contains("args")
                                              ? row.doc["args"].dump(2, ' ', false,
                                                                     Json::error_handler_t::replace)
                                              : std::string())) +
                      "</pre>");
  dt("Created", when(row.created_at));
  dt("Enqueued", when(row.enqueued_at));
  if (kind != SetKind::scheduled) {
    dt("Retry count", row.retry_count ? esc(std::to_string(*row.retry_count)) : "\u2014");
    dt("Failed", when(row.failed_at));
    dt("Retried", when(row.retried_at));
  }
  b += "</dl>";
  if (!row.error_class.empty() || !row.error_message.empty()) {
    b += "<div class=\"error-box\"><div class=\"error-title\"><strong>" + esc(row.error_class) +
         "</strong> " + esc(row.error_message) + "</div>";
    if (row.valid)
      if (auto bt = row.doc.find("error_backtrace"); bt != row.doc.end()) {
        std::string lines;
        if (bt->is_array()) {
          for (const auto& l : *bt)
            lines += (l.is_string() ? l.get<std::string>() : l.dump()) + "\n";
        } else if (bt->is_string()) {
          lines = bt->get<std::string>();
        }
        if (!lines.empty()) b += "<pre class=\"code backtrace\">" + esc(lines) + "</pre>";
      }
    b += "</div>";
  }
  b += "</section>";
  b += "<section class=\"panel\"><div class=\"panel-head\"><h2>Payload</h2><a href=\"/api/jobs/" +
       set + "/" + esc(k) + "\">JSON \u203a</a></div><pre class=\"code\">" +
       esc(row.valid ? row.doc.dump(2, ' ', false, Json::error_handler_t::replace)
                     : std::string("(the stored payload is not a JSON object)")) +
       "</pre></section>";
  send_page(ctx, row.job_class, page.substr(1), b);
}

// ---- cron, login ------------------------------------------------------------------

void cron_page(PageCtx& ctx) {
  const auto& entries = ctx.app.options.cron;
  std::string b = "<div class=\"page-head\"><h1>Cron</h1></div><section class=\"panel\">";
  if (entries.empty()) {
    b += "<p class=\"empty\">No periodic jobs defined.</p><p class=\"muted center\">"
         "Define them in code (ServerOptions::cron) or in the config file's <code>cron:</code> "
         "section, and start the dashboard with that config (-C).</p>";
  } else {
    const double now = ctx.app.now();
    b += "<table "
         "class=\"table\"><thead><tr><th>Name</th><th>Schedule</th><th>Class</th><th>Queue</th>"
         "<th>Zone</th><th>Last tick</th><th>Next run</th><th></th></tr></thead><tbody>";
    for (const auto& e : entries) {
      auto info = cron_times(e, now);
      b += "<tr><td>" + esc(e.name) + "</td><td><code>" + esc(e.expression) + "</code></td><td>" +
           esc(e.job_class) + "</td><td>" + esc(cron_queue(e, ctx.app.registry)) + "</td><td>" +
           esc(e.time_zone.empty() ? "UTC" : e.time_zone) + "</td><td>" +
           (info.last > 0 ? time_html(info.last, now) : std::string("—")) + "</td><td>" +
           (info.next > 0 ? time_html(info.next, now) : std::string("never")) +
           "</td><td class=\"actions\"><form method=\"post\" class=\"inline\" "
           "action=\"/api/cron/" +
           esc(url_encode(e.name)) + "/enqueue\">" + form_fields(ctx, "/cron") +
           "<button class=\"btn btn-sm\" data-confirm=\"Enqueue " + esc(e.job_class) +
           " now?\">Enqueue now</button></form></td></tr>";
    }
    b += "</tbody></table>";
  }
  b += "</section>";
  send_page(ctx, "Cron", "cron", b);
}

}  // namespace

void render_login(App& app, const httplib::Request& req, httplib::Response& res, bool failed) {
  PageCtx ctx{app, req, res, app.sessions.get_or_create(req, res)};
  std::string b =
      "<section class=\"panel login\"><h1>Sign in</h1><p class=\"muted\">This "
      "dashboard needs its access token.</p>";
  if (failed) b += "<div class=\"flash flash-error\">That token is not right.</div>";
  b += "<form method=\"post\" action=\"/login\">" + form_fields(ctx, "/") +
       "<label for=\"token\">Token</label><input id=\"token\" type=\"password\" name=\"token\" "
       "autocomplete=\"current-password\" autofocus required><button class=\"btn btn-primary\">"
       "Sign in</button></form></section>";
  res.set_content(layout(ctx, "Sign in", "login", b), "text/html; charset=utf-8");
}

void add_page_routes(httplib::Server& server, App& app) {
  auto page = [&app](auto fn) {
    return [&app, fn](const httplib::Request& req, httplib::Response& res) {
      PageCtx ctx{app, req, res, app.sessions.get_or_create(req, res)};
      fn(ctx);
    };
  };
  // Routes with names: see raw_captures.
  auto named = [&app](const char* strict, auto fn) {
    auto re = std::make_shared<const std::regex>(strict);
    return [&app, re, fn](const httplib::Request& req, httplib::Response& res) {
      auto names = raw_captures(req, *re);
      if (!names) {
        res.status = 404;
        return;
      }
      PageCtx ctx{app, req, res, app.sessions.get_or_create(req, res)};
      fn(ctx, *names);
    };
  };
  server.Get("/", page([](PageCtx& c) { overview(c); }));
  server.Get("/queues", page([](PageCtx& c) { queues_page(c); }));
  server.Get(R"(/queues/(.+))", named(R"(^/queues/([^/]+)$)",
                                      [](PageCtx& c, const Names& n) { queue_page(c, n[0]); }));
  server.Get("/busy", page([](PageCtx& c) { busy_page(c); }));
  server.Get("/scheduled", page([](PageCtx& c) { set_page_render(c, SetKind::scheduled); }));
  server.Get("/retries", page([](PageCtx& c) { set_page_render(c, SetKind::retry); }));
  server.Get("/dead", page([](PageCtx& c) { set_page_render(c, SetKind::dead); }));
  server.Get("/morgue", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/dead", 301);
  });
  server.Get(R"(/jobs/(scheduled|retry|dead)/(.+))",
             named(R"(^/jobs/(scheduled|retry|dead)/([^/]+)$)",
                   [](PageCtx& c, const Names& n) { job_page(c, *parse_set(n[0]), n[1]); }));
  server.Get("/cron", page([](PageCtx& c) { cron_page(c); }));
}

}  // namespace errand::web
