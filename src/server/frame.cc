#include "server/frame.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace errand::frame {

namespace {

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

bool write(int fd, std::string_view bytes) {
  if (bytes.size() > kMax) return false;
  const auto len = static_cast<std::uint32_t>(bytes.size());
  char head[sizeof len];
  std::memcpy(head, &len, sizeof len);
  return write_all(fd, head, sizeof head) && write_all(fd, bytes.data(), bytes.size());
}

std::optional<std::string> read(int fd) {
  std::uint32_t len = 0;
  char head[sizeof len];
  if (!read_all(fd, head, sizeof head)) return std::nullopt;
  std::memcpy(&len, head, sizeof len);
  if (len > kMax) return std::nullopt;
  std::string out(len, '\0');
  if (!read_all(fd, out.data(), len)) return std::nullopt;
  return out;
}

}  // namespace errand::frame
