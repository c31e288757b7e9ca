// GET /status?jid=JID and /status/JID: one job's status (queued, running,
// succeeded, ...), its result or last error, and a Cancel button (a
// CSRF-protected form posting to /api/status/JID/cancel) while it has not
// ended. Through Admin only.
#include <regex>

#include "errand/payload_limits.h"
#include "web/app.h"
#include "web/page_parts.h"

namespace errand::web {

namespace {

std::string lookup_form(std::string_view jid) {
  return "<form method=\"get\" action=\"/status\" class=\"search\"><input type=\"search\" "
         "name=\"jid\" placeholder=\"jid\" value=\"" +
         esc(jid) + "\" aria-label=\"Job id\"><button class=\"btn btn-sm\">Look up</button></form>";
}

std::string cancel_form(PageCtx& ctx, const std::string& jid) {
  const std::string back = "/status/" + url_encode(jid);
  return "<form method=\"post\" class=\"inline\" action=\"/api/status/" + esc(url_encode(jid)) +
         "/cancel\">" + form_fields(ctx, back) +
         "<button class=\"btn btn-sm btn-danger\" data-confirm=\"Cancel this job?\">Cancel"
         "</button></form>";
}

std::string details(PageCtx& ctx, const std::string& jid, const JobStatus& s) {
  std::string b = "<dl class=\"details\">";
  auto dt = [&](const char* term, const std::string& html) {
    b += "<dt>" + std::string(term) + "</dt><dd>" + html + "</dd>";
  };
  dt("JID", "<code>" + esc(jid) + "</code>");
  dt("State", "<strong>" + esc(to_string(s.state)) + "</strong>" +
                  (s.cancel_requested ? " <span class=\"muted\">(cancel requested)</span>" : ""));
  if (s.updated_at > 0) dt("Updated", time_html(s.updated_at, ctx.app.now()));
  if (!s.process.empty()) dt("Process", "<code>" + esc(s.process) + "</code>");
  if (s.progress) dt("Progress", progress_html(jid, s.progress, s.progress_message));
  if (s.state == JobState::succeeded) {
    auto parsed = payload::parse(s.result);
    const std::string shown =
        parsed ? parsed->dump(2, ' ', false, Json::error_handler_t::replace) : s.result;
    dt("Result", "<pre class=\"code\">" + esc(shown) + "</pre>");
  }
  b += "</dl>";
  if (!s.error.empty())
    b += "<div class=\"error-box\"><div class=\"error-title\">" + esc(s.error) + "</div></div>";
  return b;
}

void status_page(PageCtx& ctx, const std::string& jid) {
  std::string b = "<div class=\"page-head\"><h1>Job status</h1>" + lookup_form(jid) + "</div>";
  if (jid.empty()) {
    b += "<section class=\"panel\"><p class=\"empty\">Enter a job id (what enqueue returned) to "
         "see its status and result.</p></section>";
    return send_page(ctx, "Job status", "status", b);
  }
  auto st = ctx.app.admin->job_status(jid);
  if (!st) {
    ctx.res.status = st.code() == Errc::unsupported ? 409 : 503;
    b += "<section class=\"panel\">" + error_box(st.error()) + "</section>";
    return send_page(ctx, "Job status", "status", b);
  }
  if (st->state == JobState::unknown) ctx.res.status = 404;
  b += "<section class=\"panel\"><div class=\"panel-head\"><h2>" + esc(to_string(st->state)) +
       "</h2><div class=\"toolbar-right\">";
  if (!is_final(st->state) && st->state != JobState::unknown) b += cancel_form(ctx, jid);
  b += "<a href=\"/api/status/" + esc(url_encode(jid)) + "\">JSON \u203a</a></div></div>";
  b += details(ctx, jid, *st) + "</section>";
  send_page(ctx, "Job status", "status", b);
}

}  // namespace

std::string progress_html(std::string_view jid, const std::optional<double>& fraction,
                          std::string_view message) {
  const int pct = fraction ? static_cast<int>(*fraction * 100 + 0.5) : 0;
  std::string text = fraction ? std::to_string(pct) + "%" : std::string();
  if (!message.empty()) text += " \u00b7 " + std::string(message);
  return "<span class=\"progress\" data-progress-jid=\"" + esc(jid) + "\"" +
         (fraction ? "" : " hidden") + "><progress max=\"100\" value=\"" + std::to_string(pct) +
         "\"></progress> <span class=\"progress-text\">" + esc(text) + "</span></span>";
}

void add_status_page_routes(httplib::Server& server, App& app) {
  server.Get("/status", [&app](const httplib::Request& req, httplib::Response& res) {
    PageCtx ctx{app, req, res, app.sessions.get_or_create(req, res)};
    status_page(ctx, req.get_param_value("jid"));
  });
  auto re = std::make_shared<const std::regex>(R"(^/status/([^/]+)$)");
  server.Get(R"(/status/(.+))", [&app, re](const httplib::Request& req, httplib::Response& res) {
    auto names = raw_captures(req, *re);
    if (!names) {
      res.status = 404;
      return;
    }
    PageCtx ctx{app, req, res, app.sessions.get_or_create(req, res)};
    status_page(ctx, (*names)[0]);
  });
}

}  // namespace errand::web
