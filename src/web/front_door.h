// The dashboard's front door: what cpp-httplib 0.11 (Debian's) does not
// bound, bounded in front of it.
//
// httplib gives every accepted connection a pool thread, which then waits,
// as long as bytes keep trickling in, for the request head; and it keeps
// every header line it reads (only each line's length is capped). So a few
// slow clients hold every thread, and a request with half a million headers
// costs hundreds of megabytes. Here a single poller thread reads request
// heads, with
//   - a deadline for the whole head (not per read),
//   - a cap on the head's bytes and on its number of lines,
//   - a cap on connections waiting for their head (the oldest is dropped),
// and only a connection whose head has fully arrived is handed to a pool
// thread, where httplib parses it from a stream that replays the head and
// then reads the body under a deadline of its own. One request per
// connection (no keep-alive), so every request passes this door.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <memory>

namespace errand::web {

struct DoorLimits {
  std::chrono::milliseconds head_deadline{5000};   ///< from accept to the end of the head
  std::chrono::milliseconds body_deadline{10000};  ///< from the head to the end of the body
  std::size_t max_head_bytes = 32 * 1024;
  std::size_t max_header_lines = 100;
  std::size_t max_waiting = 256;  ///< connections still sending their head
  int threads = 8;                ///< request threads
};

/// An httplib::Server whose connections pass the front door first.
class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(DoorLimits limits = {});
  ~GuardedServer() override;
  GuardedServer(const GuardedServer&) = delete;
  GuardedServer& operator=(const GuardedServer&) = delete;

  /// Starts the poller and the request threads (before listen_after_bind()).
  void open_door();
  /// Stops them, closing waiting connections; call after stop() returned.
  void close_door();

  /// Runs one request read from `head` + the socket (called by a pool thread).
  void serve(int sock, std::string head);

 private:
  // httplib calls this from its accept loop (through an inline task queue):
  // the connection is handed to the poller, and the accept loop goes on.
  bool process_and_close_socket(socket_t sock) override;

  struct Door;
  std::unique_ptr<Door> door_;
};

}  // namespace errand::web
