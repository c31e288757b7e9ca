// libFuzzer target: ActiveJob unwrapping (src/core/invocation.cc). The input
// is taken as the serialized job hash Rails' Sidekiq adapter puts in args[0],
// so the fuzzer spends its time on job_class/arguments/_aj_* decoding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/invocation.h"
#include "errand/payload.h"
#include "errand/payload_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto job = errand::payload::parse(text);
  if (!job.ok()) return 0;
  errand::Json doc = {{"class", "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"},
                      {"wrapped", "Fallback"},
                      {"args", errand::Json::array()},
                      {"jid", "0123456789abcdef01234567"}};
  doc["args"].push_back(std::move(job).value());
  auto inv = errand::resolve_invocation(doc);
  if (!inv.ok()) return 0;
  if (!inv->active_job || !inv->args.is_array()) __builtin_trap();
  (void)errand::payload::dump(inv->args);
  return 0;
}
