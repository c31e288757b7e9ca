// `errand worker` under systemd's notify protocol: a real worker process whose
// NOTIFY_SOCKET is a datagram socket this test binds, as systemd would.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/process.h"

namespace errand::testing {
namespace {

/// A bound AF_UNIX datagram socket collecting what the worker sends.
class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const auto p = path_.string();
    if (p.size() >= sizeof(addr.sun_path)) throw std::runtime_error("socket path too long");
    std::copy(p.begin(), p.end(), addr.sun_path);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("bind failed");
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// Reads every datagram waiting; returns all received so far.
  const std::vector<std::string>& messages() {
    char buf[4096];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      messages_.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return messages_;
  }
  /// Index of the first message containing `text`, or -1.
  int find(const std::string& text) {
    const auto& all = messages();
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].find(text) != std::string::npos) return static_cast<int>(i);
    return -1;
  }
  std::string dump() {
    std::string out;
    for (const auto& m : messages()) out += "[" + m + "] ";
    return out;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

TEST(SystemdNotify, WorkerSendsReadyWatchdogStatusAndStopping) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  NotifySocket sock(dir / "notify.sock");
  enqueue_record_runs(url, 1, 2);
  // A 2 s watchdog: the worker must ping at least every second, whatever
  // --heartbeat-interval says.
  Worker w(dir, url, {"-c", "1", "--heartbeat-interval", "5", "--process-ttl", "30"},
           {{"NOTIFY_SOCKET", sock.path().string()},
            {"WATCHDOG_USEC", "2000000"},
            {"ERRAND_RECORD_FILE", (dir / "record.txt").string()}});
  ASSERT_TRUE(eventually(30s, [&] { return sock.find("READY=1") >= 0; }))
      << sock.dump() << w.output();
  ASSERT_TRUE(eventually(30s, [&] { return sock.find("WATCHDOG=1") >= 0; }))
      << sock.dump() << w.output();
  ASSERT_TRUE(eventually(30s, [&] { return sock.find("processed 1") >= 0; }))
      << "STATUS= reports the job that ran: " << sock.dump() << w.output();
  EXPECT_GE(sock.find("STATUS=busy "), 0) << sock.dump();
  EXPECT_EQ(sock.find("STOPPING=1"), -1) << sock.dump();
  EXPECT_EQ(w.stop(), 0) << w.output();
  const int ready = sock.find("READY=1");
  const int stopping = sock.find("STOPPING=1");
  EXPECT_GE(stopping, 0) << sock.dump();
  EXPECT_LT(ready, stopping) << sock.dump();
  EXPECT_LT(sock.find("WATCHDOG=1"), stopping) << sock.dump();
}

TEST(SystemdNotify, NoWatchdogPingsWithoutWatchdogUsec) {
  TempDir dir;
  const auto url = sqlite_url(dir);
  NotifySocket sock(dir / "notify.sock");
  Worker w(dir, url, {"-c", "1"}, {{"NOTIFY_SOCKET", sock.path().string()}});
  // Several heartbeats (0.5 s each) report their STATUS=; none pings a watchdog.
  ASSERT_TRUE(eventually(30s,
                         [&] {
                           int n = 0;
                           for (const auto& m : sock.messages())
                             n += m.find("STATUS=busy") != std::string::npos;
                           return n >= 3;
                         }))
      << sock.dump() << w.output();
  EXPECT_EQ(sock.find("WATCHDOG=1"), -1) << sock.dump();
  EXPECT_GE(sock.find("READY=1"), 0) << sock.dump();
  EXPECT_EQ(w.stop(), 0) << w.output();
  EXPECT_GE(sock.find("STOPPING=1"), 0) << sock.dump();
}

TEST(SystemdNotify, UnitFileIsTypeNotifyWithAWatchdog) {
  const auto unit =
      read_file(std::filesystem::path(ERRAND_SOURCE_DIR) / "packaging" / "errand@.service");
  ASSERT_FALSE(unit.empty());
  EXPECT_NE(unit.find("\nType=notify\n"), std::string::npos) << unit;
  EXPECT_NE(unit.find("\nWatchdogSec="), std::string::npos) << unit;
  EXPECT_NE(unit.find("ExecStart=errand worker -C /etc/errand/%i.yml"), std::string::npos) << unit;
}

}  // namespace
}  // namespace errand::testing
