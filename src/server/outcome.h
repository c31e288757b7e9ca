// How a claimed job ended: what settle() stores. Every path through the
// processor (and the watchdog) ends in exactly one Outcome.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "errand/job.h"

namespace errand {

struct Outcome {
  enum class Kind {
    done,         ///< perform() returned: ack
    discarded,    ///< perform() threw Discard: ack, counted as discarded
    snoozed,      ///< perform() threw Snooze: back to the scheduled set after `delay`
    failed,       ///< perform() threw, or could not run: the retry policy decides
    expired,      ///< not started before its expires_at: ack, not run
    deferred,     ///< over a rate or concurrency limit: back to the scheduled set at `at`
    bad_payload,  ///< not a job errand can run: straight to the dead set
    cancelled,    ///< client.cancel() stopped it while it ran: ack, status cancelled
  };
  Kind kind = Kind::done;
  std::string error_class;    ///< failed
  std::string error_message;  ///< failed, discarded, bad_payload; deferred: which limit
  ErrorAction action = ErrorAction::retry;  ///< failed: what the job's classifier said
  double at = 0;                            ///< deferred: when to run again (epoch s)
  double delay = 0;                         ///< snoozed: seconds from the end of the run
  double elapsed = 0;                       ///< seconds perform() ran
  std::string result = "null";              ///< done: what perform() returned, as JSON text
  /// failed: the stack of a crash, one frame a line, innermost first (stored
  /// as error_backtrace when the job's `backtrace` field asks for it).
  std::vector<std::string> backtrace;

  static Outcome failure(std::string cls, std::string msg,
                         ErrorAction action = ErrorAction::retry) {
    Outcome o;
    o.kind = Kind::failed;
    o.error_class = std::move(cls);
    o.error_message = std::move(msg);
    o.action = action;
    return o;
  }
};

}  // namespace errand
