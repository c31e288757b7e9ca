// The service's one job class.
#pragma once

#include <errand/errand.h>

#include <string>

struct SendWelcomeEmail {
  static constexpr errand::JobOptions options{.queue = "mailers", .retry = 5};
  /// "Sends" the email: appends a line to $SIGNUP_OUTBOX (or stdout).
  void perform(std::string email);
};
