// What happens to a batch's records, written once for every store: creating
// a batch or workflow, adding members, a member's outcome (which may fire
// callbacks and release or stop workflow steps), cancelling. Each function
// runs inside Store::batch_update (one atomic step) and only reads and
// writes through the BatchTxn, so it may run more than once.
//
// Records (JSON text):
//   meta    {"bid","description","parent","workflow","created_at",
//            "n":{"total","waiting","failed","succeeded","dead"},
//            "fired":{"complete","success","death"}, "told":[...],
//            "callbacks":{"success":{"queue","jid","payload"},...},
//            "held":{jid:{"queue","priority","payload","inputs","waiting_on"}},
//            "dependants":{jid:[jid,...]}, "cancelled"}
//   member  {"s": "w" waiting | "f" failed, will retry | "s" succeeded |
//                 "d" dead | "c" cancelled or stopped, "r": result}
// Members are job jids, "batch:<bid>" for a child batch, and "open:<id>"
// for a jobs() call in progress (the batch cannot complete while one is).
#pragma once

#include <string>
#include <vector>

#include "errand/batch.h"
#include "errand/batch_store.h"

namespace errand::batch {

/// A member's outcome, as the worker reports it.
enum class Outcome { succeeded, failed, died, cancelled };

/// Records kept this long after their last change.
constexpr double kTtlSeconds = 30 * 86'400;

/// Creates the batch if it has no meta yet (from `init`, an object with
/// description, parent, callbacks, workflow fields), then adds `members` as
/// waiting and `pushes` to push in the same step. Members already known are
/// left as they are.
Status add_members(BatchTxn& t, const Json& init, const std::vector<std::string>& members,
                   std::vector<PushItem> pushes, double now);

/// Sets (replaces) callbacks of a stored batch: `callbacks` maps "complete",
/// "success", "death" to {"queue","payload"}.
Status set_callbacks(BatchTxn& t, const Json& callbacks, double now);

/// A parent batch to tell about a child's outcome (see record()).
struct ParentNote {
  std::string parent;  ///< the parent's bid
  Outcome outcome;     ///< for its member "batch:<child bid>"
};

/// Records `member`'s outcome (idempotently: an outcome that does not change
/// the member's state is ignored), fires callbacks, releases or stops
/// workflow steps. Returns what the parent batch has not been told yet.
Result<std::vector<ParentNote>> record(BatchTxn& t, const std::string& member, Outcome outcome,
                                       const std::string& result, double now);

/// Marks the parent notes told (after the parent recorded them).
Status mark_told(BatchTxn& t, const std::vector<ParentNote>& notes, double now);

/// Marks the batch cancelled and stops its held workflow steps; returns the
/// members still waiting or failed (jobs to cancel, "batch:" children).
Result<std::vector<std::string>> cancel(BatchTxn& t, double now);

/// The status from a batch_read().
Result<BatchStatus> status_of(const BatchRecord& record);

const char* to_string(Outcome o) noexcept;

}  // namespace errand::batch
