// FlakyPaymentSync: syncs a payment attempt with a gateway that times out the
// first time it is asked. Shows a failure, a retry and a success; the
// custom backoff (1 s, plus errand's usual jitter) keeps the demo short.
#include <errand/errand.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>

#include "jobs/examples.h"

/// What a payment gateway client throws when the gateway does not answer in time.
class GatewayTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FlakyPaymentSync {
  static constexpr errand::JobOptions options{.queue = "payments", .retry = 5};
  // Only timeouts are worth retrying; anything else goes to the dead set.
  using retry_on = errand::exceptions<GatewayTimeout>;
  static std::chrono::seconds retry_in(int /*count*/) { return std::chrono::seconds(1); }

  void perform(std::int64_t attempt_id) {
    // retry_count is -1 on the first run: that is when our pretend gateway is slow.
    if (errand::current_job().retry_count < 0)
      throw GatewayTimeout("payment gateway did not answer within 5s (attempt " +
                           std::to_string(attempt_id) + ")");
    auto path = errand::examples::output_dir("payments") /
                ("attempt-" + std::to_string(attempt_id) + ".txt");
    std::ofstream out(path, std::ios::trunc);
    out << "attempt " << attempt_id << ": settled after " << errand::current_job().retry_count + 1
        << " retry\n";
    if (!out) throw std::runtime_error("cannot write " + path.string());
    errand::examples::record_completion("FlakyPaymentSync");
  }
};
ERRAND_JOB(FlakyPaymentSync);
