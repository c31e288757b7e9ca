// The web dashboard, in-process: every page and API endpoint against a
// memory and a SQLite store holding jobs in every set; CSRF, auth, escaping,
// redaction, actions, and /metrics checked by a strict text-format parser.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "errand/errand.h"
#include "support/wall.h"
#include "web/app.h"
#include "web/html.h"
#include "web/metrics.h"
#include "web/web_server.h"

using errand::testing::wall;

namespace errand {
namespace {

constexpr const char* kEvil = "<script>alert(1)</script>";

CronEntry cron_entry(std::string name, std::string expression) {
  CronEntry e;
  e.name = std::move(name);
  e.expression = std::move(expression);
  e.job_class = "BuildSalesReport";
  return e;
}

// ---- a strict parser for the Prometheus text format 0.0.4 -------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
struct Exposition {
  std::map<std::string, std::string> types;  // family → type
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;
  double value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels) return s.value;
    ADD_FAILURE() << "no sample " << name;
    return NAN;
  }
};

bool valid_metric_name(const std::string& n) {
  static const std::regex re("^[a-zA-Z_:][a-zA-Z0-9_:]*$");
  return std::regex_match(n, re);
}

/// Parses `text` into `out`; any deviation from the format is a test failure.
void parse_into(const std::string& text, Exposition& out) {
  EXPECT_TRUE(!text.empty() && text.back() == '\n') << "exposition must end with a newline";
  std::set<std::string> families_with_samples;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    SCOPED_TRACE("line " + std::to_string(line_no) + ": " + line);
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream in(line.substr(1));
      std::string kw, name;
      in >> kw >> name;
      if (kw != "HELP" && kw != "TYPE") continue;  // a plain comment
      EXPECT_TRUE(valid_metric_name(name));
      std::string rest;
      std::getline(in, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (kw == "TYPE") {
        static const std::set<std::string> kTypes{"counter", "gauge", "histogram", "summary",
                                                  "untyped"};
        EXPECT_TRUE(kTypes.count(rest)) << "bad type " << rest;
        EXPECT_FALSE(out.types.count(name)) << "second TYPE for " << name;
        EXPECT_FALSE(families_with_samples.count(name)) << "TYPE after samples of " << name;
        out.types[name] = rest;
      } else {
        EXPECT_FALSE(out.help.count(name)) << "second HELP for " << name;
        for (std::size_t i = 0; i < rest.size(); ++i)
          if (rest[i] == '\\') {
            ASSERT_LT(i + 1, rest.size());
            EXPECT_TRUE(rest[i + 1] == '\\' || rest[i + 1] == 'n') << "bad HELP escape";
            ++i;
          }
        out.help[name] = rest;
      }
      continue;
    }
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    EXPECT_TRUE(valid_metric_name(s.name)) << s.name;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        ASSERT_NE(eq, std::string::npos);
        std::string lname = line.substr(i, eq - i);
        static const std::regex label_re("^[a-zA-Z_][a-zA-Z0-9_]*$");
        EXPECT_TRUE(std::regex_match(lname, label_re)) << "label name " << lname;
        i = eq + 1;
        ASSERT_LT(i, line.size());
        ASSERT_EQ(line[i], '"') << "label value must be quoted";
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '\\') {
            ASSERT_LT(i, line.size());
            char e = line[i++];
            ASSERT_TRUE(e == '\\' || e == '"' || e == 'n') << "bad label escape \\" << e;
            value += e == 'n' ? '\n' : e;
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value += c;
          }
        }
        ASSERT_TRUE(closed) << "unterminated label value";
        EXPECT_FALSE(s.labels.count(lname)) << "duplicate label " << lname;
        s.labels[lname] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ASSERT_LT(i, line.size());
      ++i;  // '}'
    }
    ASSERT_LT(i, line.size());
    ASSERT_EQ(line[i], ' ') << "one space before the value";
    std::string rest = line.substr(i + 1);
    std::string num = rest.substr(0, rest.find(' '));
    if (num == "NaN") {
      s.value = NAN;
    } else if (num == "+Inf") {
      s.value = INFINITY;
    } else if (num == "-Inf") {
      s.value = -INFINITY;
    } else {
      char* end = nullptr;
      s.value = std::strtod(num.c_str(), &end);
      EXPECT_TRUE(end && *end == '\0' && !num.empty()) << "bad value " << num;
    }
    // The family: the name itself, or a histogram's _bucket/_sum/_count.
    std::string family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string sx = suffix;
      if (!out.types.count(family) && s.name.size() > sx.size() &&
          s.name.compare(s.name.size() - sx.size(), sx.size(), sx) == 0) {
        std::string base = s.name.substr(0, s.name.size() - sx.size());
        if (out.types.count(base) && out.types[base] == "histogram") family = base;
      }
    }
    EXPECT_TRUE(out.types.count(family)) << "sample before its TYPE: " << s.name;
    if (out.types[family] == "histogram" && s.name == family + "_bucket") {
      EXPECT_TRUE(s.labels.count("le")) << "bucket without le";
    }
    families_with_samples.insert(family);
    out.samples.push_back(std::move(s));
  }
}

Exposition parse_prometheus(const std::string& text) {
  Exposition out;
  parse_into(text, out);
  return out;
}

// ---- fixtures -------------------------------------------------------------------

std::string make_payload(const std::string& cls, const Json& args, const std::string& queue,
                         const std::string& jid, double now, Json extra = Json::object()) {
  Json doc = {{"class", cls},           {"args", args},
              {"queue", queue},         {"jid", jid},
              {"retry", true},          {"created_at", now - 100},
              {"enqueued_at", now - 50}};
  for (auto& [k, v] : extra.items()) doc[k] = v;
  return payload::dump(doc);
}

struct Seeded {
  std::size_t scheduled = 0, retries = 0, dead = 0;
  std::string identity;
};

/// Puts jobs in every queue and set, a live process running one job, and counters.
Seeded seed(Store& store) {
  Seeded s;
  const double now = to_epoch(std::chrono::system_clock::now());
  std::vector<PushItem> items;
  for (int i = 0; i < 3; ++i) {
    const std::string jid = payload::new_jid();
    items.push_back({"default", jid, make_payload("HardJob", {i, "x"}, "default", jid, now)});
  }
  {
    const std::string jid = payload::new_jid();
    items.push_back({"mailers", jid, make_payload("MailJob", {kEvil}, "mailers", jid, now)});
  }
  for (int i = 0; i < 4; ++i) {
    const std::string jid = payload::new_jid();
    Json args = i == 0 ? Json::array({kEvil}) : Json::array({i});
    items.push_back(
        {"default", jid, make_payload("LaterJob", args, "default", jid, now), now + 3600 + i});
    ++s.scheduled;
  }
  store.push({.jobs = items, .now = wall()}).check();

  // Retry and dead entries: push to a side queue, fetch, fail.
  auto fail_one = [&](bool dead, const Json& args, Json extra) {
    const std::string jid = payload::new_jid();
    Json e = {{"error_class", "RuntimeError"},
              {"error_message", std::string("boom ") + kEvil},
              {"failed_at", now - 10},
              {"retry_count", 2},
              {"error_backtrace", Json::array({"a.cc:1", "b.cc:2"})}};
    for (auto& [k, v] : extra.items()) e[k] = v;
    const std::string p = make_payload("FailJob", args, "side", jid, now, e);
    std::vector<PushItem> one{{"side", jid, p}};
    store.push({.jobs = one, .now = wall()}).check();
    std::vector<std::string> qs{"side"};
    auto got = store
                   .fetch({.queues = qs,
                           .max = 1,
                           .wait = std::chrono::milliseconds(0),
                           .owner = "seed",
                           .now = wall()})
                   .value();
    EXPECT_EQ(got.size(), 1u);
    if (dead)
      store.kill({.job = got[0], .jid = jid, .payload = p, .now = now - 5, .limits = DeadLimits{}})
          .check();
    else
      store.retry({.job = got[0], .jid = jid, .payload = p, .at = now + 600, .now = wall()})
          .check();
  };
  fail_one(false, Json::array({kEvil}), {});
  fail_one(false, Json::array({1, 2}), {});
  fail_one(false, Json::array({"secret-card-4242"}), {{"redact", true}});
  s.retries = 3;
  fail_one(true, Json::array({kEvil}), {});
  fail_one(true, Json::array({"dead-1"}), {});
  s.dead = 2;

  ProcessBeat beat;
  beat.identity = "web-test-host:4242:abc";
  s.identity = beat.identity;
  beat.info = {{"hostname", "web-test-host"},
               {"pid", 4242},
               {"concurrency", 5},
               {"queues", {"default", "mailers"}},
               {"started_at", now - 60},
               {"tag", "<b>tag</b>"},
               {"labels", Json::array({"<i>l</i>"})},
               {"identity", beat.identity},
               {"version", "0.1.0"}};
  beat.busy = 1;
  beat.beat = now;
  beat.rss_kb = 51200;
  WorkRecord w;
  w.process = beat.identity;
  w.thread = "t1";
  w.queue = "default";
  w.payload = make_payload("RunningJob", {kEvil}, "default", payload::new_jid(), now);
  w.run_at = now - 3;
  beat.work.push_back(w);
  beat.processed = 42;
  beat.failed = 7;
  (void)store.heartbeat(beat).value();
  return s;
}

class WebTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { open(web::WebOptions{}); }
  void TearDown() override {
    web_.reset();
    store_.reset();
    if (!db_path_.empty()) std::filesystem::remove(db_path_);
  }

  void open(web::WebOptions o) {
    web_.reset();
    if (!store_) {
      static int counter = 0;
      std::string url;
      if (GetParam() == "sqlite") {
        db_path_ = (std::filesystem::temp_directory_path() /
                    ("errand-web-test-" + std::to_string(getpid()) + "-" +
                     std::to_string(++counter) + ".db"))
                       .string();
        std::filesystem::remove(db_path_);
        url = "sqlite://" + db_path_;
      } else {
        url = "memory://web-test-" + std::to_string(++counter);
      }
      store_ = open_store(url).value();
      seeded_ = seed(*store_);
    }
    admin_ = std::make_shared<Admin>(store_);
    o.bind = "127.0.0.1";
    o.port = 0;
    web_ = std::make_unique<web::WebServer>(admin_, o);
    ASSERT_TRUE(web_->start().ok());
  }

  /// Serves the dashboard with `e` as its one periodic job; its /cron page.
  httplib::Result open_with_cron(const CronEntry& e) {
    web::WebOptions o;
    o.cron = {e};
    open(o);
    return client().Get("/cron");
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", web_->port());
    c.set_read_timeout(10, 0);
    return c;
  }

  /// A session cookie and its CSRF token.
  std::pair<std::string, std::string> session(httplib::Client& c) {
    auto r = c.Get("/api/csrf");
    EXPECT_TRUE(r && r->status == 200);
    std::string cookie = r->get_header_value("Set-Cookie");
    cookie = cookie.substr(0, cookie.find(';'));
    return {cookie, Json::parse(r->body)["token"].get<std::string>()};
  }

  Json get_json(const std::string& path, httplib::Headers h = {}) {
    auto c = client();
    auto r = c.Get(path.c_str(), h);
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << path << ": " << r->body;
    EXPECT_NE(r->get_header_value("Content-Type").find("application/json"), std::string::npos);
    return Json::parse(r->body, nullptr, false);
  }

  std::string key_of(const std::string& set, std::size_t i = 0) {
    return get_json("/api/sets/" + set)["entries"][i]["key"].get<std::string>();
  }

  std::shared_ptr<Store> store_;
  std::shared_ptr<Admin> admin_;
  std::unique_ptr<web::WebServer> web_;
  Seeded seeded_;
  std::string db_path_;
};

TEST_P(WebTest, EveryPageRendersWithSecurityHeaders) {
  auto c = client();
  const std::vector<std::string> pages = {"/",
                                          "/queues",
                                          "/queues/default",
                                          "/busy",
                                          "/scheduled",
                                          "/retries",
                                          "/dead",
                                          "/cron",
                                          "/retries?q=FailJob",
                                          "/dead?offset=1&limit=1"};
  for (const auto& p : pages) {
    auto r = c.Get(p.c_str());
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->status, 200) << p;
    EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos) << p;
    const std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << p;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << p;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->body.find("<script>"), std::string::npos) << "inline script on " << p;
    EXPECT_EQ(r->body.find(" style=\""), std::string::npos) << "inline style on " << p;
  }
  // Job detail pages, one per set.
  for (std::string set : {"scheduled", "retry", "dead"}) {
    const std::string key = key_of(set);
    auto r = c.Get(("/jobs/" + set + "/" + key).c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << set;
    EXPECT_NE(r->body.find("Payload"), std::string::npos);
  }
  auto missing = c.Get("/jobs/dead/1.5-nosuchjid");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto cron = c.Get("/cron");
  EXPECT_NE(cron->body.find("No periodic jobs defined"), std::string::npos);
  auto busy = c.Get("/busy");
  EXPECT_NE(busy->body.find("web-test-host"), std::string::npos);
  EXPECT_NE(busy->body.find("RunningJob"), std::string::npos);
  EXPECT_NE(busy->body.find("50 MB"), std::string::npos);
}

// Issue #17 item 3: every page the dashboard links to has its JSON twin at
// the same path under /api/. The pages are found by following the links of
// the overview and of every page it links to, not from a list kept here.
TEST_P(WebTest, EveryPagePathHasItsJsonTwinUnderApi) {
  auto c = client();
  std::set<std::string> pages = {"/"}, visited;
  const std::regex href(R"re(href="(/[^"?#]*))re");
  for (int depth = 0; depth < 2; ++depth) {
    std::set<std::string> next;
    for (const auto& page : pages) {
      if (!visited.insert(page).second) continue;
      auto r = c.Get(page.c_str());
      ASSERT_TRUE(r) << page;
      ASSERT_EQ(r->status, 200) << page;
      for (std::sregex_iterator it(r->body.begin(), r->body.end(), href), end; it != end; ++it) {
        const std::string path = (*it)[1].str();
        if (path.rfind("/assets/", 0) == 0 || path.rfind("/api/", 0) == 0 || path == "/login" ||
            path == "/metrics" || path == "/healthz")
          continue;
        next.insert(path);
      }
    }
    pages.insert(next.begin(), next.end());
  }
  for (const std::string want :
       {"/", "/queues", "/queues/default", "/busy", "/scheduled", "/retries", "/dead", "/cron"})
    EXPECT_TRUE(pages.count(want)) << want << " is not linked from the dashboard";
  EXPECT_TRUE(std::any_of(pages.begin(), pages.end(),
                          [](const std::string& p) { return p.rfind("/jobs/", 0) == 0; }));
  for (const auto& page : pages) {
    const std::string twin = "/api" + page;
    auto r = c.Get(twin.c_str());
    ASSERT_TRUE(r) << twin;
    EXPECT_EQ(r->status, 200) << page << " has no JSON twin at " << twin;
    EXPECT_NE(r->get_header_value("Content-Type").find("application/json"), std::string::npos)
        << twin;
  }
  // The old names still answer.
  for (const char* old : {"/api/sets/retry", "/api/sets/dead", "/api/sets/scheduled",
                          "/api/processes", "/api/workers", "/api/stats"})
    EXPECT_EQ(get_json(old).is_object(), true) << old;
  EXPECT_EQ(get_json("/api/retries")["total"], get_json("/api/sets/retry")["total"]);
  EXPECT_EQ(get_json("/api/busy")["workers"].size(), 1u);
}

TEST_P(WebTest, ApiExposesEverything) {
  auto stats = get_json("/api/stats");
  EXPECT_EQ(stats["processed"], 42);
  EXPECT_EQ(stats["failed"], 7);
  EXPECT_EQ(stats["scheduled"], seeded_.scheduled);
  EXPECT_EQ(stats["retries"], seeded_.retries);
  EXPECT_EQ(stats["dead"], seeded_.dead);
  EXPECT_EQ(stats["processes"], 1);

  auto queues = get_json("/api/queues")["queues"];
  std::map<std::string, std::size_t> sizes;
  for (auto& q : queues) sizes[q["name"]] = q["size"];
  EXPECT_EQ(sizes["default"], 3u);
  EXPECT_EQ(sizes["mailers"], 1u);
  auto q = get_json("/api/queues/default?limit=2");
  EXPECT_EQ(q["jobs"].size(), 2u);
  EXPECT_EQ(q["jobs"][0]["class"], "HardJob");

  auto procs = get_json("/api/processes")["processes"];
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0]["identity"], seeded_.identity);
  EXPECT_EQ(procs[0]["rss_kb"], 51200);
  auto workers = get_json("/api/workers")["workers"];
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0]["job"]["class"], "RunningJob");
  EXPECT_GE(workers[0]["elapsed"].get<double>(), 2.0);

  auto sched = get_json("/api/sets/scheduled?limit=2");
  EXPECT_EQ(sched["total"], seeded_.scheduled);
  EXPECT_EQ(sched["entries"].size(), 2u);
  auto page2 = get_json("/api/sets/scheduled?limit=2&offset=2");
  EXPECT_EQ(page2["entries"].size(), 2u);
  EXPECT_NE(page2["entries"][0]["key"], sched["entries"][0]["key"]);

  // Search: by class, by args, by jid.
  EXPECT_EQ(get_json("/api/sets/retry?q=failjob")["total"], 3);
  EXPECT_EQ(get_json("/api/sets/scheduled?q=alert")["total"], 1);
  const std::string jid = sched["entries"][1]["jid"];
  EXPECT_EQ(get_json("/api/sets/scheduled?q=" + jid)["total"], 1);
  EXPECT_EQ(get_json("/api/sets/dead?q=nothing-matches-this")["total"], 0);

  auto dead = get_json("/api/sets/dead")["entries"];
  ASSERT_EQ(dead.size(), 2u);
  auto job = get_json("/api/jobs/dead/" + dead[0]["key"].get<std::string>());
  EXPECT_EQ(job["error_class"], "RuntimeError");
  EXPECT_EQ(job["retry_count"], 2);
  EXPECT_TRUE(job["payload"].is_object());
  EXPECT_EQ(job["error_backtrace"].size(), 2u);

  auto hist = get_json("/api/history?days=30");
  EXPECT_EQ(hist["days"].size(), 30u);
  EXPECT_EQ(hist["processed"].size(), 30u);
  EXPECT_EQ(get_json("/api/cron")["entries"].size(), 0u);
}

TEST_P(WebTest, PostsWithoutTheCsrfTokenAreRefusedAndChangeNothing) {
  auto c = client();
  const std::string key = key_of("dead");
  const std::string body = "key=" + web::url_encode(key);
  // No session at all.
  auto r = c.Post("/api/sets/dead/delete", body, "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  // A session, the wrong token.
  auto [cookie, token] = session(c);
  httplib::Headers h{{"Cookie", cookie}};
  r = c.Post("/api/sets/dead/delete", h, body + "&_csrf=" + std::string(64, 'a'),
             "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  // The right token from another site.
  httplib::Headers cross{{"Cookie", cookie}, {"Origin", "http://evil.example"}};
  r = c.Post("/api/sets/dead/delete", cross, body + "&_csrf=" + token,
             "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  // The other actions are guarded too.
  for (const char* path :
       {"/api/queues/default/clear", "/api/sets/retry/retry_all", "/api/processes/x/stop"}) {
    auto rr = c.Post(path, h, "", "application/x-www-form-urlencoded");
    ASSERT_TRUE(rr);
    EXPECT_EQ(rr->status, 403) << path;
  }
  EXPECT_EQ(admin_->size(SetKind::dead).value(), seeded_.dead);
  EXPECT_EQ(admin_->size(SetKind::retry).value(), seeded_.retries);
  EXPECT_EQ(admin_->stats()->enqueued, 4u);

  // The right token, same origin: done.
  httplib::Headers ok{{"Cookie", cookie},
                      {"X-CSRF-Token", token},
                      {"Origin", "http://127.0.0.1:" + std::to_string(web_->port())}};
  r = c.Post("/api/sets/dead/delete", ok, Json{{"keys", {key}}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(admin_->size(SetKind::dead).value(), seeded_.dead - 1);
}

TEST_P(WebTest, ActionsRetryKillDeleteClearQuietAndRedirectForms) {
  auto c = client();
  auto [cookie, token] = session(c);
  httplib::Headers h{{"Cookie", cookie}, {"X-CSRF-Token", token}};
  auto post = [&](const std::string& path, const std::vector<std::string>& keys) {
    Json body = {{"keys", keys}};
    auto r = c.Post(path.c_str(), h, body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    return r ? Json::parse(r->body, nullptr, false) : Json();
  };
  const auto before = admin_->stats().value();
  // Kill one retry → dead.
  auto out = post("/api/sets/retry/kill", {key_of("retry", 0)});
  EXPECT_EQ(out["done"], 1);
  EXPECT_EQ(admin_->size(SetKind::retry).value(), seeded_.retries - 1);
  EXPECT_EQ(admin_->size(SetKind::dead).value(), seeded_.dead + 1);
  // Retry two dead ones → their queue.
  out = post("/api/sets/dead/retry", {key_of("dead", 0), key_of("dead", 1)});
  EXPECT_EQ(out["done"], 2);
  EXPECT_EQ(admin_->stats()->enqueued, before.enqueued + 2);
  // Delete a scheduled one; a stale key reports a failure.
  const std::string k = key_of("scheduled", 0);
  out = post("/api/sets/scheduled/delete", {k});
  EXPECT_EQ(out["done"], 1);
  out = post("/api/sets/scheduled/delete", {k});
  EXPECT_EQ(out["failed"], 1);
  EXPECT_EQ(admin_->size(SetKind::scheduled).value(), seeded_.scheduled - 1);

  // Queue clear; pause is not supported by these stores.
  auto r = c.Post("/api/queues/mailers/clear", h, "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Post("/api/queues/default/pause", h, "", "application/json");
  ASSERT_TRUE(r);
  if (r->status == 409) {  // this store cannot pause: the page says so from now on
    EXPECT_EQ(get_json("/api/queues")["pause_supported"], false);
    EXPECT_NE(c.Get("/queues")->body.find("disabled title=\"pausing"), std::string::npos);
    EXPECT_EQ(get_json("/api/queues")["pause_supported"], false);
  } else {
    EXPECT_EQ(r->status, 200) << r->body;
    bool paused = false;
    const Json listed = get_json("/api/queues");
    for (const auto& q : listed["queues"])
      if (q["name"] == "default") paused = q["paused"];
    EXPECT_TRUE(paused);
    auto page = c.Get("/queues");
    EXPECT_NE(page->body.find("/api/queues/default/resume"), std::string::npos);
    r = c.Post("/api/queues/default/resume", h, "", "application/json");
    EXPECT_EQ(r->status, 200);
  }

  // Quiet a process: the signal reaches it on its next heartbeat.
  r = c.Post(("/api/processes/" + web::url_encode(seeded_.identity) + "/quiet").c_str(), h, "",
             "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  ProcessBeat beat;
  beat.identity = seeded_.identity;
  beat.beat = to_epoch(std::chrono::system_clock::now());
  auto signals = store_->heartbeat(beat).value();
  ASSERT_EQ(signals.size(), 1u);
  EXPECT_EQ(signals[0], "TSTP");

  // A form post is answered with a redirect to a local page only.
  const std::string form = "_csrf=" + token + "&back=" + web::url_encode("//evil.example/x") +
                           "&key=" + web::url_encode(key_of("retry", 0));
  r = c.Post("/api/sets/retry/delete", httplib::Headers{{"Cookie", cookie}}, form,
             "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(r->get_header_value("Location").rfind("/?done=delete&n=1", 0), 0u)
      << r->get_header_value("Location");
}

TEST_P(WebTest, CronPageListsEntriesWithTheirTimes) {
  CronEntry e = cron_entry("nightly<b>", "0 3 * * *");
  e.time_zone = "Europe/Paris";
  auto page = open_with_cron(e);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("nightly&lt;b&gt;"), std::string::npos) << "escaped";
  EXPECT_EQ(page->body.find("nightly<b>"), std::string::npos);
  EXPECT_NE(page->body.find("Europe/Paris"), std::string::npos);
  auto api = get_json("/api/cron");
  ASSERT_EQ(api["entries"].size(), 1u);
  const double now = SystemClock::instance().epoch();
  EXPECT_GT(api["entries"][0]["next_run"].get<double>(), now);
  EXPECT_LE(api["entries"][0]["next_run"].get<double>(), now + 86400 + 3600);
  EXPECT_LE(api["entries"][0]["last_tick"].get<double>(), now);
  EXPECT_GT(api["entries"][0]["last_tick"].get<double>(), now - 86400 - 3600);
}

TEST(WebCronTimes, LastTickIsTheMostRecentOneForEveryKindOfSchedule) {
  const double now = 1'800'000'000.5;  // 2027-01-15 08:00:00.5 UTC
  struct Case {
    std::string expr;
    double last, next;
  };
  for (const auto& c : std::vector<Case>{
           {"*/2 * * * * *", 1'800'000'000, 1'800'000'002},
           {"* * * * *", 1'800'000'000, 1'800'000'060},
           {"0 3 * * *", 1'799'982'000, 1'800'068'400},
           {"0 0 1 1 *", 1'798'761'600, 1'830'297'600},  // yearly, two weeks ago
           {"0 0 1 6 *", 0, 1'811'808'000},              // beyond the look-back: 0
       }) {
    auto t = web::cron_times(cron_entry("x", c.expr), now);
    EXPECT_EQ(t.next, c.next) << c.expr;
    EXPECT_EQ(t.last, c.last) << c.expr;
  }
}

TEST_P(WebTest, CronEnqueueNowPushesTheEntryWithItsArgumentsAndNeedsCsrf) {
  CronEntry e = cron_entry("hourly report", "0 * * * *");
  e.args = Json::array({"eu", 7});
  e.queue = "reports";
  auto page = open_with_cron(e);
  ASSERT_TRUE(page);
  auto c = client();
  EXPECT_NE(page->body.find("action=\"/api/cron/hourly%20report/enqueue\""), std::string::npos);
  auto size_of = [&](const std::string& q) -> std::size_t {
    const auto queues = admin_->queues().value();  // a copy: the Result is a temporary
    for (const auto& info : queues)
      if (info.name == q) return info.size;
    return 0;
  };
  ASSERT_EQ(size_of("reports"), 0u);

  // Without the session's token: refused, nothing enqueued.
  auto r = c.Post("/api/cron/hourly%20report/enqueue", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(size_of("reports"), 0u);

  auto [cookie, token] = session(c);
  httplib::Headers h{{"Cookie", cookie}, {"X-CSRF-Token", token}};
  r = c.Post("/api/cron/hourly%20report/enqueue", h, "", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const Json out = Json::parse(r->body);
  EXPECT_EQ(out["done"], 1);
  EXPECT_EQ(out["queue"], "reports");
  ASSERT_EQ(size_of("reports"), 1u);
  const std::vector<std::string> queues{"reports"};
  auto fetched = store_
                     ->fetch({.queues = queues,
                              .max = 1,
                              .wait = std::chrono::milliseconds(0),
                              .owner = "test-owner",
                              .now = wall()})
                     .value();
  ASSERT_EQ(fetched.size(), 1u);
  const Json job = Json::parse(fetched[0].payload);
  EXPECT_EQ(job["class"], "BuildSalesReport");
  EXPECT_EQ(job["args"], Json::array({"eu", 7}));
  EXPECT_EQ(job["jid"], out["jid"]);

  // A form post redirects back to /cron with a flash; an unknown name is 404.
  r = c.Post("/api/cron/hourly%20report/enqueue", httplib::Headers{{"Cookie", cookie}},
             "_csrf=" + token + "&back=%2Fcron", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
  EXPECT_EQ(r->get_header_value("Location"), "/cron?done=enqueue&n=1");
  EXPECT_EQ(size_of("reports"), 1u) << "the form pushed a second job";
  r = c.Post("/api/cron/nope/enqueue", h, "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_P(WebTest, UserStringsAreEscapedEverywhere) {
  auto c = client();
  auto home = c.Get("/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->body.find(kEvil), std::string::npos);
  std::vector<std::string> pages = {"/queues/mailers", "/busy",
                                    "/scheduled",      "/retries",
                                    "/dead",           "/busy?q=" + web::url_encode(kEvil)};
  for (std::string set : {"scheduled", "retry", "dead"}) {
    auto entries = get_json("/api/sets/" + set + "?q=alert")["entries"];
    ASSERT_FALSE(entries.empty()) << set;
    pages.push_back("/jobs/" + set + "/" + entries[0]["key"].get<std::string>());
  }
  for (const auto& p : pages) {
    auto r = c.Get(p.c_str());
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->status, 200) << p;
    EXPECT_EQ(r->body.find(kEvil), std::string::npos) << "unescaped on " << p;
    EXPECT_EQ(r->body.find("<b>tag</b>"), std::string::npos) << p;
    EXPECT_NE(r->body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos)
        << "not shown on " << p;
  }
}

TEST_P(WebTest, RedactedArgumentsNeverLeave) {
  Registry registry;
  JobDescriptor d;
  d.name = "HardJob";
  d.redact_args = true;
  registry.add(d);
  web::WebOptions o;
  o.registry = &registry;
  open(o);
  auto c = client();
  for (const char* p : {"/retries", "/queues/default", "/api/sets/retry", "/api/queues/default",
                        "/retries?q=secret"}) {
    auto r = c.Get(p);
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->body.find("secret-card-4242"), std::string::npos) << p;
  }
  EXPECT_EQ(get_json("/api/sets/retry?q=secret-card")["total"], 0);  // no search oracle
  auto entries = get_json("/api/sets/retry?q=FailJob")["entries"];
  bool saw = false;
  for (auto& e : entries)
    if (e["redacted"] == true) {
      saw = true;
      EXPECT_EQ(e["args"], "[REDACTED]");
      auto page = c.Get(("/jobs/retry/" + web::url_encode(e["key"].get<std::string>())).c_str());
      EXPECT_EQ(page->body.find("secret-card-4242"), std::string::npos);
      EXPECT_NE(page->body.find("[REDACTED]"), std::string::npos);
      auto full = get_json("/api/jobs/retry/" + e["key"].get<std::string>());
      EXPECT_EQ(full["payload"]["args"], "[REDACTED]");
    }
  EXPECT_TRUE(saw);
  auto q = get_json("/api/queues/default");
  for (auto& j : q["jobs"]) EXPECT_EQ(j["args"], "[REDACTED]");
}

TEST_P(WebTest, TokenAuth) {
  web::WebOptions o;
  o.token = "s3cret-token";
  open(o);
  auto c = client();
  auto r = c.Get("/api/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Get("/api/stats", httplib::Headers{{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r->status, 401);
  r = c.Get("/metrics", httplib::Headers{{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r->status, 401);
  r = c.Get("/api/stats", httplib::Headers{{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(r->status, 200);
  // A Bearer client needs no CSRF token (a browser never adds that header).
  r = c.Post("/api/queues/mailers/clear",
             httplib::Headers{{"Authorization", "Bearer s3cret-token"}}, "", "application/json");
  EXPECT_EQ(r->status, 200);
  // A page shows the login form; assets stay public.
  r = c.Get("/dead");
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->body.find("name=\"token\""), std::string::npos);
  EXPECT_EQ(r->body.find("FailJob"), std::string::npos);
  EXPECT_EQ(c.Get("/assets/app.css")->status, 200);

  // Log in through the form: a new session cookie that opens the pages.
  r = c.Get("/login");
  std::string cookie = r->get_header_value("Set-Cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r->body, m, std::regex("name=\"_csrf\" value=\"([0-9a-f]+)\"")));
  const std::string csrf = m[1];
  r = c.Post("/login", httplib::Headers{{"Cookie", cookie}}, "_csrf=" + csrf + "&token=nope",
             "application/x-www-form-urlencoded");
  EXPECT_EQ(r->status, 401);
  r = c.Post("/login", httplib::Headers{{"Cookie", cookie}},
             "_csrf=" + csrf + "&token=s3cret-token", "application/x-www-form-urlencoded");
  EXPECT_EQ(r->status, 303);
  std::string authed = r->get_header_value("Set-Cookie");
  authed = authed.substr(0, authed.find(';'));
  EXPECT_NE(authed, cookie);
  EXPECT_EQ(c.Get("/dead", httplib::Headers{{"Cookie", authed}})->status, 200);
  EXPECT_EQ(c.Get("/dead", httplib::Headers{{"Cookie", cookie}})->status, 401);
}

TEST_P(WebTest, BasicAuth) {
  web::WebOptions o;
  o.basic = "ops:pa55";
  open(o);
  auto c = client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_NE(r->get_header_value("WWW-Authenticate").find("Basic"), std::string::npos);
  c.set_basic_auth("ops", "wrong");
  EXPECT_EQ(c.Get("/api/stats")->status, 401);
  c.set_basic_auth("ops", "pa55");
  EXPECT_EQ(c.Get("/")->status, 200);
  EXPECT_EQ(c.Get("/metrics")->status, 200);
}

TEST_P(WebTest, MetricsParseAndMatchStats) {
  auto c = client();
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  auto e = parse_prometheus(r->body);
  auto s = admin_->stats().value();
  EXPECT_EQ(e.types["errand_processed_total"], "counter");
  EXPECT_EQ(e.value("errand_processed_total"), static_cast<double>(s.processed));
  EXPECT_EQ(e.value("errand_failed_total"), static_cast<double>(s.failed));
  EXPECT_EQ(e.value("errand_scheduled_jobs"), static_cast<double>(s.scheduled));
  EXPECT_EQ(e.value("errand_retry_jobs"), static_cast<double>(s.retries));
  EXPECT_EQ(e.value("errand_dead_jobs"), static_cast<double>(s.dead));
  EXPECT_EQ(e.value("errand_processes"), static_cast<double>(s.processes));
  EXPECT_EQ(e.value("errand_busy_threads"), static_cast<double>(s.busy));
  EXPECT_EQ(e.value("errand_queue_size", {{"queue", "default"}}), 3);
  EXPECT_EQ(e.value("errand_queue_size", {{"queue", "mailers"}}), 1);
  EXPECT_GT(e.value("errand_queue_latency_seconds", {{"queue", "default"}}), 0);
  for (const auto& [name, type] : e.types) EXPECT_TRUE(e.help.count(name)) << name;
}

TEST_P(WebTest, AssetsAreEmbedded) {
  auto c = client();
  auto js = c.Get("/assets/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_NE(js->get_header_value("Content-Type").find("javascript"), std::string::npos);
  EXPECT_NE(js->body.find("errand dashboard"), std::string::npos);
  auto chart = c.Get("/assets/vendor/uPlot.iife.min.js");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200);
  EXPECT_GT(chart->body.size(), 10'000u);
  EXPECT_EQ(c.Get("/assets/nope.js")->status, 404);
}

INSTANTIATE_TEST_SUITE_P(Stores, WebTest, ::testing::Values("memory", "sqlite"),
                         [](const auto& p) { return p.param; });

// ---- the worker-side metrics middleware ----------------------------------------

TEST(WebMetrics, MiddlewareCountsAndEscapesLabels) {
  Metrics m;
  m.observe("Weird\"Class\\\nName", "q1", 0.02, 1.5, false);
  m.observe("Weird\"Class\\\nName", "q1", 3.0, 0.001, true);
  JobContext ctx;
  ctx.job_class = "Ok";
  ctx.queue = "q2";
  ctx.enqueued_at = to_epoch(std::chrono::system_clock::now()) - 2;
  m.call(ctx, [] {});
  EXPECT_THROW(m.call(ctx, [] { throw std::runtime_error("x"); }), std::runtime_error);
  EXPECT_THROW(m.call(ctx, [] { throw Discard(); }), Discard);
  std::string text;
  m.render(text);
  auto e = parse_prometheus(text);
  const std::map<std::string, std::string> weird = {{"class", "Weird\"Class\\\nName"},
                                                    {"queue", "q1"}};
  EXPECT_EQ(e.value("errand_jobs_processed_total", weird), 2);
  EXPECT_EQ(e.value("errand_jobs_failed_total", weird), 1);
  EXPECT_EQ(e.value("errand_jobs_processed_total", {{"class", "Ok"}, {"queue", "q2"}}), 3);
  EXPECT_EQ(e.value("errand_jobs_failed_total", {{"class", "Ok"}, {"queue", "q2"}}), 1);
  EXPECT_EQ(e.types["errand_job_duration_seconds"], "histogram");
  EXPECT_EQ(e.value("errand_job_duration_seconds_count", weird), 2);
  auto with_le = weird;
  with_le["le"] = "+Inf";
  EXPECT_EQ(e.value("errand_job_duration_seconds_bucket", with_le), 2);
  with_le["le"] = "0.025";
  EXPECT_EQ(e.value("errand_job_duration_seconds_bucket", with_le), 1);
  EXPECT_EQ(e.value("errand_job_queue_latency_seconds_count", {{"queue", "q2"}}), 3);
  EXPECT_EQ(e.value("errand_job_queue_latency_seconds_bucket", {{"queue", "q2"}, {"le", "1.0"}}),
            0);
  EXPECT_EQ(e.value("errand_job_queue_latency_seconds_bucket", {{"queue", "q2"}, {"le", "5.0"}}),
            3);
}

TEST(WebModel, EntryKeysRoundTrip) {
  for (double score : {1700000000.123456, 1.0, 0.1, 1712345678.9999998}) {
    std::string key = web::entry_key(score, "abc123");
    double back = 0;
    std::string jid;
    ASSERT_TRUE(web::parse_entry_key(key, back, jid)) << key;
    EXPECT_EQ(back, score) << key;
    EXPECT_EQ(jid, "abc123");
  }
  double s;
  std::string j;
  EXPECT_FALSE(web::parse_entry_key("nonsense", s, j));
  EXPECT_FALSE(web::parse_entry_key("1e5-abc", s, j));
  EXPECT_FALSE(web::parse_entry_key("12-", s, j));
}

}  // namespace
}  // namespace errand
