#include "store/postgres/listener.h"

#include <poll.h>
#include <postgresql/libpq-fe.h>
#include <unistd.h>

#include <algorithm>

#include "store/postgres/statements.h"

namespace errand::pg {

void Listener::ensure_started() {
  MutexLock lock(mu_);
  if (thread_.joinable() || stopping_) return;
  if (::pipe(stop_pipe_) != 0) return;  // fetch still polls every poll_interval
  thread_ = std::thread([this] { run(); });
}

void Listener::stop() {
  std::thread t;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    t = std::move(thread_);
  }
  if (!t.joinable()) return;
  const char byte = 1;
  [[maybe_unused]] auto n = ::write(stop_pipe_[1], &byte, 1);
  t.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::uint64_t Listener::generation() {
  MutexLock lock(mu_);
  return gen_;
}

void Listener::wake() {
  {
    MutexLock lock(mu_);
    ++gen_;
  }
  cv_.notify_all();
}

void Listener::wait(std::uint64_t seen, std::chrono::steady_clock::time_point until) {
  MutexLock lock(mu_);
  cv_.wait_until(lock, until, [&]() REQUIRES(mu_) { return gen_ != seen; });
}

void Listener::run() {
  auto backoff = std::chrono::milliseconds(50);
  while (!stopping_) {
    if (listen_once(stop_pipe_[0])) backoff = std::chrono::milliseconds(50);
    if (stopping_) break;
    // Connection lost or refused: wake everyone (they look once), then wait.
    wake();
    pollfd p{stop_pipe_[0], POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(backoff.count()));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2'000));
  }
}

// One connection's life: LISTEN, then block until notified, stopped or cut
// off. True if it got as far as listening.
bool Listener::listen_once(int stop_fd) {
  std::unique_ptr<Conn> conn;
  try {
    conn = pool_.open();
    conn->exec("LISTEN " + quote_ident(channel_));
  } catch (const Error&) {
    return false;
  }
  wake();  // anything pushed before LISTEN took effect is found by one look
  PGconn* c = conn->handle();
  while (!stopping_) {
    pollfd fds[2] = {{conn->socket(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) break;
    if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) break;
    bool any = false;
    while (PGnotify* n = PQnotifies(c)) {
      any = true;
      PQfreemem(n);
    }
    if (any) wake();
  }
  return true;
}

}  // namespace errand::pg
