// Length-prefixed frames on a stream socket (a 4-byte length in host order,
// then the bytes): the processor ↔ child protocol. EINTR is retried.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace errand::frame {

/// The largest frame either side accepts (a payload over the worker's size
/// limit never gets here).
inline constexpr std::uint32_t kMax = 256u << 20;

/// Writes one frame; false if the peer is gone.
bool write(int fd, std::string_view bytes);
/// Reads one frame; nullopt at EOF, on error, or for a frame over kMax.
std::optional<std::string> read(int fd);

}  // namespace errand::frame
