// The JSON API under /api/: everything the pages show, and every action they
// take. A POST from a dashboard form (it carries `back`) is answered with a
// redirect to that page; any other client gets JSON.
#include <algorithm>
#include <regex>

#include "errand/errand.h"
#include "store/status_json.h"
#include "web/html.h"

namespace errand::web {

namespace {

int http_status(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return 400;
    case Errc::not_found:
      return 404;
    case Errc::unsupported:
      return 409;
    case Errc::unavailable:
    case Errc::busy:
      return 503;
    default:
      return 500;
  }
}

void send_json(httplib::Response& res, const Json& body, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n",
                  "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, const Error& e) {
  send_json(res, {{"error", std::string(to_string(e.code()))}, {"message", e.message()}},
            http_status(e.code()));
}

/// Where a form asked to go back to: a local path only (never another site).
/// Browsers drop tabs and newlines from URLs ("/\t/evil" is "//evil") and
/// read '\\' as '/': any control character, space or backslash refuses it.
std::string safe_back(const std::string& back) {
  if (back.empty() || back[0] != '/' || (back.size() > 1 && back[1] == '/')) return "/";
  for (char c : back) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '\\') return "/";
  }
  return back;
}

bool from_form(const httplib::Request& req) { return req.has_param("back"); }

/// Answers an action: a redirect for forms, JSON for scripts.
void action_reply(const httplib::Request& req, httplib::Response& res, const std::string& done,
                  std::size_t n, std::size_t failed, const Status& status, Json extra = {}) {
  if (from_form(req)) {
    std::string to = safe_back(req.get_param_value("back"));
    to += (to.find('?') == std::string::npos ? "?" : "&");
    to += "done=" + (status ? done : std::string("error")) + "&n=" + std::to_string(n);
    if (failed) to += "&failed=" + std::to_string(failed);
    if (!status) to += "&err=" + std::string(to_string(status.code()));
    res.set_redirect(to, 303);
    return;
  }
  if (!status) {
    send_error(res, status.error());
    return;
  }
  Json body = {{"ok", failed == 0}, {"action", done}, {"done", n}, {"failed", failed}};
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) body[k] = v;
  send_json(res, body, failed > 0 && n == 0 ? 409 : 200);
}

Json stats_json(App& app, const Stats& s) {
  return {{"processed", s.processed}, {"failed", s.failed},     {"scheduled", s.scheduled},
          {"retries", s.retries},     {"dead", s.dead},         {"processes", s.processes},
          {"busy", s.busy},           {"enqueued", s.enqueued}, {"time", app.now()}};
}

Json queue_json(const QueueInfo& q) {
  return {{"name", q.name}, {"size", q.size}, {"latency", q.latency}, {"paused", q.paused}};
}

Json process_json(const ProcessRecord& p) {
  const Json info = p.info.is_object() ? p.info : Json::object();
  auto get = [&](const char* k) { return info.contains(k) ? info[k] : Json(nullptr); };
  return {{"identity", p.identity},
          {"hostname", get("hostname")},
          {"pid", get("pid")},
          {"version", get("version")},
          {"tag", get("tag")},
          {"labels", get("labels")},
          {"concurrency", get("concurrency")},
          {"queues", get("queues")},
          {"started_at", get("started_at")},
          {"busy", p.busy},
          {"beat", p.beat},
          {"quiet", p.quiet},
          {"rss_kb", p.rss_kb},
          {"info", info}};
}

/// The keys an action applies to: repeated `key` form fields, or a JSON body
/// {"keys": [...]} / {"key": "..."}.
std::vector<std::string> request_keys(const httplib::Request& req) {
  std::vector<std::string> keys;
  const auto n = req.get_param_value_count("key");
  for (std::size_t i = 0; i < n; ++i) keys.push_back(req.get_param_value("key", i));
  if (keys.empty() && req.get_header_value("Content-Type").find("application/json") == 0) {
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_object()) {
      if (auto ks = body.find("keys"); ks != body.end() && ks->is_array())
        for (const auto& k : *ks)
          if (k.is_string()) keys.push_back(k.get<std::string>());
      if (auto k = body.find("key"); k != body.end() && k->is_string())
        keys.push_back(k->get<std::string>());
    }
  }
  return keys;
}

void send_csrf_refusal(httplib::Response& res) {
  send_json(res,
            {{"error", "forbidden"},
             {"message",
              "missing or wrong CSRF token: send the session's token (GET /api/csrf) "
              "in X-CSRF-Token or the _csrf field, or authenticate with a Bearer token"}},
            403);
}

/// A route whose path holds names (queues, keys, identities): registered
/// with `.+` where `strict` has `[^/]+`, so that a name with an encoded '/'
/// reaches it; the names are then read from the raw path by `strict`,
/// decoded once. 404 if the raw path does not match.
template <class Fn>
httplib::Server::Handler named(const char* strict, Fn fn) {
  auto re = std::make_shared<const std::regex>(strict);
  return [re, fn](const httplib::Request& req, httplib::Response& res) {
    auto names = raw_captures(req, *re);
    if (!names)
      return send_json(res, {{"error", "not_found"}, {"message", "no such resource"}}, 404);
    fn(req, res, *names);
  };
}

Result<Json> processes_json(App& app) {
  auto ps = app.admin->processes();
  if (!ps) return ps.error();
  Json out = Json::array();
  for (const auto& p : *ps) out.push_back(process_json(p));
  return out;
}

Result<Json> workers_json(App& app) {
  auto ws = app.admin->workers();
  if (!ws) return ws.error();
  const double now = app.now();
  Json out = Json::array();
  for (const auto& w : *ws) {
    Json job = row_json(make_row(w.payload, *app.registry), SetKind::scheduled, false);
    job.erase("key");
    job.erase("score");
    job.erase("next_run_at");
    out.push_back({{"process", w.process},
                   {"thread", w.thread},
                   {"queue", w.queue},
                   {"run_at", w.run_at},
                   {"elapsed", now - w.run_at},
                   {"job", job}});
  }
  return out;
}

/// The counters, their history and the queues.
void add_stat_routes(httplib::Server& server, App& app) {
  server.Get("/api/stats", [&app](const httplib::Request&, httplib::Response& res) {
    auto s = app.admin->stats();
    if (!s) return send_error(res, s.error());
    send_json(res, stats_json(app, *s));
  });

  server.Get("/api/history", [&app](const httplib::Request& req, httplib::Response& res) {
    const int days = static_cast<int>(param_size(req, "days", 30, 1, 365));
    const double now = app.now();
    auto processed = app.admin->history("processed", days);
    if (!processed) return send_error(res, processed.error());
    auto failed = app.admin->history("failed", days);
    if (!failed) return send_error(res, failed.error());
    // The store gives newest first; charts want oldest first.
    Json dates = Json::array(), p = Json::array(), f = Json::array();
    for (int i = days - 1; i >= 0; --i) {
      const auto idx = static_cast<std::size_t>(i);
      dates.push_back(utc_date(now - 86400.0 * i));
      p.push_back(idx < processed->size() ? (*processed)[idx] : 0);
      f.push_back(idx < failed->size() ? (*failed)[idx] : 0);
    }
    send_json(res, {{"days", dates}, {"processed", p}, {"failed", f}});
  });

  server.Get("/api/queues", [&app](const httplib::Request& req, httplib::Response& res) {
    auto qs = list_queues(app);
    if (!qs) return send_error(res, qs.error());
    const std::string q = req.get_param_value("q");
    Json out = Json::array();
    for (const auto& qi : *qs)
      if (contains_icase(qi.name, q)) out.push_back(queue_json(qi));
    send_json(res, {{"queues", out}, {"pause_supported", app.pause_supported()}});
  });

  server.Get(R"(/api/queues/(.+))",
             named(R"(^/api/queues/([^/]+)$)",
                   [&app](const httplib::Request& req, httplib::Response& res, const Names& names) {
                     const std::string& name = names[0];
                     const auto offset = param_size(req, "offset", 0, 0, kMaxOffset);
                     const auto limit = param_size(req, "limit", 25, 1, 500);
                     auto jobs = app.admin->queue_jobs(name, offset, limit);
                     if (!jobs) return send_error(res, jobs.error());
                     std::size_t total = 0;
                     bool paused = false;
                     if (auto qs = list_queues(app))
                       for (const auto& qi : *qs)
                         if (qi.name == name) {
                           total = qi.size;
                           paused = qi.paused;
                         }
                     Json out = Json::array();
                     for (const auto& p : *jobs) {
                       Json j = row_json(make_row(p, *app.registry), SetKind::scheduled, false);
                       j.erase("key");
                       j.erase("score");
                       j.erase("next_run_at");
                       out.push_back(std::move(j));
                     }
                     send_json(res, {{"queue", name},
                                     {"size", total},
                                     {"paused", paused},
                                     {"offset", offset},
                                     {"limit", limit},
                                     {"jobs", out}});
                   }));
}

/// Processes and what they run; the overview.
void add_process_routes(httplib::Server& server, App& app) {
  server.Get("/api/processes", [&app](const httplib::Request&, httplib::Response& res) {
    auto ps = processes_json(app);
    if (!ps) return send_error(res, ps.error());
    send_json(res, {{"processes", *ps}});
  });

  server.Get("/api/workers", [&app](const httplib::Request&, httplib::Response& res) {
    auto ws = workers_json(app);
    if (!ws) return send_error(res, ws.error());
    send_json(res, {{"workers", *ws}});
  });

  // The twin of /busy: both lists of that page.
  server.Get("/api/busy", [&app](const httplib::Request&, httplib::Response& res) {
    auto ps = processes_json(app);
    if (!ps) return send_error(res, ps.error());
    auto ws = workers_json(app);
    if (!ws) return send_error(res, ws.error());
    send_json(res, {{"processes", *ps}, {"workers", *ws}});
  });

  // The twin of / (the overview): the counters and the queues.
  server.Get(R"(/api/?)", [&app](const httplib::Request&, httplib::Response& res) {
    auto s = app.admin->stats();
    if (!s) return send_error(res, s.error());
    auto qs = list_queues(app);
    if (!qs) return send_error(res, qs.error());
    Json queues = Json::array();
    for (const auto& qi : *qs) queues.push_back(queue_json(qi));
    send_json(res, {{"stats", stats_json(app, *s)}, {"queues", queues}});
  });

  // /api/sets/<set> and the pages' own names: /api/scheduled, /api/retries, /api/dead.
  server.Get(R"(/api/(?:sets/)?(scheduled|retry|retries|dead|morgue))",
             [&app](const httplib::Request& req, httplib::Response& res) {
               const SetKind kind = *parse_set(req.matches[1].str());
               const auto offset = param_size(req, "offset", 0, 0, kMaxOffset);
               const auto limit = param_size(req, "limit", 25, 1, 500);
               auto page = list_set(app, kind, offset, limit, req.get_param_value("q"));
               if (!page) return send_error(res, page.error());
               Json rows = Json::array();
               for (const auto& r : page->rows) rows.push_back(row_json(r, kind, false));
               send_json(res, {{"set", set_url_name(kind)},
                               {"total", page->total},
                               {"offset", offset},
                               {"limit", limit},
                               {"truncated", page->truncated},
                               {"entries", rows}});
             });
}

/// The sets, one job, cron and the CSRF token.
void add_job_routes(httplib::Server& server, App& app) {
  server.Get(R"(/api/jobs/(scheduled|retry|retries|dead)/(.+))",
             named(R"(^/api/jobs/(scheduled|retry|retries|dead)/([^/]+)$)",
                   [&app](const httplib::Request&, httplib::Response& res, const Names& names) {
                     const SetKind kind = *parse_set(names[0]);
                     auto entry = find_entry(app, kind, names[1]);
                     if (!entry) return send_error(res, entry.error());
                     Json j = row_json(make_row(*entry, *app.registry), kind, true);
                     j["set"] = set_url_name(kind);
                     send_json(res, j);
                   }));

  server.Get(R"(/api/status/(.+))",
             named(R"(^/api/status/([^/]+)$)",
                   [&app](const httplib::Request&, httplib::Response& res, const Names& names) {
                     auto st = app.admin->job_status(names[0]);
                     if (!st) return send_error(res, st.error());
                     send_json(res, status_json(names[0], *st));
                   }));

  server.Get("/api/batches", [&app](const httplib::Request& req, httplib::Response& res) {
    auto list = app.admin->batches(param_size(req, "offset", 0, 0, kMaxOffset),
                                   param_size(req, "limit", 25, 1, 500));
    if (!list) return send_error(res, list.error());
    Json out = Json::array();
    for (const auto& s : *list) out.push_back(batch_json(s));
    send_json(res, out);
  });
  server.Get(R"(/api/batches/(.+))",
             named(R"(^/api/batches/([^/]+)$)",
                   [&app](const httplib::Request&, httplib::Response& res, const Names& names) {
                     auto st = app.admin->batch_status(names[0]);
                     if (!st) return send_error(res, st.error());
                     send_json(res, batch_json(*st));
                   }));

  server.Get("/api/cron", [&app](const httplib::Request&, httplib::Response& res) {
    Json entries = Json::array();
    const double now = app.now();
    for (const auto& e : app.options.cron) {
      auto t = cron_times(e, now);
      entries.push_back({{"name", e.name},
                         {"cron", e.expression},
                         {"class", e.job_class},
                         {"queue", e.queue},
                         {"time_zone", e.time_zone.empty() ? "UTC" : e.time_zone},
                         {"last_tick", t.last},
                         {"next_run", t.next}});
    }
    send_json(res, {{"entries", entries}, {"supported", true}});
  });

  server.Get("/api/csrf", [&app](const httplib::Request& req, httplib::Response& res) {
    Session s = app.sessions.get_or_create(req, res);
    send_json(res, {{"token", s.csrf}, {"header", "X-CSRF-Token"}, {"field", "_csrf"}});
  });
}

/// Enqueues the periodic job `name` now, outside its schedule, through the
/// queue definitions (the tick's lock is not taken: this run is extra, and
/// the next tick still fires).
void enqueue_cron_now(App& app, const std::string& name, const httplib::Request& req,
                      httplib::Response& res) {
  const auto& entries = app.options.cron;
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const CronEntry& e) { return e.name == name; });
  if (it == entries.end())
    return action_reply(req, res, "enqueue", 0, 0,
                        Error(Errc::not_found, "no periodic job named " + name));
  PushOptions o;
  o.queue = cron_queue(*it, app.registry);
  auto jid = app.admin->enqueue(it->job_class, it->args, o);
  if (!jid) return action_reply(req, res, "enqueue", 0, 0, jid.status());
  action_reply(req, res, "enqueue", 1, 0, {},
               {{"jid", *jid}, {"queue", *o.queue}, {"class", it->job_class}});
}

/// Every state-changing route.
void add_action_routes(httplib::Server& server, App& app) {
  // Every state-changing route checks the CSRF token first (the body, where a
  // form's token is, has been read by the time a handler runs).
  auto guarded = [&app](auto fn) {
    return [&app, fn](const httplib::Request& req, httplib::Response& res) {
      if (!csrf_ok(app, req)) return send_csrf_refusal(res);
      fn(req, res);
    };
  };
  server.Post(
      R"(/api/sets/(scheduled|retry|retries|dead)/(retry|delete|kill|retry_all|delete_all|kill_all))",
      guarded([&app](const httplib::Request& req, httplib::Response& res) {
        const SetKind kind = *parse_set(req.matches[1].str());
        const std::string action = req.matches[2].str();
        auto out = set_action(app, kind, action, request_keys(req));
        if (!out) return action_reply(req, res, action, 0, 0, out.status());
        Json extra;
        if (out->failed) extra = {{"error", out->error}, {"code", to_string(out->code)}};
        action_reply(req, res, action, out->done, out->failed, {}, extra);
      }));

  server.Post(
      R"(/api/cron/(.+)/enqueue)",
      guarded(named(R"(^/api/cron/([^/]+)/enqueue$)",
                    [&app](const httplib::Request& req, httplib::Response& res,
                           const Names& names) { enqueue_cron_now(app, names[0], req, res); })));

  server.Post(R"(/api/queues/(.+)/(clear|pause|resume))",
              guarded(named(
                  R"(^/api/queues/([^/]+)/(clear|pause|resume)$)",
                  [&app](const httplib::Request& req, httplib::Response& res, const Names& names) {
                    const std::string& name = names[0];
                    const std::string& action = names[1];
                    if (action != "clear") {  // unsupported on stores that cannot pause
                      const Status st = app.admin->set_paused(name, action == "pause");
                      app.note_pause_result(st);
                      return action_reply(req, res, action, 1, 0, st);
                    }
                    action_reply(req, res, "clear", 1, 0, app.admin->clear_queue(name));
                  })));

  server.Post(
      R"(/api/status/(.+)/cancel)",
      guarded(named(R"(^/api/status/([^/]+)/cancel$)", [&app](const httplib::Request& req,
                                                              httplib::Response& res,
                                                              const Names& names) {
        auto st = app.admin->cancel(names[0]);
        if (!st) return action_reply(req, res, "cancel", 0, 0, st.status());
        action_reply(req, res, "cancel", 1, 0, {}, {{"jid", names[0]}, {"state", to_string(*st)}});
      })));

  server.Post(R"(/api/batches/(.+)/cancel)",
              guarded(named(
                  R"(^/api/batches/([^/]+)/cancel$)",
                  [&app](const httplib::Request& req, httplib::Response& res, const Names& names) {
                    action_reply(req, res, "cancel", 1, 0, app.admin->cancel_batch(names[0]),
                                 {{"bid", names[0]}});
                  })));

  server.Post(R"(/api/processes/(.+)/(quiet|stop))",
              guarded(named(
                  R"(^/api/processes/([^/]+)/(quiet|stop)$)",
                  [&app](const httplib::Request& req, httplib::Response& res, const Names& names) {
                    const std::string& identity = names[0];
                    const std::string& action = names[1];
                    action_reply(req, res, action, 1, 0,
                                 app.admin->signal(identity, action == "quiet" ? "TSTP" : "TERM"));
                  })));
}

}  // namespace

void add_api_routes(httplib::Server& server, App& app) {
  add_stat_routes(server, app);
  add_process_routes(server, app);
  add_job_routes(server, app);
  add_action_routes(server, app);
}

}  // namespace errand::web
