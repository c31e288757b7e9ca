// The Lua scripts of the Redis store's job status (status.cc).
#pragma once

namespace errand::redis::lua {

// Shared by both scripts: finds the job whose payload holds ARGV[2] (the
// text `"jid":"<jid>"`) in the queues, the scheduled and retry sets, the
// claimed lists and the dead set, in that order. With `remove`, takes it out
// of a queue or the scheduled/retry set (never a claimed or dead job).
// KEYS[1] queues, KEYS[2] schedule, KEYS[3] retry, KEYS[4] dead,
// KEYS[5] errand:inprogress; ARGV[1] key prefix.
#define ERRAND_STATUS_FIND_LUA                                                           \
  "local function find(remove)\n"                                                        \
  "  local needle = ARGV[2]\n"                                                           \
  "  for _, q in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"                           \
  "    local list = ARGV[1] .. 'queue:' .. q\n"                                          \
  "    for _, job in ipairs(redis.call('LRANGE', list, 0, -1)) do\n"                     \
  "      if string.find(job, needle, 1, true) then\n"                                    \
  "        if remove then redis.call('LREM', list, 1, job) end\n"                        \
  "        return 'queued', job\n"                                                       \
  "      end\n"                                                                          \
  "    end\n"                                                                            \
  "  end\n"                                                                              \
  "  local sets = {{KEYS[2], 'scheduled'}, {KEYS[3], 'retry'}}\n"                        \
  "  for _, s in ipairs(sets) do\n"                                                      \
  "    for _, job in ipairs(redis.call('ZRANGE', s[1], 0, -1)) do\n"                     \
  "      if string.find(job, needle, 1, true) then\n"                                    \
  "        if remove then redis.call('ZREM', s[1], job) end\n"                           \
  "        return s[2], job\n"                                                           \
  "      end\n"                                                                          \
  "    end\n"                                                                            \
  "  end\n"                                                                              \
  "  for _, owner in ipairs(redis.call('HKEYS', KEYS[5])) do\n"                          \
  "    local base = ARGV[1] .. 'errand:inprogress:' .. owner\n"                          \
  "    for _, q in ipairs(redis.call('SMEMBERS', base)) do\n"                            \
  "      for _, job in ipairs(redis.call('LRANGE', base .. ':queue:' .. q, 0, -1)) do\n" \
  "        if string.find(job, needle, 1, true) then return 'claimed', job, owner end\n" \
  "      end\n"                                                                          \
  "    end\n"                                                                            \
  "  end\n"                                                                              \
  "  for _, job in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do\n"                    \
  "    if string.find(job, needle, 1, true) then return 'dead', job end\n"               \
  "  end\n"                                                                              \
  "  return false, false\n"                                                              \
  "end\n"

// Where the job sits: {where, payload}, or {} when nowhere.
inline constexpr const char* kLocate = ERRAND_STATUS_FIND_LUA R"lua(
local where, job, owner = find(false)
if not where then return {} end
return {where, job, owner or ''}
)lua";

// Cancels the job. KEYS[6] its status hash; ARGV[3] now, ARGV[4] ttl (s).
// A waiting, scheduled or retrying job is removed and recorded cancelled
// (PUBLISHed on the hash's name); otherwise, unless the recorded state is
// final, a cancel request is flagged. Returns the state after.
inline constexpr const char* kCancel = ERRAND_STATUS_FIND_LUA R"lua(
local ttl = math.max(1, math.floor(tonumber(ARGV[4])))
if redis.call('TYPE', KEYS[6]).ok == 'string' then return 'succeeded' end
local state = redis.call('HGET', KEYS[6], 'state')
if state == 'succeeded' or state == 'dead' or state == 'cancelled' then return state end
local where = find(true)
if where == 'queued' or where == 'scheduled' or where == 'retry' then
  redis.call('HSET', KEYS[6], 'state', 'cancelled', 'at', ARGV[3])
  redis.call('HDEL', KEYS[6], 'cancel', 'result', 'process')
  redis.call('EXPIRE', KEYS[6], ttl)
  redis.call('PUBLISH', KEYS[6], 'cancelled')
  return 'cancelled'
end
redis.call('HSET', KEYS[6], 'cancel', '1')
if redis.call('TTL', KEYS[6]) < ttl then redis.call('EXPIRE', KEYS[6], ttl) end
if where == 'claimed' then return 'running' end
if where == 'dead' then return 'dead' end
return state or 'unknown'
)lua";

#undef ERRAND_STATUS_FIND_LUA

// Shared by kRecord and kAckRecord: writes the status records KEYS[k0 + 1 ..]
// from ARGV[a0 + 1 ..], seven values per key, in order: state, result, error,
// process, at, expire-at (epoch seconds), publish (1 or 0). KEYS[1] is
// errand:waiters: a final state is PUBLISHed only while it exists (a
// Client::wait is waiting), so a batch without waiters publishes nothing.
// The scripts convert no numbers (Lua's tonumber and number-to-text cost
// redis-server 6 % of its samples at full drain when they did).
//
// A success whose key does not exist yet (no progress, cancel request or
// earlier attempt recorded) is one STRING, `succeeded\n<at>\n<process>\n
// <result>`, written by SET NX: cheaper than the six-field hash. Otherwise
// the record is the hash (a string of an earlier success is replaced). A
// running record keeps a pending cancel request; any other state ends it
// (cancel "0", written with the rest: cheaper than an HDEL of its own).
#define ERRAND_STATUS_RECORD_LUA                                                                   \
  "local function record(k0, a0)\n"                                                                \
  "  local waited = redis.call('EXISTS', KEYS[1]) == 1\n"                                          \
  "  for i = k0 + 1, #KEYS do\n"                                                                   \
  "    local key, a = KEYS[i], a0 + (i - k0 - 1) * 7\n"                                            \
  "    local state = ARGV[a + 1]\n"                                                                \
  "    if not (state == 'succeeded' and\n"                                                         \
  "            redis.call('SET', key, 'succeeded\\n' .. ARGV[a + 5] .. '\\n' .. ARGV[a + 4] ..\n"  \
  "                       '\\n' .. ARGV[a + 2], 'NX')) then\n"                                     \
  "      if redis.call('TYPE', key).ok == 'string' then redis.call('DEL', key) end\n"              \
  "      if state == 'running' then\n"                                                             \
  "        redis.call('HSET', key, 'state', state, 'result', ARGV[a + 2], 'error', ARGV[a + 3],\n" \
  "                   'process', ARGV[a + 4], 'at', ARGV[a + 5])\n"                                \
  "      else\n"                                                                                   \
  "        redis.call('HSET', key, 'state', state, 'result', ARGV[a + 2], 'error', ARGV[a + 3],\n" \
  "                   'process', ARGV[a + 4], 'at', ARGV[a + 5], 'cancel', '0')\n"                 \
  "      end\n"                                                                                    \
  "    end\n"                                                                                      \
  "    redis.call('EXPIREAT', key, ARGV[a + 6])\n"                                                 \
  "    if waited and ARGV[a + 7] == '1' then redis.call('PUBLISH', key, state) end\n"              \
  "  end\n"                                                                                        \
  "end\n"

// Records the states of a batch of jobs in one call (StatusKeeper::record),
// where a MULTI of four commands per job cost the worker a third of its CPU.
// KEYS: errand:waiters, then the jobs' status keys; ARGV: seven per status
// key (see record above).
inline constexpr const char* kRecord = ERRAND_STATUS_RECORD_LUA R"lua(
record(1, 0)
return #KEYS - 1
)lua";

// A batch's acks and its status records as one atomic step
// (Store::ack_with_status): for each of the first ARGV[1] jobs, LREM its
// payload ARGV[1 + i] from its in-progress list KEYS[1 + i] (from the tail,
// where the oldest claims are); then the records, KEYS and ARGV as in kRecord
// after those (KEYS[1] errand:waiters). One call instead of a pipeline of
// LREMs and a kRecord call: Redis parses one command, not one per job, and
// the worker waits for one reply.
inline constexpr const char* kAckRecord = ERRAND_STATUS_RECORD_LUA R"lua(
local n = tonumber(ARGV[1])
for i = 1, n do redis.call('LREM', KEYS[1 + i], -1, ARGV[1 + i]) end
record(1 + n, 1 + n)
return n
)lua";

// kAckRecord for a batch whose records are all successes without an error
// (the common batch): the compact record is built by the worker, so each job
// passes two values instead of seven. KEYS: errand:waiters, ARGV[1]
// in-progress lists, then the status keys; ARGV: ARGV[1], the payloads, then
// per status key its compact record (`succeeded\n<at>\n<process>\n<result>`)
// and its expire-at (epoch s); last, '1' where the server has SET's EXAT
// (Redis 6.2), which sets the expiry in the same call, else '0' (SET NX, then
// EXPIREAT). A key that already holds a record (progress, a cancel request,
// an earlier attempt) gets the hash, as kRecord writes it.
inline constexpr const char* kAckSucceeded = R"lua(
local n = tonumber(ARGV[1])
for i = 1, n do redis.call('LREM', KEYS[1 + i], -1, ARGV[1 + i]) end
local exat = ARGV[#ARGV] == '1'
local waited = redis.call('EXISTS', KEYS[1]) == 1
for i = n + 2, #KEYS do
  local key, a = KEYS[i], n + 2 + (i - n - 2) * 2
  local record, expire_at = ARGV[a], ARGV[a + 1]
  local set
  if exat then
    set = redis.call('SET', key, record, 'EXAT', expire_at, 'NX')
  else
    set = redis.call('SET', key, record, 'NX')
    if set then redis.call('EXPIREAT', key, expire_at) end
  end
  if not set then
    local at, process, result = string.match(record, '^succeeded\n([^\n]*)\n([^\n]*)\n(.*)$')
    if redis.call('TYPE', key).ok == 'string' then redis.call('DEL', key) end
    redis.call('HSET', key, 'state', 'succeeded', 'result', result, 'error', '',
               'process', process, 'at', at, 'cancel', '0')
    redis.call('EXPIREAT', key, expire_at)
  end
  if waited then redis.call('PUBLISH', key, 'succeeded') end
end
return n
)lua";

// A status record as {'string', value} (a compact success, see record
// above), {'hash', HGETALL's array}, or {} when there is none. KEYS[1].
// With KEYS[2] (errand:waiters), first registers a waiter: ARGV[1] now,
// ARGV[2] its deadline, ARGV[3] its member (Client::wait's first look, in
// the same round trip); members whose deadline passed are dropped.
inline constexpr const char* kRead = R"lua(
if KEYS[2] then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'string' then return {'string', redis.call('GET', KEYS[1])} end
if t == 'hash' then return {'hash', redis.call('HGETALL', KEYS[1])} end
return {}
)lua";

// Which of KEYS (status records of running jobs) hold a cancel request:
// their indexes, from 1. A compact success (a string) holds none.
inline constexpr const char* kRequested = R"lua(
local out = {}
for i, key in ipairs(KEYS) do
  if redis.pcall('HGET', key, 'cancel') == '1' then out[#out + 1] = i end
end
return out
)lua";

#undef ERRAND_STATUS_RECORD_LUA

}  // namespace errand::redis::lua
