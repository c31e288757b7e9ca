// Built by the consumer test with nothing but `pkg-config --cflags --libs errand`.
#include <errand/errand.h>

#include <iostream>

struct Ping {
  void perform(int n) { std::cout << "ping " << n << "\n"; }
};
ERRAND_JOB(Ping);

int main() {
  auto client = errand::Client::open("memory://one-file").value();
  auto jid = client.perform_async<Ping>(1).value();
  std::cout << "errand " << ERRAND_VERSION << " enqueued " << jid.size() << "-char jid\n";
  return 0;
}
