// The dashboard's HTTP server: security headers, authentication and origin
// checks before any route, then the pages, the JSON API, /metrics and the
// embedded static files.
#include "web/web_server.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "web/app.h"
#include "web/assets.h"
#include "web/front_door.h"

namespace errand::web {

namespace {

// No inline script or style anywhere: scripts and styles are files we serve.
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// A POST from another site: its Origin names a host that is not this
/// dashboard's (compared with the allow-list, never with the request's own
/// Host, which a rebinding page controls), or the browser says the request is
/// cross-site.
bool cross_origin(const App& app, const httplib::Request& req) {
  const std::string site = req.get_header_value("Sec-Fetch-Site");
  if (site == "cross-site" || site == "same-site") return true;
  if (!req.has_header("Origin")) return false;
  const std::string header = req.get_header_value("Origin");  // by value: keep it alive
  std::string_view origin = header;
  for (std::string_view scheme : {"http://", "https://"})
    if (starts_with(origin, scheme)) {
      origin.remove_prefix(scheme.size());
      return origin.find('/') != std::string_view::npos || !app.host_allowed(origin);
    }
  return true;  // "null", or no scheme
}

void send_refusal(httplib::Response& res, int status, const char* error, const char* message) {
  res.status = status;
  res.set_content(Json{{"error", error}, {"message", message}}.dump(), "application/json");
}

}  // namespace

struct WebServer::Impl {
  App app;
  GuardedServer http;
  std::thread thread;
  std::atomic<int> port{0};
  std::atomic<bool> started{false};

  explicit Impl(int threads) : http(DoorLimits{.threads = std::max(1, threads)}) {}
  void install();
  void install_auth_routes();
  /// Before any route: Host allow-list, static files, origin, throttle, auth.
  httplib::Server::HandlerResponse gate(const httplib::Request& req, httplib::Response& res);
  /// 401: a login page for browsers, JSON and WWW-Authenticate for machines.
  void refuse_unauthorized(const httplib::Request& req, httplib::Response& res);
  /// Answers 429 if the request brings credentials from a client that has
  /// failed too often lately (its credentials are then not even checked).
  bool throttled(const httplib::Request& req, httplib::Response& res);
};

bool WebServer::Impl::throttled(const httplib::Request& req, httplib::Response& res) {
  const bool login = req.path == "/login" && req.method == "POST";
  if (!login && !req.has_header("Authorization")) return false;
  const double wait = app.throttle.blocked_for(req.remote_addr, app.now());
  if (wait <= 0) return false;
  res.set_header("Retry-After", std::to_string(static_cast<int>(wait) + 1));
  send_refusal(res, 429, "too_many_requests",
               "too many failed sign-ins from this address; try again later");
  return true;
}

httplib::Server::HandlerResponse WebServer::Impl::gate(const httplib::Request& req,
                                                       httplib::Response& res) {
  using R = httplib::Server::HandlerResponse;
  // DNS rebinding: a page of another site whose name now resolves to us.
  if (!app.host_allowed(req.get_header_value("Host"))) {
    send_refusal(res, 403, "forbidden", "this dashboard does not answer to that host name");
    return R::Handled;
  }
  // Static files: public (the login page needs its stylesheet), immutable per build.
  if (starts_with(req.path, "/assets/") && (req.method == "GET" || req.method == "HEAD")) {
    const Asset* a = find_asset(req.path);
    if (!a) {
      res.status = 404;
      res.set_content("not found\n", "text/plain");
      return R::Handled;
    }
    res.set_header("Cache-Control", "public, max-age=3600");
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->content_type);
    return R::Handled;
  }
  if (req.method != "GET" && req.method != "HEAD" && cross_origin(app, req)) {
    send_refusal(res, 403, "forbidden", "cross-origin request refused");
    return R::Handled;
  }
  if (throttled(req, res)) return R::Handled;
  if (app.bad_credentials(req)) app.throttle.failed(req.remote_addr, app.now());
  if (req.path == "/login" || app.authorized(req)) return R::Unhandled;
  refuse_unauthorized(req, res);
  return R::Handled;
}

void WebServer::Impl::refuse_unauthorized(const httplib::Request& req, httplib::Response& res) {
  res.status = 401;
  const bool machine = starts_with(req.path, "/api/") || req.path == "/metrics";
  if (!app.options.basic.empty() && (machine || app.options.token.empty()))
    res.set_header("WWW-Authenticate", "Basic realm=\"errand\", charset=\"UTF-8\"");
  else if (machine)
    res.set_header("WWW-Authenticate", "Bearer realm=\"errand\"");
  if (machine) {
    res.set_content(R"({"error":"unauthorized","message":"authentication required"})",
                    "application/json");
  } else if (!app.options.token.empty()) {
    render_login(app, req, res, false);
    res.status = 401;
  } else {
    res.set_content("authentication required\n", "text/plain");
  }
}

void WebServer::Impl::install_auth_routes() {
  http.Get("/login", [this](const httplib::Request& req, httplib::Response& res) {
    if (app.options.token.empty()) return res.set_redirect("/");
    render_login(app, req, res, false);
  });
  http.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
    if (!csrf_ok(app, req)) {
      res.status = 403;
      return res.set_content("missing or wrong CSRF token; reload the page\n", "text/plain");
    }
    if (!app.options.token.empty() &&
        constant_time_equal(req.get_param_value("token"), app.options.token)) {
      app.sessions.login(req, res);
      return res.set_redirect("/", 303);
    }
    // A little friction against guessing, and the per-client throttle.
    app.throttle.failed(req.remote_addr, app.now());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    render_login(app, req, res, true);
    res.status = 401;
  });
  http.Post("/logout", [this](const httplib::Request& req, httplib::Response& res) {
    if (!csrf_ok(app, req)) {
      res.status = 403;
      return res.set_content("missing or wrong CSRF token\n", "text/plain");
    }
    app.sessions.logout(req);
    res.set_redirect("/login", 303);
  });
}

void WebServer::Impl::install() {
  http.set_default_headers({
      {"Content-Security-Policy", kCsp},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "same-origin"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  });
  http.set_payload_max_length(1 << 20);

  http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unexpected error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(Json{{"error", "internal"}, {"message", what}}.dump(), "application/json");
      });

  http.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return gate(req, res); });
  install_auth_routes();

  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(render_metrics(app), "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });

  add_api_routes(http, app);
  add_page_routes(http, app);
  add_status_page_routes(http, app);
  add_batch_page_routes(http, app);

  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) res.set_content("not found\n", "text/plain");
  });
}

WebServer::WebServer(std::shared_ptr<Admin> admin, WebOptions options)
    : impl_(std::make_unique<Impl>(options.threads)) {
  impl_->app.admin = std::move(admin);
  impl_->app.options = std::move(options);
  impl_->app.registry =
      impl_->app.options.registry ? impl_->app.options.registry : &Registry::global();
  impl_->install();
}

WebServer::~WebServer() { stop(); }

Status WebServer::start() {
  auto& I = *impl_;
  if (I.started.exchange(true)) return fail(Errc::invalid_argument, "already started");
  int port = I.app.options.port;
  if (port == 0) {
    port = I.http.bind_to_any_port(I.app.options.bind);
    if (port < 0) port = 0;
  } else if (!I.http.bind_to_port(I.app.options.bind, port)) {
    port = 0;
  }
  if (port <= 0) {
    I.started = false;
    return fail(Errc::unavailable, "cannot listen on " + I.app.options.bind + ":" +
                                       std::to_string(I.app.options.port));
  }
  I.port = port;
  I.http.open_door();
  I.thread = std::thread([&I] { I.http.listen_after_bind(); });
  // httplib's stop() only closes a socket it is already accepting on: wait
  // until it is, so that a stop() right after start() cannot be lost.
  for (int i = 0; i < 5000 && !I.http.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return {};
}

void WebServer::stop() {
  auto& I = *impl_;
  if (!I.started) return;
  I.http.stop();
  if (I.thread.joinable()) I.thread.join();
  I.http.close_door();
}

int WebServer::port() const { return impl_->port; }

std::string WebServer::url() const {
  const std::string host = impl_->app.options.bind.find(':') != std::string::npos
                               ? "[" + impl_->app.options.bind + "]"
                               : impl_->app.options.bind;
  return "http://" + host + ":" + std::to_string(port());
}

}  // namespace errand::web
