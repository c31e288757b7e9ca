// libFuzzer target: the worker's fast envelope reader (src/core/envelope.cc).
// Besides not crashing, it must agree with the full parse: whatever it
// accepts, payload::parse_for_work accepts too, with the same args.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/envelope.h"
#include "errand/payload.h"
#include "errand/payload_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto env = errand::read_envelope(text);
  if (!env) return 0;
  auto full = errand::payload::parse_for_work(text);
  if (!full.ok()) __builtin_trap();  // the envelope accepted what the full parse refuses
  if (full->at("args") != env->args) __builtin_trap();
  if (full->at("jid").get<std::string>() != env->jid) __builtin_trap();
  return 0;
}
