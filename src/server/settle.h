// settle: the one place that stores how a claimed job ended. The processor
// calls it once per job; the watchdog calls it for a job that ignored its
// timeout. It applies the transition (retrying while the store is away),
// releases unique locks at the right moment, runs the error and death
// handlers, writes the job logger's line and bumps the counters.
#pragma once

#include "server/job_view.h"
#include "server/outcome.h"
#include "server/runtime.h"

namespace errand {

/// The dead-set entry for a payload errand cannot run: the payload with
/// errand::BadPayload and `why` set, or, when it is not a JSON object within
/// the payload limits (invalid JSON, an array, too deep, too large), a job
/// object wrapping its text whole as the one argument, with its jid when a
/// streaming read finds one.
struct BadPayloadEntry {
  std::string text;
  std::string jid;  ///< empty when the payload has none
};
BadPayloadEntry bad_payload_entry(const Fetched& job, const std::string& why, double now);

/// Stores `out` for `w`. `job` is the decoded job (nullptr when decoding
/// failed: only Kind::bad_payload then); `desc` its class (nullptr if unknown
/// here). After this call `w.job` may have been moved to the acker.
void settle(Runtime& rt, Work& w, DecodedJob* job, const JobDescriptor* desc, const Outcome& out);

}  // namespace errand
