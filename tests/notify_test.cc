// `errand worker` under systemd's Type=notify: a real worker process sends its
// notifications to a unix datagram socket this test binds, as systemd would.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/process.h"

namespace errand::testing {
namespace {

/// A bound AF_UNIX datagram socket: what systemd's NOTIFY_SOCKET is.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof addr.sun_path - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{0, 200'000};
    if (bound_) ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  /// Every message received so far.
  const std::vector<std::string>& messages() {
    char buf[4096];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
  }
  bool received(const std::string& line) {
    for (const auto& m : messages())
      if (("\n" + m + "\n").find("\n" + line + "\n") != std::string::npos) return true;
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::vector<std::string> messages_;
};

TEST(CliNotify, WorkerSendsReadyWatchdogStatusAndStopping) {
  TempDir dir;
  NotifySocket sock(dir / "notify.sock");
  ASSERT_TRUE(sock.bound()) << "cannot bind " << sock.path();
  const auto url = sqlite_url(dir);
  // A 1 s watchdog: the worker must beat (and notify) at least every 0.5 s.
  Worker w(dir, url, {"--heartbeat-interval", "2"},
           {{"NOTIFY_SOCKET", sock.path()}, {"WATCHDOG_USEC", "1000000"}});
  ASSERT_TRUE(eventually(30s, [&] { return sock.received("READY=1"); })) << w.output();
  ASSERT_TRUE(eventually(30s, [&] { return sock.received("WATCHDOG=1"); }))
      << "the heartbeat must feed the watchdog, shortened below WATCHDOG_USEC\n"
      << w.output();
  bool status = false;
  for (const auto& m : sock.messages())
    status = status || m.find("STATUS=busy 0, processed 0") != std::string::npos;
  EXPECT_TRUE(status) << "STATUS= with the busy and processed counts";
  EXPECT_FALSE(sock.received("STOPPING=1"));
  EXPECT_EQ(w.stop(), 0) << w.output();
  EXPECT_TRUE(sock.received("STOPPING=1")) << w.output();
}

}  // namespace
}  // namespace errand::testing
