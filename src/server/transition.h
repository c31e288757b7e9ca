// Store transitions made on a job's behalf (ack, retry, kill, reschedule),
// retried while the store is away: the processor's and the acker's one policy.
#pragma once

#include <functional>

#include "errand/status.h"

namespace errand {

/// Runs `op`, retrying while it answers unavailable or busy: a warning on the
/// first failure and every 20th, pauses growing from 50 ms to 2 s, and once
/// `stopping()` holds, at most 3 retries (the job then stays claimed and
/// returns to its queue through the rescuer once this process is gone; that
/// is logged here). Returns the last status: ok, a refusal (any other
/// error, for the caller to report), or the transient error given up on.
Status retry_transition(const char* what, const std::function<Status()>& op,
                        const std::function<bool()>& stopping);

/// True for the errors retry_transition retries.
inline bool transient(const Status& st) {
  return st.code() == Errc::unavailable || st.code() == Errc::busy;
}

}  // namespace errand
