#include "errand/admin.h"

#include <algorithm>

#include "api/display.h"
#include "errand/batch.h"
#include "errand/client.h"

namespace errand {

std::size_t json_nesting_depth(std::string_view json) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Json parse_for_display(std::string_view payload, bool* cut) {
  const bool deep = json_nesting_depth(payload) > kMaxAdminDepth;
  if (cut) *cut = deep;
  if (!deep) return Json::parse(payload, nullptr, false);
  const auto limit = static_cast<int>(kMaxAdminDepth);
  return Json::parse(
      payload,
      [limit](int depth, Json::parse_event_t event, Json&) {
        return depth < limit || (event != Json::parse_event_t::object_start &&
                                 event != Json::parse_event_t::array_start);
      },
      false);
}

Admin::Admin(std::shared_ptr<Store> store, const Clock* clock, DeadLimits dead)
    : Admin(QueueMap(std::move(store)), clock, dead) {}

Admin::Admin(QueueMap queues, const Clock* clock, DeadLimits dead)
    : queues_(std::move(queues)),
      store_(queues_.default_store()),
      clock_(clock ? clock : &SystemClock::instance()),
      dead_(dead) {}

Result<std::vector<QueueInfo>> Admin::queues() {
  auto queues = store_->queues(now());
  if (!queues) return queues;
  if (auto paused = store_->paused_queues(); paused && !paused->empty())
    for (auto& q : *queues)
      if (std::find(paused->begin(), paused->end(), q.name) != paused->end()) q.paused = true;
  return queues;
}

Result<std::string> Admin::enqueue(const std::string& job_class, const Json& args,
                                   const PushOptions& options) {
  Client client(queues_);
  return client.enqueue(job_class, args, options);
}

Result<JobStatus> Admin::job_status(const std::string& jid) {
  return Client(queues_, ClientOptions{{}, clock_}).status(jid);
}

Result<JobState> Admin::cancel(const std::string& jid) {
  return Client(queues_, ClientOptions{{}, clock_}).cancel(jid);
}

Result<std::vector<BatchStatus>> Admin::batches(std::size_t offset, std::size_t count) {
  auto bids = store_->batch_list(offset, count, now());
  if (!bids) return bids.error();
  std::vector<BatchStatus> out;
  for (const auto& bid : *bids) {
    auto st = batch_status(bid);
    if (st) out.push_back(std::move(st).value());
  }
  return out;
}

Result<BatchStatus> Admin::batch_status(const std::string& bid) {
  return Client(queues_, ClientOptions{{}, clock_}).batch_status(bid);
}

Status Admin::cancel_batch(const std::string& bid) {
  return Client(queues_, ClientOptions{{}, clock_}).cancel_batch(bid);
}

Result<SetEntry> Admin::find(SetKind kind, double score, const std::string& jid) {
  auto found = store_->set_find(kind, score, jid);
  if (found || found.code() != Errc::not_found) return found;
  return find(kind, jid);
}

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
  if (json_nesting_depth(entry.payload) > kMaxAdminDepth)
    return fail(Errc::corrupt, "job " + entry.jid + " nests deeper than " +
                                   std::to_string(kMaxAdminDepth) +
                                   " levels and cannot be re-enqueued; delete it");
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
