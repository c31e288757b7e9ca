// Job status and results: where one job is in its life, and what its
// perform() returned. Read through Client::status / result / wait, written by
// the worker (running, succeeded, retrying, dead, cancelled) and derived from
// where a job sits for the states before it runs (queued, scheduled).
//
// Stores that keep status say so in StoreCapabilities::status; see
// Store::record_status and the calls next to it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace errand {

/// Where a job is. `unknown`: no store knows the jid (never pushed, or its
/// record's TTL ran out).
enum class JobState { unknown, queued, scheduled, running, succeeded, retrying, dead, cancelled };

/// "queued", "scheduled", ... as the CLI and the JSON API print them.
std::string_view to_string(JobState state) noexcept;
/// The inverse of to_string; nullopt for any other text.
std::optional<JobState> job_state_from_string(std::string_view text) noexcept;
/// True for the states a job does not leave: succeeded, dead, cancelled.
constexpr bool is_final(JobState s) noexcept {
  return s == JobState::succeeded || s == JobState::dead || s == JobState::cancelled;
}

/// One job's status as a store reports it.
struct JobStatus {
  JobState state = JobState::unknown;
  /// succeeded: the JSON text perform() returned ("null" for a void perform).
  std::string result;
  /// retrying, dead: the last failure, "ErrorClass: message".
  std::string error;
  /// running: the identity of the process that runs it (when recorded).
  std::string process;
  /// client.cancel() asked the running job to stop; it has not ended yet.
  bool cancel_requested = false;
  /// When the record was last written (epoch seconds); 0 when derived.
  double updated_at = 0;
  /// The last progress the job reported (JobContext::progress), 0 to 1;
  /// nullopt when it reported none. Kept after the job ends.
  std::optional<double> progress;
  /// The message of that report ("" if none).
  std::string progress_message;
};

/// A status transition for Store::record_status.
struct StatusUpdate {
  std::string jid;
  JobState state = JobState::unknown;
  std::string result;   ///< succeeded: JSON text
  std::string error;    ///< retrying, dead: "ErrorClass: message"
  std::string process;  ///< running: the process identity
  double now = 0;       ///< epoch seconds
  /// The record is kept this long after `now` (JobOptions::result_ttl).
  double ttl_seconds = 86'400;
};

/// A running job's progress for Store::record_progress: sets the record's
/// progress fields, leaving its state (and everything else) as it is.
struct ProgressUpdate {
  std::string jid;
  double fraction = 0;  ///< 0 to 1
  std::string message;
  double now = 0;  ///< epoch seconds
  /// The record is kept at least this long after `now` (JobOptions::result_ttl).
  double ttl_seconds = 86'400;
};

}  // namespace errand
