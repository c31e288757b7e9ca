// GET /batches: the batches and workflows (errand/batch.h), newest first,
// with their progress; GET /batches/BID: one batch, its failed members
// (linking to their status) and a Cancel button (a CSRF-protected form
// posting to /api/batches/BID/cancel). Through Admin only.
#include <regex>

#include "errand/batch.h"
#include "web/app.h"
#include "web/page_parts.h"

namespace errand::web {

namespace {

std::string state_pill(const BatchStatus& b) {
  if (b.cancelled) return "<span class=\"pill pill-warn\">cancelled</span>";
  if (b.success) return "<span class=\"pill pill-ok\">succeeded</span>";
  if (b.failed) return "<span class=\"pill pill-warn\">failed</span>";
  if (b.complete) return "<span class=\"pill pill-warn\">complete, with failures</span>";
  return "<span class=\"pill\">running</span>";
}

std::string progress(const BatchStatus& b) {
  const auto done = b.total - b.pending;
  return "<progress max=\"" + std::to_string(b.total) + "\" value=\"" + std::to_string(done) +
         "\" aria-label=\"succeeded\"></progress> <span class=\"small muted\">" +
         format_count(static_cast<std::int64_t>(done)) + " / " +
         format_count(static_cast<std::int64_t>(b.total)) + "</span>";
}

std::string batch_link(const BatchStatus& b) {
  const std::string label = b.description.empty() ? b.bid : b.description;
  return "<a class=\"cls\" href=\"/batches/" + esc(url_encode(b.bid)) + "\">" + esc(label) +
         "</a>" + (b.workflow ? " <span class=\"tag\">workflow</span>" : "");
}

void list_page(PageCtx& ctx) {
  const std::size_t offset = param_size(ctx.req, "offset", 0, 0, kMaxOffset);
  const std::size_t limit = param_size(ctx.req, "limit", kDefaultLimit, 1, kMaxLimit);
  std::string b = "<div class=\"page-head\"><h1>Batches</h1></div><section class=\"panel\">";
  auto list = ctx.app.admin->batches(offset, limit);
  if (!list) {
    ctx.res.status = list.code() == Errc::unsupported ? 409 : 503;
    b += error_box(list.error()) + "</section>";
    return send_page(ctx, "Batches", "batches", b);
  }
  if (list->empty()) {
    b += "<p class=\"empty\">No batches.</p></section>";
    return send_page(ctx, "Batches", "batches", b);
  }
  b += "<table class=\"table\"><thead><tr><th>Batch</th><th>Created</th><th>Progress</th>"
       "<th>Failures</th><th>State</th></tr></thead><tbody>";
  for (const auto& s : *list)
    b += "<tr><td>" + batch_link(s) + "</td><td>" + time_html(s.created_at, ctx.app.now()) +
         "</td><td>" + progress(s) + "</td><td>" +
         format_count(static_cast<std::int64_t>(s.failures)) + "</td><td>" + state_pill(s) +
         "</td></tr>";
  b += "</tbody></table></section>";
  send_page(ctx, "Batches", "batches", b);
}

std::string cancel_form(PageCtx& ctx, const std::string& bid) {
  const std::string back = "/batches/" + url_encode(bid);
  return "<form method=\"post\" class=\"inline\" action=\"/api/batches/" + esc(url_encode(bid)) +
         "/cancel\">" + form_fields(ctx, back) +
         "<button class=\"btn btn-sm btn-danger\" data-confirm=\"Cancel this batch?\">Cancel"
         "</button></form>";
}

void batch_page(PageCtx& ctx, const std::string& bid) {
  std::string b = "<div class=\"page-head\"><h1>Batch</h1></div><section class=\"panel\">";
  auto st = ctx.app.admin->batch_status(bid);
  if (!st) {
    ctx.res.status = st.code() == Errc::not_found ? 404 : 503;
    b += error_box(st.error()) + "</section>";
    return send_page(ctx, "Batch", "batches", b);
  }
  const BatchStatus& s = *st;
  b += "<div class=\"panel-head\"><h2>" + esc(s.description.empty() ? s.bid : s.description) +
       "</h2><div class=\"toolbar-right\">";
  if (!s.success && !s.cancelled && !s.complete) b += cancel_form(ctx, bid);
  b += "<a href=\"/api/batches/" + esc(url_encode(bid)) + "\">JSON \u203a</a></div></div>";
  b += "<dl class=\"details\"><dt>BID</dt><dd><code>" + esc(s.bid) + "</code></dd>";
  b += "<dt>State</dt><dd>" + state_pill(s) + "</dd><dt>Progress</dt><dd>" + progress(s) + "</dd>";
  if (!s.parent.empty())
    b += "<dt>Parent</dt><dd><a href=\"/batches/" + esc(url_encode(s.parent)) + "\"><code>" +
         esc(s.parent) + "</code></a></dd>";
  b += "<dt>Created</dt><dd>" + time_html(s.created_at, ctx.app.now()) + "</dd>";
  b += "<dt>Pending</dt><dd>" + format_count(static_cast<std::int64_t>(s.pending)) + "</dd>";
  b += "<dt>Failures</dt><dd>" + format_count(static_cast<std::int64_t>(s.failures)) + "</dd>";
  b += "<dt>Dead</dt><dd>" + format_count(static_cast<std::int64_t>(s.dead)) + "</dd></dl>";
  if (!s.failed_jids.empty()) {
    b += "<h3>Failed members</h3><ul>";
    for (const auto& jid : s.failed_jids) {
      if (jid.rfind("batch:", 0) == 0)
        b += "<li>batch <a href=\"/batches/" + esc(url_encode(jid.substr(6))) + "\"><code>" +
             esc(jid.substr(6)) + "</code></a></li>";
      else
        b += "<li><a href=\"/status/" + esc(url_encode(jid)) + "\"><code>" + esc(jid) +
             "</code></a></li>";
    }
    b += "</ul>";
  }
  b += "</section>";
  send_page(ctx, "Batch", "batches", b);
}

}  // namespace

void add_batch_page_routes(httplib::Server& server, App& app) {
  server.Get("/batches", [&app](const httplib::Request& req, httplib::Response& res) {
    PageCtx ctx{app, req, res, app.sessions.get_or_create(req, res)};
    list_page(ctx);
  });
  auto re = std::make_shared<const std::regex>(R"(^/batches/([^/]+)$)");
  server.Get(R"(/batches/(.+))", [&app, re](const httplib::Request& req, httplib::Response& res) {
    auto names = raw_captures(req, *re);
    if (!names) {
      res.status = 404;
      return;
    }
    PageCtx ctx{app, req, res, app.sessions.get_or_create(req, res)};
    batch_page(ctx, (*names)[0]);
  });
}

Json batch_json(const BatchStatus& s) {
  return Json{{"bid", s.bid},
              {"description", s.description},
              {"parent", s.parent},
              {"workflow", s.workflow},
              {"total", s.total},
              {"pending", s.pending},
              {"failures", s.failures},
              {"dead", s.dead},
              {"failed_jids", s.failed_jids},
              {"complete", s.complete},
              {"success", s.success},
              {"failed", s.failed},
              {"cancelled", s.cancelled},
              {"created_at", s.created_at}};
}

}  // namespace errand::web
