#include "store/redis/events.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "core/log.h"

namespace errand::redis {

namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", v);
  return buf;
}

/// A subscriber thread: SUBSCRIBE, hand each message to the callback,
/// reconnect when cut off, until destroyed.
class Subscriber : public EventSubscription {
 public:
  Subscriber(Endpoint endpoint, std::string channel, EventCallback call)
      : endpoint_(std::move(endpoint)), channel_(std::move(channel)), call_(std::move(call)) {}
  ~Subscriber() override {
    stopping_ = true;
    if (thread_.joinable()) {
      const char byte = 1;
      [[maybe_unused]] auto n = ::write(stop_pipe_[1], &byte, 1);
      thread_.join();
    }
    for (int fd : stop_pipe_)
      if (fd >= 0) ::close(fd);
  }
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  /// Subscribes once on this thread (so that events published after
  /// subscribe_events returned are seen), then starts the thread.
  Status start() {
    if (::pipe(stop_pipe_) != 0) return fail(Errc::unavailable, "pipe failed");
    auto conn = connect();
    if (!conn) return conn.status();
    thread_ = std::thread([this, c = std::move(conn).value()]() mutable { run(std::move(c)); });
    return {};
  }

 private:
  Result<std::unique_ptr<Connection>> connect() {
    auto conn = Connection::open(endpoint_);
    if (!conn) return conn.error();
    auto sub = (*conn)->command({"SUBSCRIBE", channel_});
    if (!sub) return sub.error();
    return std::move(conn).value();
  }

  void run(std::unique_ptr<Connection> conn) {
    auto backoff = std::chrono::milliseconds(50);
    while (!stopping_) {
      if (conn) {
        deliver(*conn);
        conn.reset();
        backoff = std::chrono::milliseconds(50);
      }
      if (stopping_) break;
      pollfd p{stop_pipe_[0], POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(backoff.count()));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2'000));
      if (auto c = connect()) conn = std::move(c).value();
    }
  }

  /// Until stopped or cut off.
  void deliver(Connection& conn) {
    while (!stopping_) {
      auto r = conn.poll_reply(stop_pipe_[0], std::chrono::milliseconds(1'000));
      if (!r) return;
      if (!*r) continue;
      const redisReply* m = (*r)->get();
      // ["message", channel, payload]
      if (size(m) != 3 || str(at(m, 0)) != "message") continue;
      auto event = decode_event(str(at(m, 2)));
      if (!event) continue;
      try {
        call_(*event);
      } catch (...) {
        log::error("a job event subscriber threw", {{"jid", event->jid}});
      }
    }
  }

  const Endpoint endpoint_;
  const std::string channel_;
  const EventCallback call_;
  std::thread thread_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
};

}  // namespace

Status EventChannel::progress(std::span<const ProgressUpdate> updates) {
  if (updates.empty()) return {};
  std::vector<Argv> cmds;
  for (const auto& u : updates) {
    const std::string k = prefix_ + "errand:status:" + u.jid;
    cmds.push_back({"HSET", k, "progress", number_text(u.fraction), "progress_message", u.message,
                    "at", number_text(u.now)});
    // The record lives ttl_seconds after its last report.
    const auto end = static_cast<long long>(std::ceil(u.now + u.ttl_seconds));
    cmds.push_back({"EXPIREAT", k, std::to_string(std::max<long long>(end, 1))});
  }
  auto r = client_.multi(cmds);
  return r ? Status() : r.status();
}

Status EventChannel::publish(std::span<const JobEvent> events) {
  if (events.empty()) return {};
  std::vector<Argv> cmds;
  cmds.reserve(events.size());
  for (const auto& e : events) cmds.push_back({"PUBLISH", channel(), encode_event(e)});
  auto r = client_.pipe(cmds);
  return r ? Status() : r.status();
}

Result<std::unique_ptr<EventSubscription>> EventChannel::subscribe(EventCallback on_event) {
  auto s = std::make_unique<Subscriber>(client_.endpoint(), channel(), std::move(on_event));
  if (auto st = s->start(); !st) return st.error();
  return std::unique_ptr<EventSubscription>(std::move(s));
}

}  // namespace errand::redis
