// Middleware chains, as in Sidekiq: client middleware sees every payload
// before it is pushed; server middleware wraps every perform().
//
// A middleware calls `next()` to go on; not calling it stops the chain (a
// client middleware that does not call next() drops the push, and the push
// reports the job as not enqueued). Chains run in the order added.
//
// Thread safety: middleware objects are shared by all threads of a client or
// server and must be safe to call concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "errand/job.h"
#include "errand/payload.h"

namespace errand {

class ClientMiddleware {
 public:
  virtual ~ClientMiddleware() = default;
  /// `job` is the full payload, editable; `queue` is where it is going.
  virtual void call(Json& job, std::string_view queue, const std::function<void()>& next) = 0;
};

class ServerMiddleware {
 public:
  virtual ~ServerMiddleware() = default;
  /// `job` describes the job about to run; exceptions thrown here count as
  /// the job's failure.
  virtual void call(const JobContext& job, const std::function<void()>& next) = 0;
};

using ClientChain = std::vector<std::shared_ptr<ClientMiddleware>>;
using ServerChain = std::vector<std::shared_ptr<ServerMiddleware>>;

/// Runs `chain` around `last`. Returns true if the chain reached `last`.
bool run_client_chain(const ClientChain& chain, Json& job, std::string_view queue,
                      const std::function<void()>& last);
/// Runs `chain` around `last`. Returns true if the chain reached `last`.
bool run_server_chain(const ServerChain& chain, const JobContext& job,
                      const std::function<void()>& last);

}  // namespace errand
