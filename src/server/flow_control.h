// Flow control: the unique locks, concurrency slots and rate windows that
// decide whether a job may be pushed or run now. One module, shared by the
// client (unique locks at push time) and the server (limits at run time,
// lease renewal by the heartbeat, release when the job ends).
//
// Every limit is a lock in the store (Store::lock_acquire / lock_extend /
// lock_release); this module holds the policy: key names, lease lengths,
// how many slots to probe. The store holds none.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "errand/job.h"
#include "errand/payload.h"
#include "errand/store.h"

namespace errand::flow {

/// When a unique job's lock goes: when it starts (`executing`) or when it
/// finished for good (`executed`).
enum class UniqueUntil { none, executing, executed };

/// The unique lock a payload carries (`unique_key`, `unique_until`, its jid).
struct UniqueLock {
  std::string key;     ///< empty: not a unique job
  std::string holder;  ///< the job's jid
  UniqueUntil until = UniqueUntil::none;

  /// Reads the lock fields of `doc` (none if absent or of the wrong type).
  static UniqueLock of(const Json& doc);
  bool held_until(UniqueUntil when) const { return !key.empty() && until == when; }
};

/// Takes a unique job's lock at push time until `until` (epoch s). True:
/// taken, the job may be pushed; false: a copy is already pending.
Result<bool> acquire_unique(Store& store, const std::string& key, const std::string& jid,
                            double now, double until);
/// Releases `lock` (best effort: a lock whose holder changed is left alone).
void release(Store& store, const UniqueLock& lock);

/// Limit slots a running job holds; released when this goes (RAII), or by
/// release(). Movable, not copyable.
class HeldSlots {
 public:
  HeldSlots() = default;
  HeldSlots(Store* store, std::string holder, std::vector<std::string> keys);
  HeldSlots(HeldSlots&& other) noexcept;
  HeldSlots& operator=(HeldSlots&& other) noexcept;
  HeldSlots(const HeldSlots&) = delete;
  HeldSlots& operator=(const HeldSlots&) = delete;
  ~HeldSlots() { release(); }

  void release();
  bool empty() const { return keys_.empty(); }
  const std::vector<std::string>& keys() const { return keys_; }
  const std::string& holder() const { return holder_; }

 private:
  Store* store_ = nullptr;
  std::string holder_;
  std::vector<std::string> keys_;
};

/// The verdict on a job's limits.
struct Admission {
  bool admitted = true;
  double retry_at = 0;  ///< when not admitted: when to try again (epoch s)
  std::string why;      ///< when not admitted: which limit, for the log
  HeldSlots slots;      ///< when admitted: the concurrency slots taken
};

/// Checks `job`'s rate limit, then its concurrency limit, for a run starting
/// at `now`. A concurrency slot is leased until `now + lease` seconds and
/// must be renewed (renew) while the job runs; the rate window's lock expires
/// with its window. A store error counts as "not admitted" with the error in
/// `why` (the job is tried again later; nothing is lost).
Admission admit(Store& store, const JobDescriptor& job, const Json& args, const std::string& jid,
                double now, double lease);

/// How long a concurrency slot is leased: the process TTL where the store
/// can extend locks (renewed with each heartbeat, so a dead worker's slot
/// comes back when its heartbeat expires), else long enough for the job.
double slot_lease(const JobDescriptor& job, bool renewable, double process_ttl);

/// Extends `keys` held by `holder` at `now` until `until`. Returns the keys
/// that were lost (taken over, or the store failed); stops quietly on a store
/// that cannot extend locks (their lease was long enough).
std::vector<std::pair<std::string, std::string>> renew(Store& store, const std::string& holder,
                                                       const std::vector<std::string>& keys,
                                                       double now, double until);

}  // namespace errand::flow
