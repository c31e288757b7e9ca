// signup_service: POST /signup with email=ADDRESS (a form field) enqueues SendWelcomeEmail and
// answers 202 with the job's id; the email goes out from `errand worker`.
//
//   signup_service [--port N] [--store URL]    (port 0: any free port)
//
// Prints "listening on http://127.0.0.1:PORT" once it accepts requests.
#include <httplib.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "send_welcome_email.h"

namespace {

struct Flags {
  int port = 8080;
  std::string store = "sqlite://signup.db";
};

bool parse(int argc, char** argv, Flags& f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port")
      f.port = std::atoi(argv[i + 1]);
    else if (flag == "--store")
      f.store = argv[i + 1];
    else
      return false;
  }
  return argc % 2 == 1 && f.port >= 0 && f.port < 65536;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!parse(argc, argv, flags)) {
    std::cerr << "usage: signup_service [--port N] [--store URL]\n";
    return 2;
  }
  auto client = errand::Client::open(flags.store);
  if (!client) {
    std::cerr << "cannot open " << flags.store << ": " << client.error().message() << "\n";
    return 1;
  }
  httplib::Server http;
  http.Post("/signup", [&](const httplib::Request& req, httplib::Response& res) {
    const std::string email = req.get_param_value("email");
    if (email.find('@') == std::string::npos) {
      res.status = 400;
      res.set_content("an email address is required\n", "text/plain");
      return;
    }
    auto jid = client->perform_async<SendWelcomeEmail>(email);
    if (!jid) {
      res.status = 503;
      res.set_content("could not enqueue: " + jid.error().message() + "\n", "text/plain");
      return;
    }
    res.status = 202;
    res.set_content(*jid + "\n", "text/plain");
  });
  const int port = flags.port == 0 ? http.bind_to_any_port("127.0.0.1")
                                   : (http.bind_to_port("127.0.0.1", flags.port) ? flags.port : -1);
  if (port < 0) {
    std::cerr << "cannot listen on port " << flags.port << "\n";
    return 1;
  }
  std::cout << "listening on http://127.0.0.1:" << port << std::endl;
  return http.listen_after_bind() ? 0 : 1;
}
