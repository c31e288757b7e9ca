#include "server/flow_control.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace errand::flow {

namespace {

thread_local std::mt19937 t_rng{std::random_device{}()};

/// Tries to take one of `n` lock slots named `prefix:<i>`, probing at most 8
/// from a random start: never more than n holders, at most 8 round trips.
Result<std::optional<std::string>> take_slot(Store& store, const std::string& prefix, int n,
                                             const std::string& holder, double now, double until) {
  const int tries = std::min(n, 8);
  const int start = std::uniform_int_distribution<int>(0, n - 1)(t_rng);
  for (int t = 0; t < tries; ++t) {
    std::string key = prefix + ":" + std::to_string((start + t) % n);
    auto got = store.lock_acquire(key, holder, now, until);
    if (!got) return got.error();
    if (*got) return std::optional<std::string>(std::move(key));
  }
  return std::optional<std::string>();
}

/// The rate window: at most rate_limit starts per rate_period seconds.
std::optional<Admission> check_rate(Store& store, const JobDescriptor& job, const std::string& key,
                                    const std::string& jid, double now) {
  const double period = job.rate_period;
  const double window = std::floor(now / period);
  const double window_end = (window + 1) * period;
  auto slot = take_slot(store, "rate:" + key + ":" + std::to_string(static_cast<long long>(window)),
                        job.rate_limit, jid, now, window_end);
  if (slot && *slot) return std::nullopt;
  Admission a;
  a.admitted = false;
  a.retry_at = window_end + std::uniform_real_distribution<double>(0, period * 0.5)(t_rng);
  a.why = slot ? "rate limit reached" : "rate limit unavailable: " + slot.error().message();
  return a;
}

}  // namespace

UniqueLock UniqueLock::of(const Json& doc) {
  UniqueLock out;
  auto key = doc.find("unique_key");
  auto jid = doc.find("jid");
  if (key == doc.end() || !key->is_string() || jid == doc.end() || !jid->is_string()) return out;
  out.key = key->get<std::string>();
  out.holder = jid->get<std::string>();
  if (auto u = doc.find("unique_until"); u != doc.end() && u->is_string()) {
    const auto& s = u->get_ref<const std::string&>();
    if (s == "executing") out.until = UniqueUntil::executing;
    if (s == "executed") out.until = UniqueUntil::executed;
  }
  return out;
}

Result<bool> acquire_unique(Store& store, const std::string& key, const std::string& jid,
                            double now, double until) {
  return store.lock_acquire(key, jid, now, until);
}

void release(Store& store, const UniqueLock& lock) {
  if (!lock.key.empty()) (void)store.lock_release(lock.key, lock.holder);
}

HeldSlots::HeldSlots(Store* store, std::string holder, std::vector<std::string> keys)
    : store_(store), holder_(std::move(holder)), keys_(std::move(keys)) {}

HeldSlots::HeldSlots(HeldSlots&& other) noexcept
    : store_(other.store_), holder_(std::move(other.holder_)), keys_(std::move(other.keys_)) {
  other.keys_.clear();
}

HeldSlots& HeldSlots::operator=(HeldSlots&& other) noexcept {
  if (this != &other) {
    release();
    store_ = other.store_;
    holder_ = std::move(other.holder_);
    keys_ = std::move(other.keys_);
    other.keys_.clear();
  }
  return *this;
}

void HeldSlots::release() {
  if (store_)
    for (const auto& key : keys_) (void)store_->lock_release(key, holder_);
  keys_.clear();
}

double slot_lease(const JobDescriptor& job, bool renewable, double process_ttl) {
  if (renewable) return process_ttl;
  return job.timeout > 0 ? job.timeout + 60.0 : 600.0;
}

Admission admit(Store& store, const JobDescriptor& job, const Json& args, const std::string& jid,
                double now, double lease) {
  if (job.concurrency_limit <= 0 && job.rate_limit <= 0) return {};
  const std::string key = job.limit_key ? job.limit_key(args) : job.name;
  if (job.rate_limit > 0)
    if (auto refused = check_rate(store, job, key, jid, now)) return std::move(*refused);
  if (job.concurrency_limit <= 0) return {};
  auto slot = take_slot(store, "limit:" + key, job.concurrency_limit, jid, now, now + lease);
  Admission a;
  if (slot && *slot) {
    a.slots = HeldSlots(&store, jid, {std::move(**slot)});
    return a;
  }
  a.admitted = false;
  a.retry_at = now + std::uniform_real_distribution<double>(1.0, 3.0)(t_rng);
  a.why = slot ? "concurrency limit reached"
               : "concurrency limit unavailable: " + slot.error().message();
  return a;
}

std::vector<std::pair<std::string, std::string>> renew(Store& store, const std::string& holder,
                                                       const std::vector<std::string>& keys,
                                                       double now, double until) {
  std::vector<std::pair<std::string, std::string>> lost;
  for (const auto& key : keys) {
    auto held = store.lock_extend(key, holder, now, until);
    if (!held && held.code() == Errc::unsupported) break;  // leased long enough instead
    if (!held)
      lost.emplace_back(key, held.error().message());
    else if (!*held)
      lost.emplace_back(key, "taken over");
  }
  return lost;
}

}  // namespace errand::flow
