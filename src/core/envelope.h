// The worker's fast read of a payload: the few fields it needs to run a job
// (class, jid, args, retry_count, enqueued_at), read with simdjson's DOM
// parser (its kernel chosen for this CPU at run time) instead of building the
// whole nlohmann document, which cost about as much as everything else errand
// does per job. Only the args become a Json (perform() converts from it).
//
// A payload that asks for more (ActiveJob wrappers, display classes, expiry,
// unique locks, odd field types) is left to the full parse: read_envelope
// returns nullopt and the caller uses payload::parse_for_work.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "errand/payload.h"

namespace errand {

struct Envelope {
  std::string job_class;
  std::string jid;
  Json args;  ///< always an array
  int retry_count = -1;
  double enqueued_at = 0;  ///< 0 if absent
};

/// The envelope of a plain payload, or nullopt when the full parse is needed
/// (including any payload that is not valid JSON).
std::optional<Envelope> read_envelope(std::string_view text);

}  // namespace errand
