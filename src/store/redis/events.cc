#include "store/redis/events.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "store/memory/store_util.h"
#include "store/subscription_thread.h"

namespace errand::redis {

namespace {

std::string number_text(double v) { return store_util::format_score(v); }

/// A subscription: SUBSCRIBE on a connection of its own, hand each message
/// to the callback, reconnect when cut off (store/subscription_thread.h).
class Subscriber : public EventSubscription {
 public:
  Subscriber(Endpoint endpoint, std::string channel, EventCallback call)
      : endpoint_(std::move(endpoint)), channel_(std::move(channel)), call_(std::move(call)) {}
  ~Subscriber() override { thread_.stop(); }
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  /// Subscribes once on this thread (so that events published after
  /// subscribe_events returned are seen), then starts the thread.
  Status start() {
    auto conn = connect();
    if (!conn) return conn.status();
    first_ = std::move(conn).value();
    return thread_.start([this](int stop_fd) {
      auto c = first_ ? Result<std::unique_ptr<Connection>>(std::move(first_)) : connect();
      if (!c) return false;
      deliver(**c, stop_fd);
      return true;
    });
  }

 private:
  Result<std::unique_ptr<Connection>> connect() {
    auto conn = Connection::open(endpoint_);
    if (!conn) return conn.error();
    auto sub = (*conn)->command({"SUBSCRIBE", channel_});
    if (!sub) return sub.error();
    return std::move(conn).value();
  }

  /// Until stopped or cut off.
  void deliver(Connection& conn, int stop_fd) {
    while (!thread_.stopping()) {
      auto r = conn.poll_reply(stop_fd, std::chrono::milliseconds(1'000));
      if (!r) return;
      if (!*r) continue;
      const redisReply* m = (*r)->get();
      // ["message", channel, payload]
      if (size(m) != 3 || str(at(m, 0)) != "message") continue;
      if (auto event = decode_event(str(at(m, 2)))) store_util::deliver_event(call_, *event);
    }
  }

  const Endpoint endpoint_;
  const std::string channel_;
  const EventCallback call_;
  std::unique_ptr<Connection> first_;      ///< the connection start() subscribed on
  store_util::SubscriptionThread thread_;  // last: stopped before the rest goes
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
