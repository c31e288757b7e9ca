// README.md's "Write a job", as a newcomer builds it into libmyjobs.so: its
// SendWelcomeEmail has the name of the example class.
#include <errand/errand.h>

#include <cstdint>
#include <string>

#include "clash_job.h"

struct SendWelcomeEmail {
  static constexpr errand::JobOptions options{.queue = "mailers", .retry = 5};
  void perform(std::int64_t user_id, std::string locale) {
    clash_record("newcomer " + std::to_string(user_id) + " " + locale);
  }
};
ERRAND_JOB(SendWelcomeEmail);
