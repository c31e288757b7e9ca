#include "errand/admin.h"

namespace errand {

Admin::Admin(std::shared_ptr<Store> store, const Clock* clock, DeadLimits dead)
    : store_(std::move(store)), clock_(clock ? clock : &SystemClock::instance()), dead_(dead) {}

Result<SetEntry> Admin::find(SetKind kind, const std::string& jid) {
  constexpr std::size_t kPage = 500;
  for (std::size_t offset = 0;; offset += kPage) {
    auto page = store_->set_range(kind, offset, kPage);
    if (!page) return page.error();
    for (auto& e : *page)
      if (e.jid == jid) return e;
    if (page->size() < kPage) break;
  }
  return fail(Errc::not_found,
              "no job " + jid + " in the " + std::string(to_string(kind)) + " set");
}

Status Admin::retry_now(SetKind kind, const SetEntry& entry) {
  Json doc = Json::parse(entry.payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return fail(Errc::corrupt, "job " + entry.jid +
                                   " is not valid JSON and cannot be enqueued; "
                                   "delete it or fix it in the store");
  if (kind == SetKind::retry || kind == SetKind::dead) {
    auto rc = doc.find("retry_count");
    if (rc != doc.end() && rc->is_number_integer()) *rc = rc->get<int>() - 1;
  }
  std::string queue = "default";
  if (auto q = doc.find("queue");
      q != doc.end() && q->is_string() && !q->get<std::string>().empty())
    queue = q->get<std::string>();
  else
    doc["queue"] = queue;
  if (!doc.contains("retry")) doc["retry"] = true;
  doc["enqueued_at"] = now();
  return store_->set_move(kind, entry.score, entry.jid, MoveTo::queue, queue, payload::dump(doc),
                          now(), dead_);
}

Status Admin::kill(SetKind kind, const SetEntry& entry) {
  if (kind == SetKind::dead) return {};
  return store_->set_move(kind, entry.score, entry.jid, MoveTo::dead, "", entry.payload, now(),
                          dead_);
}

Result<std::size_t> Admin::retry_all(SetKind kind) {
  std::size_t moved = 0;
  for (;;) {
    auto page = store_->set_range(kind, 0, 500);
    if (!page) return page.error();
    if (page->empty()) break;
    std::size_t before = moved;
    for (const auto& e : *page) {
      auto st = retry_now(kind, e);
      if (st)
        ++moved;
      else if (st.code() != Errc::not_found && st.code() != Errc::corrupt)
        return st.error();
    }
    if (moved == before) break;  // only entries that cannot move are left
  }
  return moved;
}

}  // namespace errand
