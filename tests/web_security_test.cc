// Issue #16, attacked from outside: a real `errand web` process, reached with
// a real HTTP client (and raw sockets where a client would refuse to send
// what an attacker sends); the YAML cases against `errand cron -C` and
// `errand worker -C`, the CLI cases against the binary. Every wait is
// bounded; no assertion is about how fast anything is.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "errand/errand.h"
#include "support/process.h"
#include "support/redis_server.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand::testing {
namespace {

using namespace std::chrono_literals;

// ---- a real `errand web` --------------------------------------------------------

class WebProcess {
 public:
  WebProcess(const TempDir& dir, const std::string& store, std::vector<std::string> extra = {},
             std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {kCli, "web", "--store", store, "-p", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    SpawnOptions o;
    o.cwd = dir.path();
    o.env = std::move(env);
    o.stdout_path = dir / "web.out";
    o.stderr_path = dir / "web.err";
    out_ = o.stdout_path;
    err_ = o.stderr_path;
    proc_ = std::make_unique<Process>(argv, o);
    std::smatch m;
    const std::regex url(R"(errand web: http://[0-9.]+:(\d+)/)");
    eventually(30s, [&] {
      const std::string text = read_file(out_);
      if (!std::regex_search(text, m, url)) return !proc_->running();
      port_ = std::stoi(m[1].str());
      return true;
    });
    EXPECT_GT(port_, 0) << "errand web did not start: " << read_file(err_);
  }
  ~WebProcess() {
    if (proc_->running()) {
      proc_->signal(SIGTERM);
      if (!proc_->wait_for(10s)) proc_->signal(SIGKILL);
    }
  }
  int port() const { return port_; }
  bool running() { return proc_->running(); }
  pid_t pid() const { return proc_->pid(); }
  std::string log() const { return read_file(out_) + read_file(err_); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5s);
    c.set_read_timeout(15s);
    return c;
  }
  /// Resident memory of the process, in kB.
  long rss_kb() const {
    std::ifstream in("/proc/" + std::to_string(proc_->pid()) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
  }

 private:
  std::unique_ptr<Process> proc_;
  std::filesystem::path out_, err_;
  int port_ = 0;
};

/// A connected TCP socket to 127.0.0.1:port, from `source` (another loopback
/// address stands for another client).
int connect_to(int port, const char* source = nullptr) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (source) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    EXPECT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&from), sizeof from), 0);
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  return s;
}

/// Everything the peer sends until it closes (or `timeout`).
std::string read_all(int s, std::chrono::milliseconds timeout = 15s) {
  std::string out;
  const auto until = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{s, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t r = ::recv(s, buf, sizeof buf, 0);
    if (r <= 0) break;
    out.append(buf, static_cast<std::size_t>(r));
  }
  return out;
}

/// Sends `request` as is (stopping if the server closes) and returns its answer.
std::string raw_exchange(int port, const std::string& request, const char* source = nullptr) {
  const int s = connect_to(port, source);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t r = ::send(s, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (r <= 0) break;
    sent += static_cast<std::size_t>(r);
  }
  std::string answer = read_all(s);
  ::close(s);
  return answer;
}

int status_of(const std::string& answer) {
  std::smatch m;
  if (!std::regex_search(answer, m, std::regex(R"(^HTTP/1\.[01] (\d{3}))"))) return 0;
  return std::stoi(m[1].str());
}

/// The session cookie and CSRF token a browser would get from GET /api/csrf.
struct Session {
  std::string cookie;
  std::string csrf;
};
Session session_of(httplib::Client& c, httplib::Headers extra = {}) {
  auto r = c.Get("/api/csrf", extra);
  Session s;
  if (!r || r->status != 200) {
    ADD_FAILURE() << "GET /api/csrf failed";
    return s;
  }
  const std::string set_cookie = r->get_header_value("Set-Cookie");
  s.cookie = set_cookie.substr(0, set_cookie.find(';'));
  s.csrf = Json::parse(r->body)["token"].get<std::string>();
  return s;
}

void push_job(Store& store, const std::string& queue, const Json& args = Json::array({1})) {
  const std::string jid = payload::new_jid();
  const Json doc = {{"class", "HardJob"},
                    {"args", args},
                    {"queue", queue},
                    {"jid", jid},
                    {"retry", true},
                    {"created_at", epoch_now()},
                    {"enqueued_at", epoch_now()}};
  // A queue name that is not UTF-8 (as a Ruby client can push it) is kept
  // byte for byte in the store's own field and replaced in the payload.
  std::vector<PushItem> items{
      {queue, jid, doc.dump(-1, ' ', false, Json::error_handler_t::replace)}};
  store.push({.jobs = items, .now = wall()}).check();
}

std::size_t queue_size(Store& store, const std::string& name) {
  const auto queues = store.queues(wall()).value();  // a copy: the Result is a temporary
  for (const auto& q : queues)
    if (q.name == name) return q.size;
  return 0;
}

// ---- row 1: DNS rebinding ----------------------------------------------------------

TEST(WebHardening, ForeignHostNamesAreRefusedAndOriginIsCheckedAgainstTheAllowList) {
  TempDir dir;
  auto store = open_store(sqlite_url(dir)).value();
  push_job(*store, "default");
  WebProcess web(dir, sqlite_url(dir), {"--host", "dash.example.com"});
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  const std::string port = std::to_string(web.port());
  // A rebinding page: its own name, now resolving to 127.0.0.1.
  for (const char* path : {"/api/queues", "/api/csrf", "/", "/metrics"}) {
    auto r = c.Get(path, {{"Host", "evil.example:" + port}});
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 403) << path;
    EXPECT_EQ(r->body.find("default"), std::string::npos) << path;
  }
  // Its POST, carrying an Origin that matches its own Host, is refused too.
  auto clear = c.Post("/api/queues/default/clear",
                      {{"Host", "evil.example:" + port}, {"Origin", "http://evil.example:" + port}},
                      "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(clear);
  EXPECT_EQ(clear->status, 403);
  EXPECT_EQ(queue_size(*store, "default"), 1u);

  // The names the dashboard answers to.
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port, "localhost",
                                "dash.example.com", "DASH.example.com:443"}) {
    auto r = c.Get("/api/queues", {{"Host", host}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << host;
  }
  // A same-host POST with a foreign Origin (the request's Host is ours).
  Session s = session_of(c);
  auto cross = c.Post("/api/queues/default/clear",
                      {{"Cookie", s.cookie},
                       {"X-CSRF-Token", s.csrf},
                       {"Host", "127.0.0.1:" + port},
                       {"Origin", "http://evil.example:" + port}},
                      "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(cross);
  EXPECT_EQ(cross->status, 403);
  EXPECT_EQ(queue_size(*store, "default"), 1u);
  auto ok = c.Post(
      "/api/queues/default/clear",
      {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}, {"Origin", "https://dash.example.com"}}, "",
      "application/x-www-form-urlencoded");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(queue_size(*store, "default"), 0u);
}

TEST(WebHardening, ANonLoopbackBindWithoutAuthRefusesToStartUnlessInsecure) {
  TempDir dir;
  auto r = run(cmd({"web", "--store", sqlite_url(dir), "--bind", "0.0.0.0", "-p", "0"}), dir.path(),
               30s);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_NE(r.err.find("without authentication"), std::string::npos) << r.describe();
  WebProcess insecure(dir, sqlite_url(dir), {"--bind", "0.0.0.0", "--insecure"});
  EXPECT_GT(insecure.port(), 0) << insecure.log();
}

// ---- row 2: names decoded once; names with '/' --------------------------------------

TEST(WebHardening, QueueNamesInPathsAreDecodedExactlyOnce) {
  TempDir dir;
  auto store = open_store(sqlite_url(dir)).value();
  for (const char* q : {"default", "%64efault", "a/b", "rq", "%72q"}) push_job(*store, q);
  WebProcess web(dir, sqlite_url(dir));
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  Session s = session_of(c);
  const httplib::Headers h = {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}};

  // The page's Clear form for "%64efault" names that queue, not "default".
  auto page = c.Get("/queues", h);
  ASSERT_TRUE(page);
  ASSERT_NE(page->body.find("action=\"/api/queues/%2564efault/clear\""), std::string::npos);
  auto r = c.Post("/api/queues/%2564efault/clear", h, "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(queue_size(*store, "%64efault"), 0u);
  EXPECT_EQ(queue_size(*store, "default"), 1u);

  // A queue with '/' in its name can be viewed and cleared.
  auto view = c.Get("/api/queues/a%2Fb", h);
  ASSERT_TRUE(view);
  ASSERT_EQ(view->status, 200) << view->body;
  EXPECT_EQ(Json::parse(view->body)["queue"], "a/b");
  EXPECT_EQ(Json::parse(view->body)["jobs"].size(), 1u);
  auto html = c.Get("/queues/a%2Fb", h);
  ASSERT_TRUE(html);
  EXPECT_EQ(html->status, 200);
  r = c.Post("/api/queues/a%2Fb/clear", h, "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(queue_size(*store, "a/b"), 0u);

  // Pausing "%72q" pauses that queue, not "rq".
  r = c.Post("/api/queues/%2572q/pause", h, "", "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  if (r->status == 200) {
    auto paused = store->paused_queues().value();
    EXPECT_NE(std::find(paused.begin(), paused.end(), "%72q"), paused.end());
    EXPECT_EQ(std::find(paused.begin(), paused.end(), "rq"), paused.end());
  } else {
    EXPECT_EQ(r->status, 409) << r->body;  // a store that cannot pause
  }
}

// ---- row 3: a flood of anonymous sessions ---------------------------------------------

TEST(WebHardening, AFloodOfAnonymousSessionsNeverLogsAnOperatorOut) {
  TempDir dir;
  WebProcess web(dir, sqlite_url(dir), {"--token", "operator-token-123"});
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  // Log in through the form, as a browser does.
  auto form = c.Get("/login");
  ASSERT_TRUE(form);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(form->body, m, std::regex(R"re(name="_csrf" value="([0-9a-f]+)")re")));
  const std::string csrf = m[1].str();
  const std::string anon = form->get_header_value("Set-Cookie");
  auto login =
      c.Post("/login", {{"Cookie", anon.substr(0, anon.find(';'))}},
             "_csrf=" + csrf + "&token=operator-token-123", "application/x-www-form-urlencoded");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 303);
  const std::string set = login->get_header_value("Set-Cookie");
  const httplib::Headers operator_cookie = {{"Cookie", set.substr(0, set.find(';'))}};
  auto before = c.Get("/api/stats", operator_cookie);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200);

  // More cookieless visitors than the anonymous pool holds.
  int answered = 0;
  for (int i = 0; i < 10'500; ++i)
    if (auto r = c.Get("/login"); r && r->status == 200) ++answered;
  EXPECT_EQ(answered, 10'500);
  auto after = c.Get("/api/stats", operator_cookie);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << "the operator was logged out by anonymous visitors";
}

// ---- row 4: slow clients ----------------------------------------------------------------

TEST(WebHardening, SlowClientsNeitherStarveTheDashboardNorStayConnected) {
  TempDir dir;
  WebProcess web(dir, sqlite_url(dir), {"--token", "t0ken"});
  ASSERT_GT(web.port(), 0);
  // Twice as many slow clients as request threads, each sending its head a
  // byte at a time.
  std::vector<int> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(connect_to(web.port()));
    const std::string start = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    ASSERT_EQ(::send(slow.back(), start.data(), start.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(start.size()));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> closed{0};
  std::thread trickle([&] {
    std::vector<bool> gone(slow.size(), false);
    for (int round = 0; round < 60 && !stop; ++round) {  // at most 30 s
      for (std::size_t i = 0; i < slow.size(); ++i) {
        if (gone[i]) continue;
        pollfd p{slow[i], POLLIN, 0};
        const bool eof = ::poll(&p, 1, 0) > 0;  // the server answered or closed
        if (eof || ::send(slow[i], "a", 1, MSG_NOSIGNAL) != 1) {
          gone[i] = true;
          ++closed;
        }
      }
      std::this_thread::sleep_for(500ms);
    }
  });
  std::this_thread::sleep_for(1s);
  auto c = web.client();
  auto r = c.Get("/api/stats", {{"Authorization", "Bearer t0ken"}});
  EXPECT_TRUE(r) << "the operator's request was not answered while slow clients held on";
  if (r) {
    EXPECT_EQ(r->status, 200);
  }
  // The server gives up on every slow head (bounded: the trickle ends in 30 s).
  eventually(30s, [&] { return closed.load() == static_cast<int>(slow.size()); });
  EXPECT_EQ(closed.load(), static_cast<int>(slow.size()));
  stop = true;
  trickle.join();
  for (int s : slow) ::close(s);
}

// ---- row 5: oversized heads --------------------------------------------------------------

TEST(WebHardening, TooManyHeadersAreRefusedBeforeTheyCostMemory) {
  TempDir dir;
  WebProcess web(dir, sqlite_url(dir));
  ASSERT_GT(web.port(), 0);
  // A head with 150 header lines: refused, whole.
  std::string head = "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 150; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(raw_exchange(web.port(), head + "\r\n")), 431);

  // Eight clients with 500,000 headers each (about 6 MB of head each).
  std::string huge = "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 500'000; ++i) huge += "X-" + std::to_string(i) + ": v\r\n";
  huge += "\r\n";
  std::vector<std::thread> clients;
  std::atomic<int> served{0};
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      const int st = status_of(raw_exchange(web.port(), huge));
      if (st == 200) ++served;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(served.load(), 0);
  ASSERT_TRUE(web.running());
  const long rss = web.rss_kb();
  EXPECT_LT(rss, 150 * 1024) << "the web process grew to " << rss << " kB";
  auto c = web.client();
  auto r = c.Get("/api/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// ---- row 6: deep payloads ------------------------------------------------------------------

TEST(WebHardening, DeepPayloadsAreShownCutAndNeverCrashTheDashboard) {
  TempDir dir;
  auto store = open_store(sqlite_url(dir)).value();
  const std::string jid = payload::new_jid();
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const std::string text = R"({"class":"HardJob","queue":"deep","jid":")" + jid +
                           R"(","retry":true,"created_at":1700000000,"args":)" + deep + "}";
  std::vector<PushItem> items{{"deep", jid, text}};
  store->push({.jobs = items, .now = wall()}).check();
  WebProcess web(dir, sqlite_url(dir));
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  auto api = c.Get("/api/queues/deep");
  ASSERT_TRUE(api) << "the web process died: " << web.log();
  ASSERT_EQ(api->status, 200);
  const Json body = Json::parse(api->body);
  ASSERT_EQ(body["jobs"].size(), 1u);
  EXPECT_EQ(body["jobs"][0]["jid"], jid);
  EXPECT_EQ(body["jobs"][0]["class"], "HardJob");
  auto page = c.Get("/queues/deep");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("nested deeper than"), std::string::npos);
  EXPECT_TRUE(web.running());
}

// ---- row 7: hostile YAML ----------------------------------------------------------------

void expect_config_refused(const TempDir& dir, const std::string& yaml, const std::string& why) {
  std::ofstream(dir / "errand.yml") << yaml;
  for (const char* command : {"cron", "worker"}) {
    auto r = run(cmd({command, "-C", (dir / "errand.yml").string(), "--store", sqlite_url(dir)}),
                 dir.path(), 30s);
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.describe();
    EXPECT_EQ(r.term_signal, 0) << command << ": " << r.describe();
    EXPECT_NE(r.err.find(why), std::string::npos) << command << ": " << r.describe();
    EXPECT_EQ(r.err.find("unexpected error"), std::string::npos) << r.describe();
  }
}

TEST(ConfigHardening, SelfReferencingAliasesBillionLaughsAndOddKeysAreClearErrors) {
  TempDir dir;
  const std::string cron = "cron:\n  r:\n    cron: '* * * * *'\n    class: HardJob\n";
  expect_config_refused(dir, cron + "    args: &a [1, *a]\n", "nest deeper than");
  // A billion laughs: nine levels of nine aliases each, inside the args.
  std::string laughs =
      cron + "    args:\n      - a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const std::string p = std::string("*") + static_cast<char>(c - 1);
    laughs += std::string("        ") + c + ": &" + c + " [" + p + ", " + p + ", " + p + ", " + p +
              ", " + p + ", " + p + ", " + p + ", " + p + ", " + p + "]\n";
  }
  expect_config_refused(dir, laughs, "expand to more than");
  expect_config_refused(dir, cron + "    args:\n      - ? [1, 2]\n        : x\n", "keys in 'args'");
}

// ---- row 8: guessing credentials ---------------------------------------------------------

TEST(WebHardening, WrongCredentialsAreThrottledPerClient) {
  TempDir dir;
  WebProcess web(dir, sqlite_url(dir), {"--token", "right-token", "--basic", "admin:right"});
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  int refused = 0, throttled = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = c.Get("/api/stats", {{"Authorization", "Bearer guess-" + std::to_string(i)}});
    ASSERT_TRUE(r);
    if (r->status == 401) ++refused;
    if (r->status == 429) ++throttled;
  }
  EXPECT_LE(refused, 10);
  EXPECT_GE(throttled, 20);
  // Locked out: even the right token is not checked from this client now...
  auto r = c.Get("/api/stats", {{"Authorization", "Bearer right-token"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_FALSE(r->get_header_value("Retry-After").empty());
  // ...while another client is served.
  const std::string other = raw_exchange(
      web.port(),
      "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer right-token\r\n\r\n",
      "127.0.0.2");
  EXPECT_EQ(status_of(other), 200) << other;
  // Basic credentials count as well (from a third client).
  int basic_throttled = 0;
  for (int i = 0; i < 15; ++i) {
    const std::string a = raw_exchange(web.port(),
                                       "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       "Authorization: Basic YWRtaW46d3Jvbmc=\r\n\r\n",
                                       "127.0.0.3");
    if (status_of(a) == 429) ++basic_throttled;
  }
  EXPECT_GE(basic_throttled, 5);
}

// ---- row 9: redirects and the CSRF token's place ------------------------------------------

TEST(WebHardening, RedirectsStayLocalAndTheCsrfTokenIsNotReadFromTheUrl) {
  TempDir dir;
  auto store = open_store(sqlite_url(dir)).value();
  push_job(*store, "default");
  push_job(*store, "other");
  WebProcess web(dir, sqlite_url(dir));
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  Session s = session_of(c);
  for (std::string back : {"/\t/evil.example", "/\n/evil.example", "/ /evil.example",
                           "/\\evil.example", "//evil.example", "https://evil.example"}) {
    auto r = c.Post("/api/queues/default/clear", {{"Cookie", s.cookie}},
                    "_csrf=" + s.csrf + "&back=" + httplib::detail::encode_query_param(back),
                    "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 303);
    const std::string to = r->get_header_value("Location");
    EXPECT_EQ(to.rfind("/?", 0), 0u) << "Location: " << to;
    EXPECT_EQ(to.find("evil"), std::string::npos) << "Location: " << to;
  }
  // The token in a POST's query string is not a token.
  auto r = c.Post(("/api/queues/other/clear?_csrf=" + s.csrf).c_str(), {{"Cookie", s.cookie}}, "",
                  "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(queue_size(*store, "other"), 1u);
}

// ---- row 10: offsets that wrap ----------------------------------------------------------------

TEST(WebHardening, HugeOffsetsGiveEmptyPagesOnRedis) {
  RedisServer redis;
  std::string why;
  if (!redis.start(&why)) GTEST_SKIP() << why;
  auto store = open_store(redis.url()).value();
  push_job(*store, "default");
  TempDir dir;
  WebProcess web(dir, redis.url());
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  for (const char* path : {"/api/queues/default?offset=18446744073709551615",
                           "/api/queues/default?offset=9223372036854775807",
                           "/api/sets/retry?offset=9223372036854775807",
                           "/api/sets/dead?offset=18446744073709551615"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    ASSERT_EQ(r->status, 200) << path << ": " << r->body;
    const Json body = Json::parse(r->body);
    EXPECT_TRUE(body.value("jobs", Json::array()).empty()) << path;
    EXPECT_TRUE(body.value("entries", Json::array()).empty()) << path;
  }
  auto page = c.Get("/queues/default?offset=18446744073709551615");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find("HardJob"), std::string::npos);
}

// ---- row 11: secrets --------------------------------------------------------------------------

TEST(WebHardening, RedisPasswordsAreRedactedInLogsAndErrors) {
  RedisServerOptions options;
  options.password = "s3cret-pw";
  RedisServer redis(options);
  std::string why;
  if (!redis.start(&why)) GTEST_SKIP() << why;
  TempDir dir;
  // An error naming the URL.
  auto r = run(cmd({"queues", "--store", "redsi://:s3cret-pw@127.0.0.1:1/0"}), dir.path(), 30s);
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ((r.out + r.err).find("s3cret-pw"), std::string::npos) << r.describe();
  EXPECT_NE(r.err.find(":***@"), std::string::npos) << r.describe();
  r = run(cmd({"queues", "--store", "redis://:s3cret-pw@127.0.0.1:6379/0?bogus=1&x"}), dir.path(),
          30s);
  EXPECT_EQ((r.out + r.err).find("s3cret-pw"), std::string::npos) << r.describe();
  // The worker's start-up line.
  SpawnOptions o;
  o.cwd = dir.path();
  o.stdout_path = dir / "w.out";
  o.stderr_path = dir / "w.err";
  {
    Process worker(cmd({"worker", "--store", redis.url(), "-c", "1"}), o);
    eventually(30s, [&] {
      return read_file(dir / "w.out").find("store") != std::string::npos ||
             read_file(dir / "w.err").find("store") != std::string::npos || !worker.running();
    });
    worker.signal(SIGTERM);
    worker.wait_for(30s);
  }
  const std::string log = read_file(dir / "w.out") + read_file(dir / "w.err");
  EXPECT_NE(log.find(":***@127.0.0.1"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret-pw"), std::string::npos) << log;
}

TEST(WebHardening, SecretsCanComeFromAFileOrTheEnvironmentInsteadOfTheCommandLine) {
  TempDir dir;
  std::ofstream(dir / "token") << "file-token-xyz\n";
  WebProcess web(dir, sqlite_url(dir), {"--token-file", (dir / "token").string()});
  ASSERT_GT(web.port(), 0);
  auto c = web.client();
  auto r = c.Get("/api/stats", {{"Authorization", "Bearer file-token-xyz"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/api/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  const std::string cmdline = read_file("/proc/" + std::to_string(web.pid()) + "/cmdline");
  EXPECT_EQ(cmdline.find("file-token-xyz"), std::string::npos);

  TempDir dir2;  // its own web.out: the first process's URL line must not be read as its own
  WebProcess env(dir2, sqlite_url(dir), {}, {{"ERRAND_WEB_BASIC", "ops:env-pass"}});
  ASSERT_GT(env.port(), 0);
  auto c2 = env.client();
  c2.set_basic_auth("ops", "env-pass");
  r = c2.Get("/api/stats");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// ---- row 12: names that attack a terminal ------------------------------------------------------

TEST(CliHardening, QueueNamesCannotDriveTheTerminalNorBreakJson) {
  TempDir dir;
  auto store = open_store(sqlite_url(dir)).value();
  const std::string escape = "evil\x1b]0;pwned\x07\x1b[2J";
  const std::string invalid = "bad\xff\xfe";
  push_job(*store, escape);
  push_job(*store, invalid);
  auto r = run(cmd({"queues", "--store", sqlite_url(dir)}), dir.path(), 30s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("evil\\x1b]0;pwned"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bad\\xff\\xfe"), std::string::npos) << r.out;
  r = run(cmd({"queues", "--store", sqlite_url(dir), "--json"}), dir.path(), 30s);
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const Json j = Json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j.size(), 2u);
  r = run(cmd({"queues", "clear", escape, "--store", sqlite_url(dir)}), dir.path(), 30s);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace errand::testing
