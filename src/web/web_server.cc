// The dashboard's HTTP server: security headers, authentication and origin
// checks before any route, then the pages, the JSON API, /metrics and the
// embedded static files.
#include "web/web_server.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "web/app.h"
#include "web/assets.h"

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

/// A POST from another site: its Origin names another host, or the browser
/// says the request is cross-site.
bool cross_origin(const httplib::Request& req) {
  const std::string site = req.get_header_value("Sec-Fetch-Site");
  if (site == "cross-site" || site == "same-site") return true;
  if (!req.has_header("Origin")) return false;
  const std::string origin = req.get_header_value("Origin");
  const std::string host = req.get_header_value("Host");
  return host.empty() || (origin != "http://" + host && origin != "https://" + host);
}

}  // namespace

struct WebServer::Impl {
  App app;
  httplib::Server http;
  std::thread thread;
  std::atomic<int> port{0};
  std::atomic<bool> started{false};

  void install();
};

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
  http.set_keep_alive_max_count(100);
  const int threads = std::max(1, app.options.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };

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

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    using R = httplib::Server::HandlerResponse;
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
    if (req.method != "GET" && req.method != "HEAD" && cross_origin(req)) {
      res.status = 403;
      res.set_content(R"({"error":"forbidden","message":"cross-origin request refused"})",
                      "application/json");
      return R::Handled;
    }
    if (req.path == "/login" || app.authorized(req)) return R::Unhandled;

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
    return R::Handled;
  });

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
    // A little friction against guessing.
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

  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(render_metrics(app), "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });

  add_api_routes(http, app);
  add_page_routes(http, app);

  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) res.set_content("not found\n", "text/plain");
  });
}

WebServer::WebServer(std::shared_ptr<Admin> admin, WebOptions options)
    : impl_(std::make_unique<Impl>()) {
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
}

int WebServer::port() const { return impl_->port; }

std::string WebServer::url() const {
  const std::string host = impl_->app.options.bind.find(':') != std::string::npos
                               ? "[" + impl_->app.options.bind + "]"
                               : impl_->app.options.bind;
  return "http://" + host + ":" + std::to_string(port());
}

}  // namespace errand::web
