#include "web/html.h"

#include "errand/errand.h"

namespace errand::web {

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Html& Html::open(std::string_view tag, Attrs attrs) {
  out_ += '<';
  out_ += tag;
  for (const auto& [name, value] : attrs) {
    if (name.empty()) continue;
    out_ += ' ';
    out_ += name;
    out_ += "=\"";
    out_ += esc(value);
    out_ += '"';
  }
  out_ += '>';
  return *this;
}

Html& Html::close(std::string_view tag) {
  out_ += "</";
  out_ += tag;
  out_ += '>';
  return *this;
}

Html& Html::el(std::string_view tag, Attrs attrs, std::string_view text) {
  return open(tag, attrs).text(text).close(tag);
}

Html& Html::text(std::string_view s) {
  out_ += esc(s);
  return *this;
}

Html& Html::raw(std::string_view markup) {
  out_ += markup;
  return *this;
}

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string truncate(std::string_view s, std::size_t n) {
  if (s.size() <= n) return std::string(s);
  std::size_t cut = n;
  // Do not split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "\u2026";
}

std::string form_fields(const PageCtx& ctx, std::string_view back) {
  return "<input type=\"hidden\" name=\"_csrf\" value=\"" + esc(ctx.session.csrf) +
         "\"><input type=\"hidden\" name=\"back\" value=\"" + esc(back) + "\">";
}

std::string time_html(double epoch, double now) {
  if (epoch <= 0) return "<span class=\"muted\">\u2014</span>";
  return "<time datetime=\"" + esc(utc_time(epoch)) + "\" title=\"" + esc(utc_time(epoch)) + "\">" +
         esc(relative_time(epoch, now)) + "</time>";
}

std::string pager(std::string_view base, std::size_t total, std::size_t offset, std::size_t limit,
                  std::string_view q) {
  if (limit == 0 || total <= limit) return "";
  const std::size_t pages = (total + limit - 1) / limit;
  const std::size_t current = offset / limit;
  auto link = [&](std::size_t page, std::string_view text, bool active) {
    std::string href = std::string(base) + "?offset=" + std::to_string(page * limit) +
                       "&limit=" + std::to_string(limit);
    if (!q.empty()) href += "&q=" + url_encode(q);
    return std::string("<a class=\"page") + (active ? " active" : "") + "\" href=\"" + esc(href) +
           "\">" + std::string(text) + "</a>";
  };
  std::string out = "<nav class=\"pager\" aria-label=\"pages\">";
  if (current > 0) out += link(current - 1, "\u2039 Prev", false);
  std::size_t from = current > 3 ? current - 3 : 0;
  std::size_t to = std::min(pages, from + 7);
  if (from > 0) out += link(0, "1", false) + "<span class=\"gap\">\u2026</span>";
  for (std::size_t p = from; p < to; ++p) out += link(p, std::to_string(p + 1), p == current);
  if (to < pages)
    out += "<span class=\"gap\">\u2026</span>" + link(pages - 1, std::to_string(pages), false);
  if (current + 1 < pages) out += link(current + 1, "Next \u203a", false);
  out += "<span class=\"muted\">" + format_count(static_cast<std::int64_t>(total)) +
         " total</span></nav>";
  return out;
}

namespace {

std::string flash(const httplib::Request& req) {
  // Fixed texts chosen by code, never text from the URL: a link cannot make
  // the dashboard say something it did not.
  if (!req.has_param("done")) return "";
  const std::string done = req.get_param_value("done");
  const std::string n =
      std::to_string(std::strtoull(req.get_param_value("n").c_str(), nullptr, 10));
  const auto failed = std::strtoull(req.get_param_value("failed").c_str(), nullptr, 10);
  std::string what;
  if (done == "retry" || done == "retry_all")
    what = n + " job(s) queued to run now";
  else if (done == "delete" || done == "delete_all")
    what = n + " job(s) deleted";
  else if (done == "kill" || done == "kill_all")
    what = n + " job(s) moved to the dead set";
  else if (done == "clear")
    what = "Queue cleared";
  else if (done == "enqueue")
    what = "Periodic job enqueued to run now";
  else if (done == "pause")
    what = "Queue paused: its jobs wait until it is resumed";
  else if (done == "resume")
    what = "Queue resumed";
  else if (done == "quiet")
    what = "Quiet signal sent: the process stops fetching new jobs";
  else if (done == "stop")
    what = "Stop signal sent: the process shuts down";
  else if (done == "error")
    what = "The action failed";
  else
    return "";
  std::string out = "<div class=\"flash ";
  out += (done == "error" || failed > 0) ? "flash-error" : "flash-ok";
  out += "\" role=\"status\">" + esc(what);
  if (failed > 0) out += esc("; " + std::to_string(failed) + " could not be changed");
  if (req.has_param("err")) {
    auto code = req.get_param_value("err");
    static const char* const kCodes[] = {
        "invalid_argument", "not_found",   "unavailable", "busy",
        "corrupt",          "unsupported", "io",          "internal"};
    for (const char* c : kCodes)
      if (code == c) out += esc(std::string(" (") + c + ")");
  }
  out += "</div>";
  return out;
}

}  // namespace

std::string layout(PageCtx& ctx, std::string_view title, std::string_view active,
                   const std::string& body) {
  Stats s;
  bool stats_ok = false;
  if (ctx.app.authorized(ctx.req)) {
    if (auto st = ctx.app.admin->stats()) {
      s = *st;
      stats_ok = true;
    }
  }
  struct Item {
    const char* href;
    const char* id;
    const char* label;
    const char* stat;
    std::size_t count;
  };
  const Item items[] = {
      {"/", "overview", "Dashboard", nullptr, 0},
      {"/busy", "busy", "Busy", "busy", s.busy},
      {"/queues", "queues", "Queues", "enqueued", s.enqueued},
      {"/retries", "retries", "Retries", "retries", s.retries},
      {"/scheduled", "scheduled", "Scheduled", "scheduled", s.scheduled},
      {"/dead", "dead", "Dead", "dead", s.dead},
      {"/cron", "cron", "Cron", nullptr, 0},
      {"/batches", "batches", "Batches", nullptr, 0},
  };
  std::string nav;
  for (const auto& it : items) {
    nav += "<a href=\"";
    nav += it.href;
    nav += "\" class=\"nav-item";
    if (active == it.id) nav += " active";
    nav += "\"";
    if (active == it.id) nav += " aria-current=\"page\"";
    nav += ">";
    nav += it.label;
    if (it.stat && stats_ok) {
      nav += " <span class=\"badge";
      if (std::string_view(it.stat) == "dead" || std::string_view(it.stat) == "retries")
        nav += it.count > 0 ? " badge-warn" : "";
      nav += "\" data-stat=\"";
      nav += it.stat;
      nav += "\">" + format_count(static_cast<std::int64_t>(it.count)) + "</span>";
    }
    nav += "</a>";
  }
  std::string logout;
  if (!ctx.app.options.token.empty() && ctx.session.authed)
    logout = "<form method=\"post\" action=\"/logout\" class=\"inline\">" + form_fields(ctx, "/") +
             "<button class=\"btn btn-ghost btn-sm\">Log out</button></form>";

  std::string html;
  html.reserve(body.size() + 4096);
  html += "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  html += "<meta name=\"csrf-token\" content=\"" + esc(ctx.session.csrf) + "\">";
  html += "<title>" + esc(title) + " \u00b7 errand</title>";
  html += "<link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">";
  html += "<link rel=\"stylesheet\" href=\"/assets/vendor/uPlot.min.css\">";
  html += "<link rel=\"stylesheet\" href=\"/assets/app.css\">";
  html += "<script src=\"/assets/vendor/uPlot.iife.min.js\" defer></script>";
  html += "<script src=\"/assets/app.js\" defer></script>";
  html += "</head><body data-page=\"" + esc(active) + "\">";
  html +=
      "<header class=\"topbar\"><a class=\"brand\" href=\"/\"><span class=\"logo\" "
      "aria-hidden=\"true\"></span>errand</a><nav class=\"nav\">" +
      nav + "</nav><div class=\"topbar-right\"><span class=\"store\" title=\"store\">" +
      esc(ctx.app.admin->store_scheme()) +
      "</span><span class=\"live\" id=\"live-indicator\" title=\"live updates\">"
      "<span class=\"dot\"></span>live</span>" +
      logout + "</div></header>";
  html += "<main class=\"container\">" + flash(ctx.req) + body + "</main>";
  html += "<footer class=\"footer\"><span>errand " ERRAND_VERSION "</span><span>" +
          esc(utc_time(ctx.app.now())) + "</span></footer>";
  html += "</body></html>";
  return html;
}

}  // namespace errand::web
