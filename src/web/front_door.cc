// The front door (see front_door.h): a poller that reads request heads under
// a deadline and size caps, and a stream that replays a head to httplib.
#include "web/front_door.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace errand::web {

namespace {

using Clock = std::chrono::steady_clock;

/// httplib's accept loop hands each connection to its task queue: this one
/// runs the hand-over inline (it only queues the socket for the poller).
class InlineQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

int millis_until(Clock::time_point t) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
}

void close_socket(int sock) {
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

/// Best effort: a short answer to a request that was refused at the door.
void refuse(int sock, int status, const char* reason, const char* text) {
  const std::string body = std::string(text) + "\n";
  const std::string msg =
      "HTTP/1.1 " + std::to_string(status) + " " + reason +
      "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  (void)::send(sock, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  // Read what has already arrived (a little), so that closing does not reset
  // the connection before the client has read the answer.
  ::shutdown(sock, SHUT_WR);
  char sink[16384];
  for (int i = 0; i < 16 && ::recv(sock, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
  }
  ::close(sock);
}

void address_of(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int r = peer ? ::getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                     : ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  if (r != 0) return;
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

/// The socket as httplib's Stream: first the head the poller read, then the
/// socket itself, every read before one deadline.
class ReplayStream : public httplib::Stream {
 public:
  ReplayStream(int sock, std::string head, Clock::time_point read_deadline)
      : sock_(sock), head_(std::move(head)), deadline_(read_deadline) {}

  bool is_readable() const override { return pos_ < head_.size() || wait(POLLIN, deadline_); }
  bool is_writable() const override {
    return wait(POLLOUT, Clock::now() + std::chrono::seconds(10));
  }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ < head_.size()) {
      const std::size_t n = std::min(size, head_.size() - pos_);
      std::copy_n(head_.data() + pos_, n, ptr);
      pos_ += n;
      return static_cast<ssize_t>(n);
    }
    for (;;) {
      if (!wait(POLLIN, deadline_)) return -1;  // the body is late: give up
      const ssize_t r = ::recv(sock_, ptr, size, 0);
      if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      return r;
    }
  }
  ssize_t write(const char* ptr, size_t size) override {
    std::size_t sent = 0;
    while (sent < size) {
      if (!is_writable()) return -1;
      const ssize_t r = ::send(sock_, ptr + sent, size - sent, MSG_NOSIGNAL);
      if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (r <= 0) return -1;
      sent += static_cast<std::size_t>(r);
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, false, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  bool wait(short events, Clock::time_point deadline) const {
    for (;;) {
      pollfd p{sock_, events, 0};
      const int r = ::poll(&p, 1, millis_until(deadline));
      if (r < 0 && errno == EINTR) continue;
      return r > 0;
    }
  }

  int sock_;
  std::string head_;
  std::size_t pos_ = 0;
  Clock::time_point deadline_;
};

/// Where the head ends ("\r\n\r\n", or a bare "\n\n"), or npos.
std::size_t head_end(const std::string& buf) {
  const auto crlf = buf.find("\r\n\r\n");
  if (crlf != std::string::npos) return crlf + 4;
  const auto lf = buf.find("\n\n");
  return lf == std::string::npos ? std::string::npos : lf + 2;
}

}  // namespace

struct GuardedServer::Door {
  DoorLimits limits;
  std::mutex mu;
  std::vector<int> incoming;  // guarded by mu: accepted, not yet seen by the poller
  int wake = -1;              // eventfd: new connections or stop
  std::atomic<bool> stopping{false};
  std::thread poller;
  std::unique_ptr<httplib::ThreadPool> pool;

  struct Waiting {
    std::string buf;
    Clock::time_point deadline;
    std::uint64_t order = 0;
  };
  std::map<int, Waiting> waiting;  // poller thread only
  std::uint64_t next_order = 0;

  void run(GuardedServer& server);
  void take_incoming();
  /// Reads what `sock` has; true if it is done with the poller (handed over or closed).
  bool read_head(GuardedServer& server, int sock, Waiting& w);
  void drop_oldest();
};

void GuardedServer::Door::take_incoming() {
  std::vector<int> socks;
  {
    std::lock_guard lock(mu);
    socks.swap(incoming);
  }
  for (int s : socks) {
    if (waiting.size() >= limits.max_waiting) drop_oldest();
    waiting[s] = Waiting{{}, Clock::now() + limits.head_deadline, next_order++};
  }
}

void GuardedServer::Door::drop_oldest() {
  auto oldest = std::min_element(waiting.begin(), waiting.end(), [](const auto& a, const auto& b) {
    return a.second.order < b.second.order;
  });
  if (oldest == waiting.end()) return;
  refuse(oldest->first, 503, "Service Unavailable", "too many connections are still sending");
  waiting.erase(oldest);
}

bool GuardedServer::Door::read_head(GuardedServer& server, int sock, Waiting& w) {
  char buf[4096];
  for (;;) {
    const std::size_t room = limits.max_head_bytes + 1 - w.buf.size();
    const ssize_t r = ::recv(sock, buf, std::min(sizeof buf, room), MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (r <= 0) {
      close_socket(sock);
      return true;
    }
    w.buf.append(buf, static_cast<std::size_t>(r));
    const std::size_t end = head_end(w.buf);
    const std::string_view head(w.buf.data(), end == std::string::npos ? w.buf.size() : end);
    if (static_cast<std::size_t>(std::count(head.begin(), head.end(), '\n')) >
        limits.max_header_lines + 1) {
      refuse(sock, 431, "Request Header Fields Too Large", "too many header lines");
      return true;
    }
    if (end != std::string::npos) {
      pool->enqueue([&server, sock, head = std::move(w.buf)]() mutable {
        server.serve(sock, std::move(head));
      });
      return true;
    }
    if (w.buf.size() > limits.max_head_bytes) {
      refuse(sock, 431, "Request Header Fields Too Large", "request head too large");
      return true;
    }
  }
}

void GuardedServer::Door::run(GuardedServer& server) {
  std::vector<pollfd> fds;
  while (!stopping.load()) {
    take_incoming();
    fds.assign(1, pollfd{wake, POLLIN, 0});
    Clock::time_point next = Clock::now() + std::chrono::seconds(1);
    for (auto& [sock, w] : waiting) {
      fds.push_back(pollfd{sock, POLLIN, 0});
      next = std::min(next, w.deadline);
    }
    const int r = ::poll(fds.data(), fds.size(), millis_until(next));
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      std::uint64_t n = 0;
      (void)::read(wake, &n, sizeof n);
    }
    const auto now = Clock::now();
    for (std::size_t i = 1; i < fds.size(); ++i) {
      auto it = waiting.find(fds[i].fd);
      if (it == waiting.end()) continue;
      bool done = false;
      if (fds[i].revents) done = read_head(server, it->first, it->second);
      if (!done && now >= it->second.deadline) {
        refuse(it->first, 408, "Request Timeout", "the request head took too long");
        done = true;
      }
      if (done) waiting.erase(it);
    }
  }
  for (auto& [sock, w] : waiting) close_socket(sock);
  waiting.clear();
}

GuardedServer::GuardedServer(DoorLimits limits) : door_(std::make_unique<Door>()) {
  door_->limits = limits;
  new_task_queue = [] { return new InlineQueue; };
  set_keep_alive_max_count(1);
}

GuardedServer::~GuardedServer() { close_door(); }

void GuardedServer::open_door() {
  auto& d = *door_;
  if (d.poller.joinable()) return;
  d.stopping = false;
  d.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  d.pool = std::make_unique<httplib::ThreadPool>(
      static_cast<std::size_t>(std::max(1, d.limits.threads)));
  d.poller = std::thread([this] { door_->run(*this); });
}

void GuardedServer::close_door() {
  auto& d = *door_;
  if (!d.poller.joinable()) return;
  d.stopping = true;
  const std::uint64_t one = 1;
  (void)::write(d.wake, &one, sizeof one);
  d.poller.join();
  d.pool->shutdown();
  d.pool.reset();
  {
    std::lock_guard lock(d.mu);
    for (int s : d.incoming) close_socket(s);
    d.incoming.clear();
  }
  ::close(d.wake);
  d.wake = -1;
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  auto& d = *door_;
  const int flags = ::fcntl(sock, F_GETFL, 0);
  (void)::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
  if (d.stopping.load() || d.wake < 0) {
    close_socket(sock);
    return false;
  }
  {
    std::lock_guard lock(d.mu);
    d.incoming.push_back(sock);
  }
  const std::uint64_t one = 1;
  (void)::write(d.wake, &one, sizeof one);
  return true;
}

void GuardedServer::serve(int sock, std::string head) {
  ReplayStream stream(sock, std::move(head), Clock::now() + door_->limits.body_deadline);
  bool closed = false;
  process_request(stream, /*close_connection=*/true, closed, nullptr);
  close_socket(sock);
}

}  // namespace errand::web
