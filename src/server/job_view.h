// decode: the first step of processing a claimed job. Reads the payload once
// into a JobView holding the typed fields every later step needs, whichever
// decoder read it: the simdjson envelope for a plain payload, or the full
// parse (ActiveJob wrappers, expiry, unique locks, odd field types). The whole
// document is parsed lazily, only for the steps that edit it (failures).
#pragma once

#include <optional>
#include <string>

#include "errand/job.h"
#include "errand/store.h"
#include "server/flow_control.h"

namespace errand {

struct JobView {
  std::string job_class;      ///< the registry name (ActiveJob: the wrapped class)
  std::string display_class;  ///< the name to log and show
  std::string jid;
  std::string queue;  ///< the queue it was fetched from
  Json args;          ///< the arguments for perform(), always an array when resolved
  int retry_count = -1;
  double enqueued_at = 0;
  std::optional<double> expires_at;
  /// How many workers died while running it (errand_crashes, counted by the
  /// store's rescue): at ServerOptions::max_crashes it is a poison pill.
  int crashes = 0;
  flow::UniqueLock unique;
  std::string bid;           ///< the batch it is a member of ("bid"), if any
  std::string callback_bid;  ///< the batch it is a callback of ("cb_bid"), if any
  /// Set when the payload is a job but its invocation cannot be resolved (a
  /// malformed ActiveJob wrapper): the run fails with this message.
  std::optional<std::string> invocation_error;
};

/// The class that runs `v` here: nullptr when its invocation could not be
/// resolved or no class of that name is registered.
std::shared_ptr<const JobDescriptor> descriptor_for(const JobView& v, const Registry& registry);

/// A claimed job read for processing. Refers to the fetched payload text,
/// which must outlive it.
class DecodedJob {
 public:
  /// Decodes `job`. Returns corrupt (with what is wrong) for a payload
  /// errand cannot run: not JSON, not an object, or missing class/args/jid.
  static Result<DecodedJob> decode(const Fetched& job);

  const JobView& view() const { return view_; }
  /// The whole document, parsed on the first call; nullptr when the full
  /// parse rejects what the fast reader accepted.
  Json* document();
  /// The document if it was parsed already (nullptr otherwise).
  const Json* parsed() const { return doc_ ? &*doc_ : nullptr; }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  JobView view_;
  std::optional<Json> doc_;
  bool doc_failed_ = false;
};

}  // namespace errand
