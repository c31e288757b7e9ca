// libFuzzer target: the full payload parse (payload::parse_for_work) and what
// the worker then does with an accepted document: resolve the invocation,
// copy, dump and compare it. The limits' pre-scan must refuse whatever would
// nest past max_depth, so none of these recurses without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/invocation.h"
#include "errand/payload.h"
#include "errand/payload_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool within = errand::payload::check_limits(text).ok();
  auto doc = errand::payload::parse_for_work(text);
  if (!doc.ok()) return 0;
  if (!within) __builtin_trap();  // parsed although over the limits
  if (errand::payload::depth(*doc) > errand::payload::limits().max_depth) __builtin_trap();
  auto inv = errand::resolve_invocation(*doc);
  if (inv.ok()) (void)errand::payload::dump(inv->args);
  const errand::Json copy = *doc;
  if (copy != *doc) __builtin_trap();
  const std::string again = errand::payload::dump(copy);
  (void)errand::payload::display_class(copy);
  (void)errand::payload::retry_field(copy);
  (void)errand::payload::timestamp(copy, "enqueued_at");
  (void)errand::payload::jid_of(text);
  (void)again;
  return 0;
}
