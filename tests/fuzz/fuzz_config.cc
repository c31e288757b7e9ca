// libFuzzer target: the YAML configuration loader (errand::parse_config).
// Bad input must come back as an error value, never a crash or a throw.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "errand/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)errand::parse_config(text);
  return 0;
}
