#include "server/manager.h"

namespace errand {

void Manager::start() {
  MutexLock lk(mu_);
  for (auto& slot : rt_.slot_list()) {
    auto p = std::make_unique<Processor>(rt_, fetcher_, slot);
    p->start();
    processors_.push_back(std::move(p));
  }
}

void Manager::replace(const std::shared_ptr<Slot>& slot) {
  MutexLock lk(mu_);
  for (auto& p : processors_) {
    if (p->slot() != slot) continue;
    p->detach();
    stuck_.push_back(std::move(p));
    auto fresh = std::make_shared<Slot>();
    {
      MutexLock slk(rt_.slots_mu);
      for (auto& s : rt_.slots)
        if (s == slot) s = fresh;
    }
    p = std::make_unique<Processor>(rt_, fetcher_, fresh);
    p->start();
    return;
  }
}

bool Manager::all_idle(bool include_abandoned) {
  for (auto& slot : rt_.slot_list()) {
    MutexLock lk(slot->mu);
    if (slot->current && (include_abandoned || !slot->abandoned)) return false;
  }
  return true;
}

bool Manager::wait_idle(Deadline deadline) {
  MutexLock lk(rt_.idle_mu);
  return rt_.idle_cv.wait_until(lk, deadline, [&] { return all_idle(false); });
}

std::vector<Work> Manager::abandon_running() {
  std::vector<Work> unfinished;
  for (auto& slot : rt_.slot_list()) {
    MutexLock lk(slot->mu);
    if (slot->current && !slot->abandoned) {
      slot->abandoned = true;
      slot->stop.request_stop();
      unfinished.push_back(*slot->current);
    }
  }
  return unfinished;
}

bool Manager::join(Deadline deadline) {
  {
    // Threads still in a job (given up above) get until the deadline.
    MutexLock lk(rt_.idle_mu);
    rt_.idle_cv.wait_until(lk, deadline, [&] { return all_idle(true); });
  }
  MutexLock lk(mu_);
  const bool stuck = !stuck_.empty() || !all_idle(true);
  for (auto& p : processors_) {
    if (stuck)
      p->detach();
    else
      p->join();
  }
  return !stuck;
}

}  // namespace errand
