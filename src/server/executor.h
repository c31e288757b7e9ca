// run: where a job's perform() happens and how what it threw becomes an
// Outcome. The one place where exceptions thrown by user jobs are caught.
// Today every job runs on its processor's thread (ThreadExecutor).
#pragma once

#include <memory>
#include <stop_token>

#include "errand/job.h"
#include "errand/middleware.h"
#include "server/job_view.h"
#include "server/outcome.h"

namespace errand {

/// Everything a run needs: the decoded job, its class (nullptr when no class
/// of that name is registered here), the server middleware, the stop token.
struct RunRequest {
  DecodedJob* job = nullptr;
  const JobDescriptor* descriptor = nullptr;
  const ServerChain* chain = nullptr;
  std::stop_token stop;
  /// Where JobContext::progress reports go (empty: nowhere).
  JobContext::ProgressSink progress;
};

/// The readable name of a mangled C++ symbol or type name (`name` itself
/// when it cannot be demangled).
std::string demangle(const char* name);

/// Runs the job on the calling thread with its JobContext current, through
/// the middleware, and classifies the result. Never throws.
Outcome run_in_thread(const RunRequest& req);

}  // namespace errand
