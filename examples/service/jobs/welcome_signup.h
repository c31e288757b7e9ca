// WelcomeSignup(user_id, email): the job the service enqueues for each signup.
#pragma once

#include <errand/errand.h>

#include <cstdint>
#include <string>

struct WelcomeSignup {
  static constexpr errand::JobOptions options{.queue = "signups", .retry = 5};
  void perform(std::int64_t user_id, std::string email);
};
