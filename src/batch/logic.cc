#include "batch/logic.h"

#include <algorithm>

#include "errand/payload.h"

namespace errand::batch {

namespace {

Result<Json> parse_record(const std::string& text, const char* what) {
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return fail(Errc::corrupt, std::string("batch ") + what + " record is not a JSON object");
  return doc;
}

std::string state_of(const std::optional<std::string>& record) {
  if (!record) return {};
  Json doc = Json::parse(*record, nullptr, false);
  if (!doc.is_object()) return {};
  return doc.value("s", std::string());
}

std::string member_record(const char* state, const std::string& result = {}) {
  Json m{{"s", state}};
  if (!result.empty()) {
    Json r = Json::parse(result, nullptr, false);
    m["r"] = r.is_discarded() ? Json(result) : std::move(r);
  }
  return payload::dump(m);
}

void bump(Json& meta, const char* counter, int by) {
  Json& n = meta["n"][counter];
  n = n.get<std::int64_t>() + by;
}

const char* counter_of(const std::string& state) {
  if (state == "w") return "waiting";
  if (state == "f") return "failed";
  if (state == "s") return "succeeded";
  return "dead";  // d, c
}

/// Moves a member from `from` to `to` in the counts and its record.
void move(BatchTxn& t, Json& meta, const std::string& member, const std::string& from,
          const char* to, const std::string& result = {}) {
  bump(meta, counter_of(from), -1);
  bump(meta, counter_of(to), 1);
  t.set_member(member, member_record(to, result));
}

/// Pushes a stored payload (a callback, a released step), stamped now.
void push_stored(BatchTxn& t, const Json& entry, Json extra_args, double now) {
  Json doc = Json::parse(entry.value("payload", std::string("{}")), nullptr, false);
  if (!doc.is_object()) return;
  if (extra_args.is_array() && doc["args"].is_array())
    for (auto& a : extra_args) doc["args"].push_back(std::move(a));
  doc["enqueued_at"] = now;
  PushItem p;
  p.queue = entry.value("queue", std::string("default"));
  p.jid = doc.value("jid", std::string());
  p.priority = entry.value("priority", 0);
  p.payload = payload::dump(doc);
  t.push(std::move(p));
}

/// The arguments a released step gets from its dependencies' results.
Result<Json> inputs_of(BatchTxn& t, const Json& held) {
  Json extra = Json::array();
  for (const auto& input : held.value("inputs", Json::array())) {
    std::vector<std::string> deps = input.at(0).get<std::vector<std::string>>();
    auto recs = t.members(deps);
    if (!recs) return recs.error();
    Json results = Json::array();
    for (const auto& r : *recs) {
      Json doc = r ? Json::parse(*r, nullptr, false) : Json();
      results.push_back(doc.is_object() && doc.contains("r") ? doc["r"] : Json());
    }
    if (input.at(1).get<bool>())
      extra.push_back(std::move(results));
    else
      for (auto& r : results) extra.push_back(std::move(r));
  }
  return extra;
}

/// `member` succeeded: its dependants wait for one step fewer; those that
/// wait for none are pushed with their inputs.
Status release(BatchTxn& t, Json& meta, const std::string& member, double now) {
  auto deps = meta["dependants"].find(member);
  if (deps == meta["dependants"].end()) return {};
  for (const auto& d : *deps) {
    const std::string jid = d.get<std::string>();
    auto held = meta["held"].find(jid);
    if (held == meta["held"].end()) continue;
    int left = held->value("waiting_on", 1) - 1;
    (*held)["waiting_on"] = left;
    if (left > 0) continue;
    auto extra = inputs_of(t, *held);
    if (!extra) return extra.error();
    push_stored(t, *held, std::move(extra).value(), now);
    meta["held"].erase(jid);
  }
  return {};
}

/// `member` died: every held step that depends on it, directly or not, is
/// stopped (cancelled) and will not run.
void stop_dependants(BatchTxn& t, Json& meta, const std::string& member) {
  std::vector<std::string> todo{member};
  while (!todo.empty()) {
    std::string m = std::move(todo.back());
    todo.pop_back();
    auto deps = meta["dependants"].find(m);
    if (deps == meta["dependants"].end()) continue;
    for (const auto& d : *deps) {
      const std::string jid = d.get<std::string>();
      if (!meta["held"].contains(jid)) continue;
      meta["held"].erase(jid);
      move(t, meta, jid, "w", "c");
      todo.push_back(jid);
    }
  }
}

void fire(BatchTxn& t, Json& meta, const char* event, double now) {
  meta["fired"][event] = true;
  auto cb = meta["callbacks"].find(event);
  if (cb != meta["callbacks"].end()) push_stored(t, *cb, Json(), now);
}

std::int64_t count(const Json& meta, const char* counter) {
  return meta["n"].value(counter, std::int64_t{0});
}

/// Fires what the counts now call for, each at most once.
void fire_due(BatchTxn& t, Json& meta, double now) {
  auto& fired = meta["fired"];
  if (!fired.value("death", false) && count(meta, "dead") > 0) fire(t, meta, "death", now);
  if (!fired.value("complete", false) && count(meta, "waiting") == 0)
    fire(t, meta, "complete", now);
  if (!fired.value("success", false) && count(meta, "succeeded") == count(meta, "total"))
    fire(t, meta, "success", now);
}

/// What the parent has to hear and has not: success, else death, else
/// (complete with failures) failed.
std::vector<ParentNote> untold(const Json& meta) {
  const std::string parent = meta.value("parent", std::string());
  if (parent.empty()) return {};
  const auto& fired = meta["fired"];
  const auto told = meta.value("told", Json::array());
  auto was_told = [&](const char* o) {
    return std::find(told.begin(), told.end(), Json(o)) != told.end();
  };
  std::vector<ParentNote> out;
  if (fired.value("success", false)) {
    if (!was_told("succeeded")) out.push_back({parent, Outcome::succeeded});
  } else if (fired.value("death", false)) {
    if (!was_told("died")) out.push_back({parent, Outcome::died});
  } else if (fired.value("complete", false)) {
    if (!was_told("failed")) out.push_back({parent, Outcome::failed});
  }
  return out;
}

Result<Json> load_meta(BatchTxn& t) {
  auto m = t.meta();
  if (!m) return m.error();
  if (!*m) return fail(Errc::not_found, "no such batch");
  return parse_record(**m, "meta");
}

void store(BatchTxn& t, Json& meta, double now) {
  meta["updated_at"] = now;
  t.set_meta(payload::dump(meta));
  t.created_at = meta.value("created_at", now);
  t.expires_at = now + kTtlSeconds;
}

}  // namespace

const char* to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::succeeded:
      return "succeeded";
    case Outcome::failed:
      return "failed";
    case Outcome::died:
      return "died";
    case Outcome::cancelled:
      return "cancelled";
  }
  return "?";
}

Status add_members(BatchTxn& t, const Json& init, const std::vector<std::string>& members,
                   std::vector<PushItem> pushes, double now) {
  auto m = t.meta();
  if (!m) return m.error();
  Json meta;
  if (*m) {
    auto parsed = parse_record(**m, "meta");
    if (!parsed) return parsed.error();
    meta = std::move(parsed).value();
    if (meta.value("cancelled", false))
      return fail(Errc::invalid_argument, "batch " + meta.value("bid", std::string()) +
                                              " was cancelled: no jobs can join it");
  } else {
    meta = init;
    meta["created_at"] = now;
    meta["n"] = {{"total", 0}, {"waiting", 0}, {"failed", 0}, {"succeeded", 0}, {"dead", 0}};
    meta["fired"] = {{"complete", false}, {"success", false}, {"death", false}};
    if (!meta.contains("callbacks")) meta["callbacks"] = Json::object();
    if (!meta.contains("held")) meta["held"] = Json::object();
    if (!meta.contains("dependants")) meta["dependants"] = Json::object();
  }
  auto known = t.members(members);
  if (!known) return known.error();
  for (std::size_t i = 0; i < members.size(); ++i) {
    if ((*known)[i]) continue;
    bump(meta, "total", 1);
    bump(meta, "waiting", 1);
    t.set_member(members[i], member_record("w"));
  }
  for (auto& p : pushes) t.push(std::move(p));
  store(t, meta, now);
  return {};
}

Result<std::vector<ParentNote>> record(BatchTxn& t, const std::string& member, Outcome outcome,
                                       const std::string& result, double now) {
  auto meta = load_meta(t);
  if (!meta) return meta.error();
  auto recs = t.members({member});
  if (!recs) return recs.error();
  const std::string from = state_of(recs->front());
  const bool open = from == "w" || from == "f";
  bool changed = false;
  if (open) {
    switch (outcome) {
      case Outcome::succeeded: {
        const bool keep = meta->at("dependants").contains(member);
        move(t, *meta, member, from, "s", keep ? result : std::string());
        if (auto st = release(t, *meta, member, now); !st) return st.error();
        changed = true;
        break;
      }
      case Outcome::failed:
        if (from == "w") {
          move(t, *meta, member, from, "f");
          changed = true;
        }
        break;
      case Outcome::died:
      case Outcome::cancelled:
        move(t, *meta, member, from, outcome == Outcome::died ? "d" : "c");
        stop_dependants(t, *meta, member);
        changed = true;
        break;
    }
  }
  if (changed) {
    fire_due(t, *meta, now);
    store(t, *meta, now);
  }
  return untold(*meta);
}

Status set_callbacks(BatchTxn& t, const Json& callbacks, double now) {
  auto meta = load_meta(t);
  if (!meta) return meta.error();
  for (const auto& [event, entry] : callbacks.items()) (*meta)["callbacks"][event] = entry;
  store(t, *meta, now);
  return {};
}

Status mark_told(BatchTxn& t, const std::vector<ParentNote>& notes, double now) {
  auto meta = load_meta(t);
  if (!meta) return meta.error();
  Json& told = (*meta)["told"];
  if (!told.is_array()) told = Json::array();
  for (const auto& n : notes) told.push_back(to_string(n.outcome));
  store(t, *meta, now);
  return {};
}

Result<std::vector<std::string>> cancel(BatchTxn& t, double now) {
  auto meta = load_meta(t);
  if (!meta) return meta.error();
  (*meta)["cancelled"] = true;
  std::vector<std::string> held;
  for (const auto& [jid, _] : meta->at("held").items()) held.push_back(jid);
  for (const auto& jid : held) move(t, *meta, jid, "w", "c");
  (*meta)["held"] = Json::object();
  auto all = t.all_members();
  if (!all) return all.error();
  std::vector<std::string> running;
  for (const auto& [name, rec] : *all) {
    if (std::find(held.begin(), held.end(), name) != held.end()) continue;
    const std::string s = state_of(rec);
    if ((s == "w" || s == "f") && name.rfind("open:", 0) != 0) running.push_back(name);
  }
  fire_due(t, *meta, now);
  store(t, *meta, now);
  return running;
}

Result<BatchStatus> status_of(const BatchRecord& record) {
  auto meta = parse_record(record.meta, "meta");
  if (!meta) return meta.error();
  BatchStatus s;
  s.bid = meta->value("bid", std::string());
  s.description = meta->value("description", std::string());
  s.parent = meta->value("parent", std::string());
  s.workflow = meta->value("workflow", false);
  s.created_at = meta->value("created_at", 0.0);
  s.cancelled = meta->value("cancelled", false);
  const auto& fired = meta->at("fired");
  s.complete = fired.value("complete", false);
  s.success = fired.value("success", false);
  s.failed = fired.value("death", false);
  std::size_t opens = 0, opens_closed = 0;
  for (const auto& [name, rec] : record.members) {
    if (name.rfind("open:", 0) == 0) {
      ++opens;
      if (state_of(rec) == "s") ++opens_closed;
      continue;
    }
    const std::string st = state_of(rec);
    if (st == "f" || st == "d" || st == "c") s.failed_jids.push_back(name);
  }
  std::sort(s.failed_jids.begin(), s.failed_jids.end());
  const auto total = static_cast<std::size_t>(count(*meta, "total"));
  const auto succeeded = static_cast<std::size_t>(count(*meta, "succeeded"));
  s.total = total >= opens ? total - opens : 0;
  s.pending = s.total - std::min(s.total, succeeded - std::min(succeeded, opens_closed));
  s.dead = static_cast<std::size_t>(count(*meta, "dead"));
  s.failures = static_cast<std::size_t>(count(*meta, "failed")) + s.dead;
  return s;
}

}  // namespace errand::batch

// ---- BatchTxn: reads that see the step's own writes ------------------------

namespace errand {

Result<std::optional<std::string>> BatchTxn::meta() {
  if (meta_write) return std::optional<std::string>(*meta_write);
  return read_meta();
}

void BatchTxn::set_member(std::string name, std::string record) {
  auto [it, fresh] = member_index_.try_emplace(name, member_writes.size());
  if (!fresh) {
    member_writes[it->second].second = std::move(record);
    return;
  }
  member_writes.emplace_back(std::move(name), std::move(record));
}

Result<std::vector<std::optional<std::string>>> BatchTxn::members(
    const std::vector<std::string>& names) {
  auto stored = read_members(names);
  if (!stored) return stored;
  if (member_writes.empty()) return stored;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (auto it = member_index_.find(names[i]); it != member_index_.end())
      (*stored)[i] = member_writes[it->second].second;
  return stored;
}

Result<std::vector<std::pair<std::string, std::string>>> BatchTxn::all_members() {
  auto stored = read_all_members();
  if (!stored) return stored;
  std::vector<bool> seen(member_writes.size(), false);
  for (auto& [n, r] : *stored)
    if (auto it = member_index_.find(n); it != member_index_.end()) {
      r = member_writes[it->second].second;
      seen[it->second] = true;
    }
  for (std::size_t i = 0; i < member_writes.size(); ++i)
    if (!seen[i]) stored->push_back(member_writes[i]);
  return stored;
}

}  // namespace errand
