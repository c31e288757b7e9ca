// The store's side of batches and workflows (errand/batch.h): one atomic
// read-modify-write of a batch's records. The logic (what a job's success
// or death does to its batch, which callbacks fire, which workflow steps are
// released) is written once, in src/batch/, over this seam; each store only
// makes the step atomic: Redis with WATCH/MULTI/EXEC (retried when another
// process wrote first), SQLite and PostgreSQL in one transaction (PostgreSQL
// under a transaction-scoped advisory lock on the bid), the memory store
// under its mutex.
//
// A batch is two records: its meta (one JSON text: counts, flags,
// callbacks, held workflow steps) and its members (member name → JSON
// text), plus its place in the list of batches (newest first).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "errand/status.h"
#include "errand/store.h"

namespace errand {

/// What batch_update's function reads and writes. Reads go to the store at
/// once (inside the atomic step); writes are buffered and applied together
/// with the pushes when the function returns success.
class BatchTxn {
 public:
  virtual ~BatchTxn() = default;
  /// The batch's meta, nullopt if the batch does not exist (or expired).
  /// Reads see this step's own buffered writes.
  Result<std::optional<std::string>> meta();
  /// The records of `names`, in order; nullopt for a name that is no member.
  Result<std::vector<std::optional<std::string>>> members(const std::vector<std::string>& names);
  /// Every member record (order unspecified).
  Result<std::vector<std::pair<std::string, std::string>>> all_members();

  // ---- buffered writes ----
  void set_meta(std::string text) { meta_write = std::move(text); }
  void set_member(std::string name, std::string record);
  void push(PushItem item) { pushes.push_back(std::move(item)); }

  std::optional<std::string> meta_write;
  std::vector<std::pair<std::string, std::string>> member_writes;  ///< one per name
  std::vector<PushItem> pushes;
  /// When the batch's records may be dropped (epoch seconds; 0: keep).
  double expires_at = 0;
  /// When the batch was created (epoch seconds): its rank in batch_list().
  double created_at = 0;

 protected:
  // What each store implements: reads of the stored records.
  virtual Result<std::optional<std::string>> read_meta() = 0;
  virtual Result<std::vector<std::optional<std::string>>> read_members(
      const std::vector<std::string>& names) = 0;
  virtual Result<std::vector<std::pair<std::string, std::string>>> read_all_members() = 0;

 private:
  std::unordered_map<std::string, std::size_t> member_index_;  // name → member_writes index
};

/// A batch as read by batch_read(): its meta and every member record.
struct BatchRecord {
  std::string meta;
  std::vector<std::pair<std::string, std::string>> members;
};

}  // namespace errand
