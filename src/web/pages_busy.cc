// The busy page: worker processes (quiet, stop) and the jobs they run now.
#include <algorithm>

#include "errand/errand.h"
#include "web/page_parts.h"

namespace errand::web {

namespace {

std::string info_string(const Json& info, const char* key) {
  auto it = info.find(key);
  if (it == info.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() || it->is_boolean()) return it->dump();
  return "";
}

/// A POST button to /api/processes/<id>/<verb>, coming back to `back`.
void process_action(Html& h, PageCtx& ctx, const ProcessRecord& p, std::string_view verb,
                    const std::string& back) {
  const std::string action = "/api/processes/" + url_encode(p.identity) + "/" + std::string(verb);
  const bool quiet = verb == "quiet";
  h.open("form", {{"method", "post"}, {"action", action}, {"class", "inline"}})
      .raw(form_fields(ctx, back))
      .open("button", {{"class", quiet ? "btn btn-sm" : "btn btn-sm btn-danger"},
                       {quiet && p.quiet ? "disabled" : "", ""},
                       {"data-confirm", quiet ? "Quiet this process? It stops fetching new jobs."
                                              : "Stop this process?"}})
      .text(quiet ? "Quiet" : "Stop")
      .close("button")
      .close("form");
}

/// The first cell: host, pid, tag, labels, state, identity and version.
void process_cell(Html& h, const ProcessRecord& p, const Json& info) {
  const std::string host = info_string(info, "hostname");
  const std::string pid = info_string(info, "pid");
  const std::string tag = info_string(info, "tag");
  const std::string version = info_string(info, "version");
  h.open("td").open("div", {{"class", "proc"}}).el("strong", {}, host.empty() ? p.identity : host);
  if (!pid.empty()) h.el("span", {{"class", "muted"}}, "pid " + pid);
  if (!tag.empty()) h.el("span", {{"class", "pill"}}, tag);
  if (auto ls = info.find("labels"); ls != info.end() && ls->is_array())
    for (const auto& l : *ls)
      if (l.is_string()) h.el("span", {{"class", "pill"}}, l.get<std::string>());
  if (p.quiet) h.el("span", {{"class", "pill pill-warn"}}, "quiet");
  h.close("div").open("div", {{"class", "muted small"}}).el("code", {}, p.identity);
  if (!version.empty()) h.text(" \u00b7 " + version);
  h.close("div").close("td");
}

void process_row(Html& h, PageCtx& ctx, const ProcessRecord& p, const std::string& back,
                 double now) {
  const Json& info = p.info.is_object() ? p.info : Json::object();
  const std::string conc = info_string(info, "concurrency");
  double started = 0;
  if (auto st = payload::timestamp(info, "started_at")) started = *st;
  h.open("tr");
  process_cell(h, p, info);
  h.open("td").raw(time_html(started, now)).close("td");
  h.el("td", {{"class", "num"}}, std::to_string(p.busy) + " / " + (conc.empty() ? "?" : conc));
  h.el("td", {{"class", "num"}},
       p.rss_kb > 0 ? format_count(p.rss_kb / 1024) + " MB" : std::string("\u2014"));
  h.open("td").raw(time_html(p.beat, now)).close("td").open("td");
  if (auto qs = info.find("queues"); qs != info.end() && qs->is_array())
    for (const auto& q : *qs)
      if (q.is_string()) h.raw(queue_badge(q.get<std::string>())).text(" ");
  h.close("td").open("td", {{"class", "actions"}});
  process_action(h, ctx, p, "quiet", back);
  process_action(h, ctx, p, "stop", back);
  h.close("td").close("tr");
}

void processes_panel(Html& h, PageCtx& ctx, const std::string& back, double now) {
  auto procs = ctx.app.admin->processes();
  h.open("section", {{"class", "panel"}})
      .open("div", {{"class", "panel-head"}})
      .el("h2", {}, "Processes")
      .close("div");
  if (!procs) {
    h.raw(error_box(procs.error()));
  } else if (procs->empty()) {
    h.el("p", {{"class", "empty"}}, "No worker process is running.");
  } else {
    h.open("table", {{"class", "table"}}).open("thead").open("tr");
    for (auto [label, cls] : {std::pair{"Process", ""},
                              {"Started", ""},
                              {"Threads", "num"},
                              {"RSS", "num"},
                              {"Last beat", ""},
                              {"Queues", ""},
                              {"Actions", "actions"}})
      h.el("th", {{*cls ? "class" : "", cls}}, label);
    h.close("tr").close("thead").open("tbody");
    for (const auto& p : *procs) process_row(h, ctx, p, back, now);
    h.close("tbody").close("table");
  }
  h.close("section");
}

/// The job's progress (a status read per row: only for the rows shown).
std::string running_progress(PageCtx& ctx, const JobRow& row) {
  JobStatus st;
  if (!row.jid.empty())
    if (auto got = ctx.app.admin->job_status(row.jid)) st = std::move(got).value();
  return progress_html(row.jid, st.progress, st.progress_message);
}

void running_row(Html& h, PageCtx& ctx, const WorkRecord& w, const JobRow& row, double now) {
  h.open("tr")
      .open("td")
      .el("code", {{"class", "small"}}, w.process)
      .close("td")
      .open("td")
      .el("code", {}, w.thread)
      .close("td")
      .open("td")
      .raw(queue_badge(w.queue))
      .close("td")
      .el("td", {{"class", "cls"}}, row.job_class)
      .open("td")
      .el("code", {{"class", row.redacted ? "args redacted" : "args"}}, truncate(row.args, 160))
      .close("td")
      .open("td")
      .el("code", {}, row.jid)
      .close("td")
      .open("td")
      .raw(running_progress(ctx, row))
      .close("td")
      .el("td", {{"class", "num"}, {"title", utc_time(w.run_at)}}, format_duration(now - w.run_at))
      .close("tr");
}

void running_panel(Html& h, PageCtx& ctx, double now) {
  const auto offset = param_size(ctx.req, "offset", 0, 0, kMaxOffset);
  const auto limit = param_size(ctx.req, "limit", 50, 1, kMaxLimit);
  const std::string q = ctx.req.get_param_value("q");
  h.open("section", {{"class", "panel"}})
      .open("div", {{"class", "panel-head"}})
      .el("h2", {}, "Running jobs")
      .raw(search_box("/busy", q, "class, jid or args"))
      .close("div");
  auto work = ctx.app.admin->workers();
  if (!work) {
    h.raw(error_box(work.error())).close("section");
    return;
  }
  std::vector<std::pair<const WorkRecord*, JobRow>> rows;
  for (const auto& w : *work) {
    JobRow row = make_row(w.payload, *ctx.app.registry);
    if (!q.empty() && !contains_icase(row.job_class, q) && !contains_icase(row.jid, q) &&
        !contains_icase(w.queue, q) && (row.redacted || !contains_icase(row.args, q)))
      continue;
    rows.emplace_back(&w, std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first->run_at < b.first->run_at; });
  if (rows.empty()) {
    h.el("p", {{"class", "empty"}}, "Nothing is running right now.").close("section");
    return;
  }
  h.open("table", {{"class", "table"}}).open("thead").open("tr");
  for (const char* label : {"Process", "Thread", "Queue", "Class", "Arguments", "JID", "Progress"})
    h.el("th", {}, label);
  h.el("th", {{"class", "num"}}, "Running for").close("tr").close("thead").open("tbody");
  for (std::size_t i = offset; i < rows.size() && i < offset + limit; ++i)
    running_row(h, ctx, *rows[i].first, rows[i].second, now);
  h.close("tbody").close("table").raw(pager("/busy", rows.size(), offset, limit, q));
  h.close("section");
}

}  // namespace

void busy_page(PageCtx& ctx) {
  const double now = ctx.app.now();
  Html h;
  h.open("div", {{"class", "page-head"}})
      .el("h1", {}, "Busy")
      .el("span", {{"class", "muted"}}, "Worker processes and the jobs they run now")
      .close("div");
  processes_panel(h, ctx, current_url(ctx.req), now);
  running_panel(h, ctx, now);
  send_page(ctx, "Busy", "busy", h.take());
}

}  // namespace errand::web
