#include "store/postgres/event_stream.h"

#include <poll.h>
#include <postgresql/libpq-fe.h>

#include <thread>

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

EventStream::~EventStream() { thread_.stop(); }

bool EventStream::start() {
  return thread_.start([this](int stop_fd) { return listen_once(stop_fd); }).ok();
}

bool EventStream::wait_listening(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!listening_ && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return listening_;
}

bool EventStream::listen_once(int stop_fd) {
  std::unique_ptr<Conn> conn;
  try {
    conn = Conn::open(conninfo_, where_, nullptr);
    conn->exec("LISTEN " + quote_ident(channel_));
  } catch (const Error& e) {
    log::warn("job events: cannot listen", {{"error", e.what()}});
    return false;
  }
  listening_ = true;
  PGconn* c = conn->handle();
  while (!thread_.stopping()) {
    pollfd fds[2] = {{conn->socket(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) break;
    if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) break;
    while (PGnotify* n = PQnotifies(c)) {
      auto event = decode_event(n->extra ? n->extra : "");
      PQfreemem(n);
      if (event) store_util::deliver_event(call_, *event);
    }
  }
  return true;
}

}  // namespace errand::pg
