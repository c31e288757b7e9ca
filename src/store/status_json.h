// A job's status as JSON, one shape for `errand status --json` and the
// dashboard's /api/status/JID: jid, state, and result (succeeded), error,
// process, cancel_requested, updated_at when known.
#pragma once

#include <string>

#include "errand/job_status.h"
#include "errand/payload.h"

namespace errand {

Json status_json(const std::string& jid, const JobStatus& status);

}  // namespace errand
