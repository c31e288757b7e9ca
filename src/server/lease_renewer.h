// The lease renewer: extends the concurrency slots of the running jobs by
// process_ttl, so a slot outlives a long job but comes back soon after its
// process dies (the lease then simply expires).
#pragma once

#include "server/runtime.h"
#include "server/service.h"

namespace errand {

class LeaseRenewer : public Service {
 public:
  explicit LeaseRenewer(Runtime& rt) : rt_(rt) {}
  const char* name() const override { return "lease renewer"; }
  std::chrono::milliseconds first_delay() override { return next_interval(); }
  std::chrono::milliseconds next_interval() override {
    const auto& o = rt_.options;
    return o.lease_renew_interval.count() > 0 ? o.lease_renew_interval : o.heartbeat_interval;
  }
  void run_once() override;
  /// Only running jobs concern it: asleep while none runs.
  bool idle() override { return rt_.busy.load() == 0; }

 private:
  Runtime& rt_;
};

}  // namespace errand
