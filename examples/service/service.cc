// An HTTP service whose request handlers enqueue jobs:
//
//   ./service sqlite://jobs.db 8080
//   curl -X POST 'localhost:8080/signup?user=42&email=ada@example.com'   → 202 {"jid": "..."}
//   errand worker -r ./libservice_jobs.so --store sqlite://jobs.db       # runs them
//
// Port 0 picks a free port; the service prints "listening on PORT".
#include <errand/errand.h>
#include <httplib.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "jobs/welcome_signup.h"

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "sqlite://service.db";
  const int port = argc > 2 ? std::atoi(argv[2]) : 8080;
  auto client = errand::Client::open(url);
  if (!client) {
    std::cerr << "cannot open " << url << ": " << client.error().message() << "\n";
    return 1;
  }

  httplib::Server http;
  http.Post("/signup", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string user = req.get_param_value("user");
    const std::string email = req.get_param_value("email");
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(user.data(), user.data() + user.size(), id);
    if (ec != std::errc() || end != user.data() + user.size() || email.empty()) {
      res.status = 400;
      res.set_content(R"({"error": "user (a number) and email are required"})", "application/json");
      return;
    }
    auto jid = client->perform_async<WelcomeSignup>(id, email);
    if (!jid) {
      res.status = 503;  // nothing was enqueued: the caller may retry
      res.set_content(errand::Json{{"error", jid.error().message()}}.dump(), "application/json");
      return;
    }
    res.status = 202;
    res.set_content(errand::Json{{"jid", *jid}}.dump(), "application/json");
  });
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });

  const int bound = port == 0 ? http.bind_to_any_port("127.0.0.1") : port;
  if (port != 0 && !http.bind_to_port("127.0.0.1", port)) {
    std::cerr << "cannot listen on port " << port << "\n";
    return 1;
  }
  std::cout << "listening on " << bound << std::endl;
  return http.listen_after_bind() ? 0 : 1;
}
