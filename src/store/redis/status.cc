#include "store/redis/status.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "errand/payload.h"
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

std::string epoch_text(double t) { return store_util::format_score(t); }

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

/// A JobStatus from a compact success: `succeeded\n<at>\n<process>\n<result>`.
JobStatus from_string(std::string_view v) {
  JobStatus s;
  std::string_view part[3];
  for (auto& p : part) {
    const auto nl = v.find('\n');
    if (nl == std::string_view::npos) return s;  // not a record of ours: unknown
    p = v.substr(0, nl);
    v.remove_prefix(nl + 1);
  }
  s.state = job_state_from_string(part[0]).value_or(JobState::unknown);
  s.updated_at = std::strtod(std::string(part[1]).c_str(), nullptr);
  s.process = std::string(part[2]);
  s.result = std::string(v);
  return s;
}

/// A JobStatus from kRead's reply.
JobStatus from_record(const redisReply* r) {
  if (size(r) < 2) return {};
  if (str(at(r, 0)) == "string") return from_string(str(at(r, 1)));
  return from_hash(at(r, 1));
}

}  // namespace

StatusKeeper::StatusKeeper(Client& client, std::string prefix)
    : client_(client),
      prefix_(std::move(prefix)),
      locate_(lua::kLocate),
      cancel_(lua::kCancel),
      record_(lua::kRecord),
      ack_record_(lua::kAckRecord),
      ack_succeeded_(lua::kAckSucceeded),
      read_(lua::kRead),
      requested_(lua::kRequested) {}

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

void StatusKeeper::append_successes(std::span<const StatusUpdate> updates, Argv& keys,
                                    Argv& args) const {
  keys.reserve(keys.size() + updates.size());
  args.reserve(args.size() + updates.size() * 2);
  for (const auto& u : updates) {
    keys.push_back(status_key(u.jid));
    std::string record = "succeeded\n";
    record.reserve(record.size() + 24 + u.process.size() + u.result.size());
    record.append(epoch_text(u.now)).append(1, '\n').append(u.process).append(1, '\n');
    record.append(u.result);
    args.push_back(std::move(record));
    args.push_back(seconds(u.now + u.ttl_seconds));
  }
}

bool has_set_exat(std::string_view info) {
  const std::string_view field = "redis_version:";
  const auto at = info.find(field);
  if (at == std::string_view::npos) return false;
  int major = 0, minor = 0;
  if (std::sscanf(std::string(info.substr(at + field.size(), 16)).c_str(), "%d.%d", &major,
                  &minor) != 2)
    return false;
  return major > 6 || (major == 6 && minor >= 2);
}

bool StatusKeeper::exat() {
  int known = exat_.load(std::memory_order_relaxed);
  if (known < 0) {
    // Asked once; an error (the server away) asks again next time.
    auto info = client_.cmd({"INFO", "server"});
    if (!info) return false;
    known = has_set_exat(str(info->get())) ? 1 : 0;
    exat_.store(known, std::memory_order_relaxed);
  }
  return known == 1;
}

Status StatusKeeper::record(std::span<const StatusUpdate> updates) {
  if (updates.empty()) return {};
  Argv keys{waiters_key()}, args;
  append_records(updates, keys, args);
  auto r = client_.eval(record_, keys, args);
  return r ? Status() : r.status();
}

Status StatusKeeper::ack_and_record(std::span<const Claim> claims,
                                    std::span<const StatusUpdate> updates) {
  const bool successes = std::all_of(updates.begin(), updates.end(), [](const StatusUpdate& u) {
    return u.state == JobState::succeeded && u.error.empty();
  });
  Argv record_keys, record_args;
  if (successes)
    append_successes(updates, record_keys, record_args);
  else
    append_records(updates, record_keys, record_args);
  const std::string waiters = waiters_key(), count = std::to_string(claims.size());
  // Views: the payloads go to hiredis without a copy of their own.
  ArgvView keys, args;
  keys.reserve(1 + claims.size() + record_keys.size());
  args.reserve(1 + claims.size() + record_args.size());
  keys.push_back(waiters);
  args.push_back(count);
  for (const auto& c : claims) {
    keys.push_back(c.list);
    args.push_back(*c.payload);
  }
  keys.insert(keys.end(), record_keys.begin(), record_keys.end());
  args.insert(args.end(), record_args.begin(), record_args.end());
  if (successes) args.push_back(exat() ? "1" : "0");
  auto r = client_.eval_views(successes ? ack_succeeded_ : ack_record_, std::move(keys),
                              std::move(args));
  return r ? Status() : r.status();
}

Result<JobStatus> StatusKeeper::get(const std::string& jid) { return look(jid, nullptr); }

Result<JobStatus> StatusKeeper::look(const std::string& jid, const Waiter* registering) {
  Argv keys{status_key(jid)}, args;
  if (registering != nullptr) {
    keys.push_back(waiters_key());
    args = {epoch_text(registering->since), epoch_text(registering->deadline), registering->member};
  }
  auto rec = client_.eval(read_, keys, args);
  if (!rec) return rec.error();
  JobStatus recorded = from_record(rec->get());
  if (is_final(recorded.state)) return recorded;
  auto loc = client_.eval(locate_, scan_keys(), {prefix_, needle(jid)});
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

Result<JobStatus> StatusKeeper::wait(const std::string& jid, double now,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto conn = Connection::open(client_.endpoint());
  if (!conn) return conn.error();
  // Subscribed, then registered as a waiter (records publish only while
  // errand:waiters is not empty) in the same script as the first look: a
  // final state recorded after the registration is published to this
  // subscription, one recorded before it is seen by the look.
  auto sub = (*conn)->command({"SUBSCRIBE", status_key(jid)});
  if (!sub) return sub.error();
  const Waiter me{payload::new_jid(), now,
                  now + std::chrono::duration<double>(timeout).count() + 1};
  // Unregistered on the way out without waiting for a reply: on the
  // subscription's own connection (UNSUBSCRIBE, then ZREM: Redis runs them
  // before it sees the connection close), or, if a timeout broke that one,
  // through the pool. A member left behind only makes records publish until
  // its deadline.
  struct Unregister {
    Client& client;
    Connection& conn;
    const std::string key, member;
    ~Unregister() {
      if (conn.broken() || !conn.send({{"UNSUBSCRIBE"}, {"ZREM", key, member}}))
        (void)client.cmd({"ZREM", key, member});
    }
  } unregister{client_, **conn, waiters_key(), me.member};
  auto st = look(jid, &me);
  for (;;) {
    if (!st || is_final(st->state)) return st;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return st;
    (*conn)->set_timeout(left + std::chrono::milliseconds(1));
    // A message (the final state) or the timeout, which breaks the
    // connection: either way, look once more.
    if (!(*conn)->read_reply()) return get(jid);
    st = get(jid);
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
  if (jids.empty()) return std::vector<std::string>{};
  Argv keys;
  keys.reserve(jids.size());
  for (const auto& jid : jids) keys.push_back(status_key(jid));
  auto r = client_.eval(requested_, keys, {});
  if (!r) return r.error();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < size(r->get()); ++i) {
    const auto k = integer(at(r->get(), i), 0);
    if (k >= 1 && static_cast<std::size_t>(k) <= jids.size()) out.push_back(jids[k - 1]);
  }
  return out;
}

}  // namespace errand::redis
