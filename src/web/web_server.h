// The web dashboard: server-rendered pages, a JSON API under /api/ and
// Prometheus metrics at /metrics, on top of errand::Admin only.
//
//   auto admin = std::make_shared<errand::Admin>(store);
//   errand::web::WebServer web(admin, {.port = 7433});
//   web.start();   // serves from a background thread until stop()
//
// Safe by default: binds 127.0.0.1; optional token or basic auth; every
// state-changing request is a POST carrying the session's CSRF token (or a
// Bearer token), and cross-origin POSTs are refused; every page is sent with
// a Content-Security-Policy that forbids inline scripts.
//
// Thread safety: start/stop may be called from any thread; stop is
// idempotent and safe without start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "errand/admin.h"
#include "errand/cron.h"
#include "errand/job.h"
#include "errand/status.h"

namespace errand {
class Metrics;
}

namespace errand::web {

struct WebOptions {
  std::string bind = "127.0.0.1";
  int port = 7433;    ///< 0: any free port (see WebServer::port())
  std::string token;  ///< non-empty: require this token (Bearer header or login form)
  std::string basic;  ///< non-empty "user:pass": accept HTTP basic auth with it
  /// The embedding worker's per-job metrics, added to /metrics; may be null.
  std::shared_ptr<const Metrics> metrics;
  Registry* registry = nullptr;  ///< for redact_args look-ups; nullptr: Registry::global()
  int threads = 8;               ///< request threads
  std::vector<CronEntry> cron;   ///< the periodic jobs to list on /cron and /api/cron
  /// Host names (Host header, Origin) the dashboard answers to besides the
  /// loopback names and the bound address: the public name behind a proxy.
  /// Requests naming any other host are refused (DNS rebinding). On a
  /// non-loopback bind with this list empty, any host is accepted.
  std::vector<std::string> hosts;
};

class WebServer {
 public:
  WebServer(std::shared_ptr<Admin> admin, WebOptions options = {});
  ~WebServer();  ///< stop()s
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  /// Binds and serves from a background thread. Fails (unavailable) if the
  /// address cannot be bound.
  Status start();
  /// Stops serving and joins the thread. Idempotent.
  void stop();
  /// The bound port (after start()).
  int port() const;
  /// "http://127.0.0.1:7433"
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace errand::web
