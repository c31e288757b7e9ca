// How a client's pushes join a batch (Batch::jobs), and how a member's
// outcome reaches its batch and, through it, the enclosing batches.
#pragma once

#include <span>
#include <string>

#include "batch/logic.h"
#include "errand/store.h"

namespace errand::detail {
/// The batch a client's pushes join (Client::batch_), and its store.
struct BatchJoin {
  std::string bid;
  Store* store = nullptr;
};
}  // namespace errand::detail

namespace errand::batch {

/// Pushes `jobs` as members of `join`'s batch, each with its membership in
/// one atomic step. unsupported for another store or within an application
/// transaction.
Status join_push(const detail::BatchJoin& join, Store& store, bool within_txn,
                 std::span<const PushItem> jobs, double now);

/// Records `member`'s outcome in batch `bid` on `store`, then tells the
/// enclosing batches what they have not heard yet (each step atomic and
/// idempotent, so a crash anywhere is repaired by running it again).
Status report(Store& store, const std::string& bid, const std::string& member, Outcome outcome,
              const std::string& result, double now);

}  // namespace errand::batch
