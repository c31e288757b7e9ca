#include "store/postgres/event_stream.h"

#include <poll.h>
#include <postgresql/libpq-fe.h>
#include <unistd.h>

#include <algorithm>

#include "core/log.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/statements.h"

namespace errand::pg {

EventStream::EventStream(std::string conninfo, std::string where, std::string channel,
                         EventCallback call)
    : conninfo_(std::move(conninfo)),
      where_(std::move(where)),
      channel_(std::move(channel)),
      call_(std::move(call)) {}

EventStream::~EventStream() {
  stopping_ = true;
  if (thread_.joinable()) {
    const char byte = 1;
    [[maybe_unused]] auto n = ::write(stop_pipe_[1], &byte, 1);
    thread_.join();
  }
  for (int fd : stop_pipe_)
    if (fd >= 0) ::close(fd);
}

bool EventStream::start() {
  if (::pipe(stop_pipe_) != 0) return false;
  thread_ = std::thread([this] { run(); });
  return true;
}

bool EventStream::wait_listening(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!listening_ && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return listening_;
}

void EventStream::run() {
  auto backoff = std::chrono::milliseconds(50);
  while (!stopping_) {
    listen_once();
    if (stopping_) break;
    pollfd p{stop_pipe_[0], POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(backoff.count()));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2'000));
  }
}

void EventStream::listen_once() {
  std::unique_ptr<Conn> conn;
  try {
    conn = Conn::open(conninfo_, where_, nullptr);
    conn->exec("LISTEN " + quote_ident(channel_));
  } catch (const Error& e) {
    log::warn("job events: cannot listen", {{"error", e.what()}});
    return;
  }
  listening_ = true;
  PGconn* c = conn->handle();
  while (!stopping_) {
    pollfd fds[2] = {{conn->socket(), POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) break;
    if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) break;
    while (PGnotify* n = PQnotifies(c)) {
      auto event = decode_event(n->extra ? n->extra : "");
      PQfreemem(n);
      if (!event) continue;
      try {
        call_(*event);
      } catch (...) {
        log::error("a job event subscriber threw", {{"jid", event->jid}});
      }
    }
  }
}

}  // namespace errand::pg
