// Job events in a browser, live: subscribes to the events that workers
// publish (errand worker --publish-events) and pushes each to every open
// page over Server-Sent Events.
//
//   errand_events_sse --store redis://127.0.0.1:6379/0 --port 8090
//   errand worker -r ./liberrand_examples.so --publish-events --store redis://127.0.0.1:6379/0
//   open http://127.0.0.1:8090/
#include <errand/errand.h>
#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <iostream>
#include <mutex>
#include <string>

namespace {

constexpr const char* kPage = R"(<!doctype html><meta charset="utf-8"><title>errand events</title>
<h1>errand job events</h1><ul id="log"></ul>
<script>
const log = document.getElementById('log');
new EventSource('/events').onmessage = (m) => {
  const e = JSON.parse(m.data), li = document.createElement('li');
  li.textContent = `${e.event} ${e.class || ''} ${e.jid}` +
      (e.progress !== undefined ? ` ${Math.round(e.progress * 100)}% ${e.message || ''}` : '') +
      (e.error ? ` (${e.error})` : '');
  log.prepend(li);
};
</script>)";

/// The last events, numbered, for the pages to follow at their own pace.
class Feed {
 public:
  void add(std::string json) {
    {
      std::lock_guard lk(mu_);
      events_.push_back(std::move(json));
      if (events_.size() > 1000) {
        events_.pop_front();
        ++first_;
      }
    }
    cv_.notify_all();
  }
  std::uint64_t end() {
    std::lock_guard lk(mu_);
    return first_ + events_.size();
  }
  /// The events from `from` on (waiting up to a second for one).
  std::string since(std::uint64_t& from) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(1), [&] { return first_ + events_.size() > from; });
    std::string out;
    for (from = std::max(from, first_); from < first_ + events_.size(); ++from)
      out += "data: " + events_[from - first_] + "\n\n";
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> events_;  // guarded by mu_
  std::uint64_t first_ = 0;         // guarded by mu_: the number of events_.front()
};

}  // namespace

int main(int argc, char** argv) {
  std::string store = "redis://127.0.0.1:6379/0";
  int port = 8090;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--store") store = argv[i + 1];
    if (flag == "--port") port = std::stoi(argv[i + 1]);
  }
  auto client = errand::Client::open(store);
  if (!client) {
    std::cerr << client.error().message() << "\n";
    return 1;
  }
  Feed feed;
  auto subscription =
      client->subscribe([&feed](const errand::JobEvent& e) { feed.add(errand::encode_event(e)); });
  if (!subscription) {
    std::cerr << "cannot subscribe: " << subscription.error().message() << "\n";
    return 1;
  }
  httplib::Server http;
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kPage, "text/html; charset=utf-8");
  });
  http.Get("/events", [&feed](const httplib::Request&, httplib::Response& res) {
    auto next = std::make_shared<std::uint64_t>(feed.end());
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream",
                                     [&feed, next](std::size_t, httplib::DataSink& sink) {
                                       std::string chunk = feed.since(*next);
                                       if (chunk.empty()) chunk = ": keep-alive\n\n";
                                       return sink.write(chunk.data(), chunk.size());
                                     });
  });
  std::cout << "job events at http://127.0.0.1:" << port << "/ (from " << store << ")\n";
  return http.listen("127.0.0.1", port) ? 0 : 1;
}
