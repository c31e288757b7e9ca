#include "store/redis/status.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "store/memory/status_book.h"
#include "store/memory/store_util.h"
#include "store/redis/status_scripts.h"

namespace errand::redis {

namespace {

/// The text the scripts look for in a payload: `"jid":"<jid>"`.
std::string needle(const std::string& jid) { return "\"jid\":\"" + jid + "\""; }

std::string seconds(double ttl) {
  return std::to_string(std::max<long long>(1, std::llround(std::ceil(ttl))));
}

std::string epoch_text(double t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", t);
  return buf;
}

/// A JobStatus from HGETALL's field/value array (state unknown if empty).
JobStatus from_hash(const redisReply* r) {
  JobStatus s;
  for (std::size_t i = 0; i + 1 < size(r); i += 2) {
    const auto field = str(at(r, i));
    const auto value = str(at(r, i + 1));
    if (field == "state") s.state = job_state_from_string(value).value_or(JobState::unknown);
    if (field == "result") s.result = std::string(value);
    if (field == "error") s.error = std::string(value);
    if (field == "process") s.process = std::string(value);
    if (field == "cancel") s.cancel_requested = value == "1";
    if (field == "at") s.updated_at = std::strtod(std::string(value).c_str(), nullptr);
    if (field == "progress") s.progress = std::strtod(std::string(value).c_str(), nullptr);
    if (field == "progress_message") s.progress_message = std::string(value);
  }
  return s;
}

}  // namespace

StatusKeeper::StatusKeeper(Client& client, std::string prefix)
    : client_(client),
      prefix_(std::move(prefix)),
      locate_(lua::kLocate),
      cancel_(lua::kCancel),
      record_(lua::kRecord),
      ack_record_(lua::kAckRecord) {}

Argv StatusKeeper::scan_keys() const {
  return {prefix_ + "queues", prefix_ + "schedule", prefix_ + "retry", prefix_ + "dead",
          prefix_ + "errand:inprogress"};
}

void StatusKeeper::append_records(std::span<const StatusUpdate> updates, Argv& keys,
                                  Argv& args) const {
  keys.reserve(keys.size() + updates.size());
  args.reserve(args.size() + updates.size() * 7);
  for (const auto& u : updates) {
    keys.push_back(status_key(u.jid));
    args.insert(args.end(),
                {std::string(to_string(u.state)), u.result, u.error, u.process, epoch_text(u.now),
                 seconds(u.now + u.ttl_seconds), is_final(u.state) ? "1" : "0"});
  }
}

Status StatusKeeper::record(std::span<const StatusUpdate> updates) {
  if (updates.empty()) return {};
  Argv keys, args;
  append_records(updates, keys, args);
  auto r = client_.eval(record_, keys, args);
  return r ? Status() : r.status();
}

Status StatusKeeper::ack_and_record(std::span<const Claim> claims,
                                    std::span<const StatusUpdate> updates) {
  Argv keys, args;
  keys.reserve(claims.size() + updates.size());
  args.reserve(1 + claims.size() + updates.size() * 7);
  args.push_back(std::to_string(claims.size()));
  for (const auto& c : claims) {
    keys.push_back(c.list);
    args.push_back(*c.payload);
  }
  append_records(updates, keys, args);
  auto r = client_.eval(ack_record_, keys, args);
  return r ? Status() : r.status();
}

Result<JobStatus> StatusKeeper::get(const std::string& jid) {
  auto rec = client_.cmd({"HGETALL", status_key(jid)});
  if (!rec) return rec.error();
  JobStatus recorded = from_hash(rec->get());
  if (is_final(recorded.state)) return recorded;
  Argv args{prefix_, needle(jid)};
  auto loc = client_.eval(locate_, scan_keys(), args);
  if (!loc) return loc.error();
  const redisReply* r = loc->get();
  if (size(r) < 2) return recorded;
  const auto where = str(at(r, 0));
  JobStatus s = recorded;
  if (where == "queued") s.state = JobState::queued;
  if (where == "scheduled") s.state = JobState::scheduled;
  if (where == "claimed") {
    s.state = JobState::running;
    if (size(r) > 2 && !str(at(r, 2)).empty()) s.process = std::string(str(at(r, 2)));
  }
  if (where == "retry" || where == "dead") {
    s.state = where == "retry" ? JobState::retrying : JobState::dead;
    if (auto e = store_util::payload_error(str(at(r, 1))); !e.empty()) s.error = e;
  }
  if (s.state != JobState::running) s.process.clear();  // a rescued job's old runner
  return s;
}

Result<JobStatus> StatusKeeper::wait(const std::string& jid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto conn = Connection::open(client_.endpoint());
  if (!conn) return conn.error();
  // Subscribed before the first look: a final state published after it is
  // never missed.
  auto sub = (*conn)->command({"SUBSCRIBE", status_key(jid)});
  if (!sub) return sub.error();
  for (;;) {
    auto st = get(jid);
    if (!st || is_final(st->state)) return st;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return st;
    (*conn)->set_timeout(left + std::chrono::milliseconds(1));
    // A message (the final state) or the timeout, which breaks the
    // connection: either way, look once more.
    if (!(*conn)->read_reply()) return get(jid);
  }
}

Result<JobState> StatusKeeper::cancel(const std::string& jid, double now, double ttl_seconds) {
  Argv keys = scan_keys();
  keys.push_back(status_key(jid));
  auto r =
      client_.eval(cancel_, keys, {prefix_, needle(jid), epoch_text(now), seconds(ttl_seconds)});
  if (!r) return r.error();
  return job_state_from_string(str(r->get())).value_or(JobState::unknown);
}

Result<std::vector<std::string>> StatusKeeper::requested(std::span<const std::string> jids) {
  std::vector<Argv> cmds;
  for (const auto& jid : jids) cmds.push_back({"HGET", status_key(jid), "cancel"});
  auto r = client_.pipe(cmds);
  if (!r) return r.error();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < jids.size() && i < r->size(); ++i)
    if (str((*r)[i].get()) == "1") out.push_back(jids[i]);
  return out;
}

}  // namespace errand::redis
