// The operator commands, all through errand::Admin (the same model the web
// dashboard uses): stats, queues, the scheduled/retry/dead sets, processes,
// and quiet/stop signals sent to a worker through the store.
#include <iostream>
#include <optional>

#include "api/display.h"
#include "cli/cli.h"
#include "core/redact.h"
#include "errand/cron.h"

namespace errand::cli {

namespace {

struct AdminFlags {
  StoreFlags store;
  bool json = false;
  std::size_t limit = 25;
  std::string name;  // queue name, jid or process identity
  bool all = false;
};

/// Runs `body` with an Admin on the configured store.
int with_admin(const StoreFlags& flags, const std::function<int(Admin&)>& body) {
  auto store = open_default_store(flags);
  if (!store) return fail_with(store.error());
  Admin admin(std::move(store).value());
  return body(admin);
}

/// --json output: strings that are not valid UTF-8 (a queue name is any
/// bytes) are written with U+FFFD in place of the bad bytes rather than
/// failing the whole command.
void print_json(const Json& out) {
  std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// ---- stats ------------------------------------------------------------------

int run_stats(const AdminFlags& f) {
  return with_admin(f.store, [&](Admin& admin) {
    auto s = admin.stats();
    if (!s) return fail_with(s.error());
    const std::vector<std::pair<std::string, std::int64_t>> rows = {
        {"processed", s->processed},
        {"failed", s->failed},
        {"enqueued", static_cast<std::int64_t>(s->enqueued)},
        {"scheduled", static_cast<std::int64_t>(s->scheduled)},
        {"retries", static_cast<std::int64_t>(s->retries)},
        {"dead", static_cast<std::int64_t>(s->dead)},
        {"processes", static_cast<std::int64_t>(s->processes)},
        {"busy", static_cast<std::int64_t>(s->busy)}};
    if (f.json) {
      Json out = Json::object();
      for (const auto& [k, v] : rows) out[k] = v;
      print_json(out);
    } else {
      for (const auto& [k, v] : rows)
        std::printf("%-10s %lld\n", k.c_str(), static_cast<long long>(v));
    }
    return kOk;
  });
}

// ---- queues -----------------------------------------------------------------

int run_queues(const AdminFlags& f) {
  return with_admin(f.store, [&](Admin& admin) {
    auto qs = admin.queues();
    if (!qs) return fail_with(qs.error());
    if (f.json) {
      Json out = Json::array();
      for (const auto& q : *qs)
        out.push_back(
            {{"name", q.name}, {"size", q.size}, {"latency", q.latency}, {"paused", q.paused}});
      print_json(out);
      return kOk;
    }
    if (qs->empty()) {
      std::cout << "no queues\n";
      return kOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& q : *qs)
      rows.push_back(
          {q.name, std::to_string(q.size), fixed(q.latency, 2) + "s", q.paused ? "paused" : ""});
    print_table({"QUEUE", "SIZE", "LATENCY", ""}, rows);
    return kOk;
  });
}

int run_queue_clear(const AdminFlags& f) {
  return with_admin(f.store, [&](Admin& admin) {
    if (auto st = admin.clear_queue(f.name); !st) return fail_with(st.error());
    std::cout << "cleared queue " << terminal_safe(f.name) << "\n";
    return kOk;
  });
}

int run_queue_pause(const AdminFlags& f, bool paused) {
  return with_admin(f.store, [&](Admin& admin) {
    if (auto st = admin.set_paused(f.name, paused); !st) return fail_with(st.error());
    std::cout << (paused ? "paused queue " : "resumed queue ") << terminal_safe(f.name) << "\n";
    return kOk;
  });
}

// ---- cron -------------------------------------------------------------------

int run_cron(const AdminFlags& f) {
  auto config = resolve_config(f.store);
  if (!config) return fail_with(config.error());
  const auto& entries = config->server.cron;
  if (entries.empty()) {
    std::cout << "no periodic jobs defined"
              << (f.store.config.empty() ? " (use -C errand.yml)" : "") << "\n";
    return kOk;
  }
  Json out = Json::array();
  std::vector<std::vector<std::string>> rows;
  const auto now = std::chrono::system_clock::now();
  for (const auto& e : entries) {
    auto expr = CronExpression::parse(e.expression);
    if (!expr) return fail_with(expr.error());
    auto next = expr->next(now, e.time_zone);
    if (!next) return fail_with(next.error());
    double at = *next ? to_epoch(**next) : 0;
    out.push_back({{"name", e.name},
                   {"cron", e.expression},
                   {"class", e.job_class},
                   {"queue", e.queue},
                   {"time_zone", e.time_zone.empty() ? "UTC" : e.time_zone},
                   {"next_run", at}});
    rows.push_back({e.name, e.expression, e.job_class, e.time_zone.empty() ? "UTC" : e.time_zone,
                    at > 0 ? relative_time(at) : "never"});
  }
  if (f.json) {
    print_json(out);
    return kOk;
  }
  print_table({"NAME", "CRON", "CLASS", "ZONE", "NEXT RUN"}, rows);
  return kOk;
}

// ---- scheduled / retries / dead ----------------------------------------------

std::string field(const Json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int run_set_list(SetKind kind, const AdminFlags& f) {
  return with_admin(f.store, [&](Admin& admin) {
    auto size = admin.size(kind);
    if (!size) return fail_with(size.error());
    auto entries = admin.list(kind, 0, f.limit);
    if (!entries) return fail_with(entries.error());
    if (f.json) {
      Json out = Json::array();
      for (const auto& e : *entries) {
        Json doc = parse_for_display(e.payload);
        out.push_back({{"score", e.score},
                       {"jid", e.jid},
                       {"payload", doc.is_discarded() ? Json(e.payload) : doc}});
      }
      print_json(out);
      return kOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : *entries) {
      Json doc = parse_for_display(e.payload);
      if (doc.is_discarded() || !doc.is_object()) doc = Json::object();
      std::string error = field(doc, "error_class");
      if (!error.empty()) error += ": " + field(doc, "error_message");
      if (error.size() > 80) error = error.substr(0, 77) + "...";
      std::string args = doc.contains("args") ? doc["args"].dump() : "";
      if (args.size() > 40) args = args.substr(0, 37) + "...";
      std::vector<std::string> row = {
          relative_time(e.score), e.jid,
          payload::display_class(doc.contains("class") ? doc : Json{{"class", "?"}}),
          field(doc, "queue"), args};
      if (kind != SetKind::scheduled) {
        row.push_back(field(doc, "retry_count"));
        row.push_back(error);
      }
      rows.push_back(std::move(row));
    }
    const char* when = kind == SetKind::dead    ? "DIED"
                       : kind == SetKind::retry ? "NEXT RETRY"
                                                : "RUN AT";
    std::vector<std::string> header = {when, "JID", "CLASS", "QUEUE", "ARGS"};
    if (kind != SetKind::scheduled) {
      header.push_back("RETRIES");
      header.push_back("ERROR");
    }
    print_table(header, rows);
    std::cout << "(" << entries->size() << " of " << *size << " shown)\n";
    return kOk;
  });
}

enum class SetAction { retry, remove, kill };

int run_set_action(SetKind kind, SetAction action, const AdminFlags& f) {
  if (f.all == !f.name.empty()) return fail_with("give either a JID or --all");
  return with_admin(f.store, [&](Admin& admin) {
    if (f.all) {
      if (action == SetAction::retry) {
        auto n = admin.retry_all(kind);
        if (!n) return fail_with(n.error());
        std::cout << "enqueued " << *n << " jobs\n";
      } else {
        if (auto st = admin.clear(kind); !st) return fail_with(st.error());
        std::cout << "deleted every job in the " << to_string(kind) << " set\n";
      }
      return kOk;
    }
    auto entry = admin.find(kind, f.name);
    if (!entry) return fail_with(entry.error());
    Status st;
    const char* done = "";
    switch (action) {
      case SetAction::retry:
        st = admin.retry_now(kind, *entry);
        done = "enqueued";
        break;
      case SetAction::remove:
        st = admin.remove(kind, *entry);
        done = "deleted";
        break;
      case SetAction::kill:
        st = admin.kill(kind, *entry);
        done = "moved to the dead set";
        break;
    }
    if (!st) return fail_with(st.error());
    std::cout << done << " " << terminal_safe(f.name) << "\n";
    return kOk;
  });
}

void add_set_commands(CLI::App& app, Context& ctx, const char* name, SetKind kind,
                      const char* description) {
  auto f = std::make_shared<AdminFlags>();
  auto* grp = app.add_subcommand(name, description);
  grp->require_subcommand(0, 1);
  add_store_flags(*grp, f->store);
  grp->add_flag("--json", f->json, "output JSON");
  grp->add_option("--limit", f->limit, "list at most this many (default 25)");
  grp->callback([&ctx, f, kind] {
    if (!ctx.action) ctx.action = [f, kind] { return run_set_list(kind, *f); };
  });

  auto* list = grp->add_subcommand("list", "List the jobs (the default)");
  list->fallthrough();
  list->callback([&ctx, f, kind] { ctx.action = [f, kind] { return run_set_list(kind, *f); }; });

  auto add_action = [&](const char* verb, const char* help, SetAction action, bool allow_all) {
    auto* cmd = grp->add_subcommand(verb, help);
    cmd->fallthrough();
    cmd->add_option("jid", f->name, "the job's jid");
    if (allow_all) cmd->add_flag("--all", f->all, "every job in the set");
    cmd->callback([&ctx, f, kind, action] {
      ctx.action = [f, kind, action] { return run_set_action(kind, action, *f); };
    });
  };
  add_action("retry", "Enqueue the job now", SetAction::retry, true);
  add_action("delete", "Delete the job", SetAction::remove, true);
  if (kind != SetKind::dead)
    add_action("kill", "Move the job to the dead set", SetAction::kill, false);
}

// ---- processes, quiet, stop ---------------------------------------------------

int run_processes(const AdminFlags& f) {
  return with_admin(f.store, [&](Admin& admin) {
    auto procs = admin.processes();
    if (!procs) return fail_with(procs.error());
    auto work = admin.workers();
    if (!work) return fail_with(work.error());
    if (f.json) {
      Json out = {{"processes", Json::array()}, {"workers", Json::array()}};
      for (const auto& p : *procs)
        out["processes"].push_back({{"identity", p.identity},
                                    {"info", p.info},
                                    {"busy", p.busy},
                                    {"beat", p.beat},
                                    {"quiet", p.quiet},
                                    {"rss_kb", p.rss_kb}});
      for (const auto& w : *work) {
        Json doc = parse_for_display(w.payload);
        out["workers"].push_back({{"process", w.process},
                                  {"thread", w.thread},
                                  {"queue", w.queue},
                                  {"run_at", w.run_at},
                                  {"payload", doc.is_discarded() ? Json(w.payload) : doc}});
      }
      print_json(out);
      return kOk;
    }
    if (procs->empty()) {
      std::cout << "no processes\n";
      return kOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : *procs) {
      auto info = [&](const char* k) {
        return field(p.info.is_object() ? p.info : Json::object(), k);
      };
      rows.push_back({p.identity, info("tag"), std::to_string(p.busy) + "/" + info("concurrency"),
                      info("queues"), relative_time(p.beat), p.quiet ? "quiet" : "",
                      std::to_string(p.rss_kb / 1024) + " MB"});
    }
    print_table({"IDENTITY", "TAG", "BUSY", "QUEUES", "BEAT", "STATE", "RSS"}, rows);
    if (!work->empty()) {
      std::cout << "\n";
      rows.clear();
      for (const auto& w : *work) {
        Json doc = parse_for_display(w.payload);
        if (doc.is_discarded() || !doc.is_object()) doc = Json::object();
        rows.push_back({w.process, w.thread, w.queue, field(doc, "class"), field(doc, "jid"),
                        relative_time(w.run_at)});
      }
      print_table({"PROCESS", "THREAD", "QUEUE", "CLASS", "JID", "STARTED"}, rows);
    }
    return kOk;
  });
}

int run_signal(const AdminFlags& f, const std::string& sig) {
  return with_admin(f.store, [&](Admin& admin) {
    // A signal to an identity nobody reads would be silently lost: check first.
    auto procs = admin.processes();
    if (!procs) return fail_with(procs.error());
    bool known = false;
    for (const auto& p : *procs) known = known || p.identity == f.name;
    if (!known) return fail_with("no live process '" + f.name + "' (see `errand processes`)");
    if (auto st = admin.signal(f.name, sig); !st) return fail_with(st.error());
    std::cout << (sig == "TSTP" ? "asked " + f.name + " to quiet" : "asked " + f.name + " to stop")
              << " (it acts on its next heartbeat)\n";
    return kOk;
  });
}

}  // namespace

// `pause NAME` and `resume NAME` under `queues` and under `queue`.
static void add_pause_commands(CLI::App& grp, Context& ctx, const std::shared_ptr<AdminFlags>& f) {
  for (bool paused : {true, false}) {
    auto* cmd =
        grp.add_subcommand(paused ? "pause" : "resume",
                           paused ? "Stop fetching a queue, cluster-wide (jobs are still accepted)"
                                  : "Fetch a paused queue again");
    cmd->fallthrough();
    cmd->add_option("name", f->name, "queue name")->required();
    cmd->callback(
        [&ctx, f, paused] { ctx.action = [f, paused] { return run_queue_pause(*f, paused); }; });
  }
}

void add_admin_commands(CLI::App& app, Context& ctx) {
  {
    auto f = std::make_shared<AdminFlags>();
    auto* cmd = app.add_subcommand("stats", "Counters: processed, failed, enqueued, ...");
    add_store_flags(*cmd, f->store);
    cmd->add_flag("--json", f->json, "output JSON");
    cmd->callback([&ctx, f] { ctx.action = [f] { return run_stats(*f); }; });
  }
  {
    auto f = std::make_shared<AdminFlags>();
    auto* grp = app.add_subcommand("queues", "List queues (name, size, latency)");
    grp->require_subcommand(0, 1);
    add_store_flags(*grp, f->store);
    grp->add_flag("--json", f->json, "output JSON");
    grp->callback([&ctx, f] {
      if (!ctx.action) ctx.action = [f] { return run_queues(*f); };
    });
    auto* clear = grp->add_subcommand("clear", "Delete every waiting job of a queue");
    clear->fallthrough();
    clear->add_option("name", f->name, "queue name")->required();
    clear->callback([&ctx, f] { ctx.action = [f] { return run_queue_clear(*f); }; });
    add_pause_commands(*grp, ctx, f);
  }
  {
    // `errand queue pause|resume NAME`, the singular spelling.
    auto f = std::make_shared<AdminFlags>();
    auto* grp = app.add_subcommand("queue", "Pause or resume one queue");
    grp->require_subcommand(1);
    add_store_flags(*grp, f->store);
    add_pause_commands(*grp, ctx, f);
  }
  {
    auto f = std::make_shared<AdminFlags>();
    auto* cmd =
        app.add_subcommand("cron", "List the periodic jobs of a config (-C) and their next run");
    add_store_flags(*cmd, f->store);
    cmd->add_flag("--json", f->json, "output JSON");
    cmd->callback([&ctx, f] { ctx.action = [f] { return run_cron(*f); }; });
  }
  add_set_commands(app, ctx, "scheduled", SetKind::scheduled, "Jobs scheduled for later");
  add_set_commands(app, ctx, "retries", SetKind::retry, "Failed jobs waiting for a retry");
  add_set_commands(app, ctx, "dead", SetKind::dead, "Jobs that exhausted their retries");
  {
    auto f = std::make_shared<AdminFlags>();
    auto* cmd = app.add_subcommand("processes", "Live worker processes and what they run");
    add_store_flags(*cmd, f->store);
    cmd->add_flag("--json", f->json, "output JSON");
    cmd->callback([&ctx, f] { ctx.action = [f] { return run_processes(*f); }; });
  }
  for (auto [verb, sig, help] :
       {std::tuple{"quiet", "TSTP", "Ask a worker process to stop fetching new jobs"},
        std::tuple{"stop", "TERM", "Ask a worker process to shut down gracefully"}}) {
    auto f = std::make_shared<AdminFlags>();
    auto* cmd = app.add_subcommand(verb, help);
    cmd->add_option("identity", f->name, "the process identity (see `errand processes`)")
        ->required();
    add_store_flags(*cmd, f->store);
    std::string s = sig;
    cmd->callback([&ctx, f, s] { ctx.action = [f, s] { return run_signal(*f, s); }; });
  }
}

}  // namespace errand::cli
