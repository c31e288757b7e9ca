// The smallest complete errand program: one job class, a client that
// enqueues it, and a server in the same process that runs it, on an SQLite
// file. Run it from any directory:  ./errand_hello
#include <errand/errand.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace {
std::atomic<int> g_greeted{0};
}  // namespace

struct Greet {
  static constexpr errand::JobOptions options{.queue = "default", .retry = 3};
  void perform(std::string name) {
    std::cout << "Hello, " << name << "! (job " << errand::current_job().jid << ")\n";
    g_greeted.fetch_add(1);
  }
};
ERRAND_JOB(Greet);

int main() {
  auto client = errand::Client::open("sqlite://hello.db");
  if (!client) {
    std::cerr << "cannot open hello.db: " << client.error().message() << "\n";
    return 1;
  }
  for (const char* name : {"Ada", "Grace", "Linus"}) {
    auto jid = client->perform_async<Greet>(std::string(name));
    if (!jid) {
      std::cerr << "enqueue failed: " << jid.error().message() << "\n";
      return 1;
    }
  }

  errand::ServerOptions options;
  options.concurrency = 2;
  options.log_jobs = false;
  errand::Server server(client->queues(), options);
  if (auto st = server.start(); !st) {
    std::cerr << "cannot start: " << st.message() << "\n";
    return 1;
  }
  // A real worker would call server.run() and wait for SIGTERM; this one
  // stops once its three greetings are done (or after 10 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (g_greeted.load() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  server.stop();
  return g_greeted.load() >= 3 ? 0 : 1;
}
