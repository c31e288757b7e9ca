// The Lua scripts of the Redis store. Each one is a single atomic step in
// Redis; redis_store.cc says when each runs.
//
// Key names that depend on data (a queue named inside a payload, an owner's
// in-progress lists) are built inside the scripts from the key prefix passed
// in ARGV. That is fine on a single Redis server (what Sidekiq targets), but
// it is why these scripts are not Redis Cluster safe.
//
// In-progress (reliable fetch) keys, all errand's own (redis-layout.md §10):
//   errand:inprogress                       HASH owner -> epoch of its last claim
//   errand:inprogress:<owner>               SET  queues the owner has claimed from
//   errand:inprogress:<owner>:queue:<q>     LIST claimed payloads, newest at the head
//   errand:alive                            HASH owner -> beat + ttl (last heartbeat's deadline)
#pragma once

namespace errand::redis::lua {

// Claims up to ARGV[3] jobs, oldest first, draining the queues in the given
// order (the first queue until it is empty, then the next, ...). The jobs of
// one queue move as one block: LRANGE reads its oldest (at the tail, Sidekiq
// LPUSHes), LTRIM cuts them off, and one LPUSH puts them on the owner's
// in-progress list, oldest pushed first. The lists end as one RPOPLPUSH per
// job would leave them, for three calls per queue instead of one per job; the
// script as a whole is atomic.
//   KEYS[1] claims hash, KEYS[2] owner's queue set,
//   KEYS[2i+1], KEYS[2i+2] = queue:<qi>, the owner's in-progress list for qi
//   ARGV[1] owner, ARGV[2] now, ARGV[3] max, ARGV[3+i] = qi
// Returns {i1, job1, i2, job2, ...}: each job with its queue's index.
inline constexpr const char* kFetch = R"lua(
local max = tonumber(ARGV[3])
local nq = (#KEYS - 2) / 2
local out, n = {}, 0
for i = 1, nq do
  if n >= max then break end
  local src, dst = KEYS[2 * i + 1], KEYS[2 * i + 2]
  local jobs = redis.call('LRANGE', src, n - max, -1)
  local took = #jobs
  if took > 0 then
    redis.call('LTRIM', src, 0, -took - 1)
    local oldest_first = {}
    for k = took, 1, -1 do
      oldest_first[#oldest_first + 1] = jobs[k]
      out[#out + 1] = i
      out[#out + 1] = jobs[k]
    end
    for c = 1, took, 1000 do  -- unpack's results live on Lua's C stack (8,000 slots)
      redis.call('LPUSH', dst, unpack(oldest_first, c, math.min(c + 999, took)))
    end
    redis.call('SADD', KEYS[2], ARGV[3 + i])
    n = n + took
  end
end
if n > 0 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return out
)lua";

// Finds which owner holds a claim on a payload (for a Fetched whose owner this
// store instance does not know). KEYS[1] claims hash; ARGV[1] prefix,
// ARGV[2] queue, ARGV[3] payload. Returns the owner or nil.
inline constexpr const char* kFindClaim = R"lua(
for _, owner in ipairs(redis.call('HKEYS', KEYS[1])) do
  local list = ARGV[1] .. 'errand:inprogress:' .. owner .. ':queue:' .. ARGV[2]
  for _, job in ipairs(redis.call('LRANGE', list, 0, -1)) do
    if job == ARGV[3] then return owner end
  end
end
return false
)lua";

// Gives a claimed job back: removes it from the in-progress list and, only if
// it was still there, RPUSHes it to the tail of its queue, where it runs next
// (as Sidekiq does on shutdown). KEYS[1] in-progress list, KEYS[2] queue:<q>,
// KEYS[3] queues; ARGV[1] payload, ARGV[2] q. Returns 1 if it moved.
inline constexpr const char* kRequeue = R"lua(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
return 1
)lua";

// Moves due entries of `retry` then `schedule` into their queues.
//
// Why the JSON edit happens here, as text: the move must be one atomic step
// (Sidekiq's poller ZREMs, then LPUSHes in a second command, and loses the job
// if it dies in between; errand must not). Doing the edit in C++ would need a
// second round trip, hence a window. Redis's cjson is no good for rewriting a
// payload: cjson.encode re-formats numbers to 14 significant digits (so
// created_at and large integer args would change), reorders keys and escapes
// '/'. So the script scans the top level of the object itself (strings,
// nesting and escapes handled; nested objects such as an ActiveJob argument's
// own "enqueued_at" are skipped), replaces the value of the top-level
// "enqueued_at" (or appends the field) and reads "queue". Every other byte of
// the payload is kept. A member that is not a JSON object is pushed unchanged
// to "default", where the worker will park it in the dead set as unparseable.
//
// ZRANGEBYSCORE and ZREM in one script make each entry move exactly once, even
// with many processes polling at the same moment.
//   KEYS[1] retry, KEYS[2] schedule, KEYS[3] queues
//   ARGV[1] now, ARGV[2] max entries to move, ARGV[3] enqueued_at value text, ARGV[4] key prefix
// Returns how many moved.
inline constexpr const char* kPromote = R"lua(
local find, sub = string.find, string.sub

local function skip_string(s, i)
  local j = i + 1
  while true do
    local k = find(s, '["\\]', j)
    if not k then return nil end
    if sub(s, k, k) == '"' then return k + 1 end
    j = k + 2
  end
end

local function skip_value(s, i)
  local c = sub(s, i, i)
  if c == '"' then return skip_string(s, i) end
  if c == '{' or c == '[' then
    local depth, j = 0, i
    while true do
      local k = find(s, '["{}%[%]]', j)
      if not k then return nil end
      local d = sub(s, k, k)
      if d == '"' then
        j = skip_string(s, k)
        if not j then return nil end
      else
        if d == '{' or d == '[' then depth = depth + 1 else depth = depth - 1 end
        j = k + 1
        if depth == 0 then return j end
      end
    end
  end
  local k = find(s, '[,}%]%s]', i)
  if k == i then return nil end
  return k or (#s + 1)
end

-- Returns ok, queue value text, enqueued_at value span [a, b), index of the
-- closing brace, and whether the object is empty.
local function scan(s)
  local i = find(s, '%S')
  if not i or sub(s, i, i) ~= '{' then return false end
  i = find(s, '%S', i + 1)
  if not i then return false end
  if sub(s, i, i) == '}' then return true, nil, nil, nil, i, true end
  local queue, ea, eb
  while i do
    if sub(s, i, i) ~= '"' then return false end
    local kend = skip_string(s, i)
    if not kend then return false end
    local key = sub(s, i + 1, kend - 2)
    i = find(s, '%S', kend)
    if not i or sub(s, i, i) ~= ':' then return false end
    i = find(s, '%S', i + 1)
    if not i then return false end
    local vend = skip_value(s, i)
    if not vend then return false end
    if key == 'queue' then
      queue = sub(s, i, vend - 1)
    elseif key == 'enqueued_at' then
      ea, eb = i, vend
    end
    i = find(s, '%S', vend)
    if not i then return false end
    local c = sub(s, i, i)
    if c == '}' then return true, queue, ea, eb, i, false end
    if c ~= ',' then return false end
    i = find(s, '%S', i + 1)
  end
  return false
end

local function queue_name(raw)
  if not raw or sub(raw, 1, 1) ~= '"' then return 'default' end
  local name
  if find(raw, '\\', 1, true) then
    local ok, v = pcall(cjson.decode, raw)
    if ok and type(v) == 'string' then name = v end
  else
    name = sub(raw, 2, -2)
  end
  if not name or name == '' then return 'default' end
  return name
end

local now, max, stamp, prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local moved = 0
for k = 1, 2 do
  if moved >= max then break end
  local due = redis.call('ZRANGEBYSCORE', KEYS[k], '-inf', now, 'LIMIT', 0, max - moved)
  for _, job in ipairs(due) do
    redis.call('ZREM', KEYS[k], job)
    local ok, q, ea, eb, close, empty = scan(job)
    local out, queue = job, 'default'
    if ok then
      queue = queue_name(q)
      if ea then
        out = sub(job, 1, ea - 1) .. stamp .. sub(job, eb)
      else
        local sep = ','
        if empty then sep = '' end
        out = sub(job, 1, close - 1) .. sep .. '"enqueued_at":' .. stamp .. sub(job, close)
      end
    end
    redis.call('SADD', KEYS[3], queue)
    redis.call('LPUSH', prefix .. 'queue:' .. queue, out)
    moved = moved + 1
  end
end
return moved
)lua";

// Puts the jobs of dead owners back at the tail of their queues (they run
// next, oldest claim first), then forgets the owners.
//
// An owner is dead when
//   * it has heartbeated (errand:alive has its deadline) and either the
//     deadline is before `now` or its Sidekiq process hash has expired; or
//   * it never heartbeated (or unregistered) and its last claim is older than
//     the grace period.
// Also drops errand:alive entries of dead processes that hold no claims.
//   KEYS[1] claims hash, KEYS[2] alive hash, KEYS[3] queues
//   ARGV[1] now, ARGV[2] grace seconds, ARGV[3] key prefix
// Returns how many jobs moved.
inline constexpr const char* kRescue = R"lua(
local now, grace, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local moved = 0
-- Counts the crash in the payload's first member (store_util::count_crash):
-- the text is edited by prefix, never decoded and re-encoded.
local function count_crash(job)
  local n, rest = string.match(job, '^{"errand_crashes":(%d%d?%d?%d?%d?%d?%d?%d?%d?),(.*)$')
  if n then return '{"errand_crashes":' .. (tonumber(n) + 1) .. ',' .. rest end
  if string.sub(job, 1, 2) ~= '{"' then return job end
  return '{"errand_crashes":1,' .. string.sub(job, 2)
end
local claims = redis.call('HGETALL', KEYS[1])
for i = 1, #claims, 2 do
  local owner, claimed = claims[i], tonumber(claims[i + 1]) or 0
  local deadline = redis.call('HGET', KEYS[2], owner)
  local orphan
  if deadline then
    orphan = (tonumber(deadline) or 0) < now or redis.call('EXISTS', prefix .. owner) == 0
  else
    orphan = claimed + grace < now
  end
  if orphan then
    local set = prefix .. 'errand:inprogress:' .. owner
    for _, q in ipairs(redis.call('SMEMBERS', set)) do
      local list = set .. ':queue:' .. q
      local jobs = redis.call('LRANGE', list, 0, -1)
      if #jobs > 0 then
        local qk = prefix .. 'queue:' .. q
        for _, job in ipairs(jobs) do redis.call('RPUSH', qk, count_crash(job)) end
        redis.call('SADD', KEYS[3], q)
        moved = moved + #jobs
      end
      redis.call('DEL', list)
    end
    redis.call('DEL', set)
    redis.call('HDEL', KEYS[1], owner)
    redis.call('HDEL', KEYS[2], owner)
  end
end
local alive = redis.call('HGETALL', KEYS[2])
for i = 1, #alive, 2 do
  if (tonumber(alive[i + 1]) or 0) < now and redis.call('HEXISTS', KEYS[1], alive[i]) == 0 then
    redis.call('HDEL', KEYS[2], alive[i])
  end
end
return moved
)lua";

// Atomically takes the entry (score, jid) out of a sorted set and either
// enqueues the new payload or adds it to the dead set with Sidekiq's trim.
// cjson only reads the jid here; the stored text is never re-encoded.
//   KEYS[1] the set, KEYS[2] dead, KEYS[3] queues, KEYS[4] queue:<q>
//   ARGV[1] score, ARGV[2] jid, ARGV[3] 'queue' or 'dead', ARGV[4] new payload,
//   ARGV[5] q, ARGV[6] now, ARGV[7] now - max age, ARGV[8] -max_jobs
// Returns 1 if moved, 0 if the entry was gone.
inline constexpr const char* kSetMove = R"lua(
local found
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])) do
  if string.find(member, ARGV[2], 1, true) then
    local ok, doc = pcall(cjson.decode, member)
    if ok and type(doc) == 'table' and doc.jid == ARGV[2] then
      found = member
      break
    end
  end
end
if not found then return 0 end
redis.call('ZREM', KEYS[1], found)
if ARGV[3] == 'queue' then
  redis.call('SADD', KEYS[3], ARGV[5])
  redis.call('LPUSH', KEYS[4], ARGV[4])
else
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[7])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, ARGV[8])
end
return 1
)lua";

// Lock acquire. KEYS[1] = the lock hash; ARGV = holder, now, expires_at.
// Free, or held past its time at `now`: take it (and let Redis drop the key a
// little after it ends). Returns 1 if taken, 0 if someone else holds it.
inline constexpr const char* kLockAcquire = R"lua(
local h = redis.call('HMGET', KEYS[1], 'holder', 'until')
if h[1] and h[2] and tonumber(h[2]) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'until', ARGV[3])
local ttl = math.ceil(tonumber(ARGV[3]) - tonumber(ARGV[2])) + 60
if ttl < 60 then ttl = 60 end
redis.call('EXPIRE', KEYS[1], ttl)
return 1
)lua";

// Lock release. KEYS[1] = the lock hash; ARGV[1] = holder. Only the holder releases.
inline constexpr const char* kLockRelease = R"lua(
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
)lua";

// Lock extension. KEYS[1] = the lock hash; ARGV[1] = holder, ARGV[2] = the new
// end (epoch seconds), ARGV[3] = now. Only the holder extends; the key's TTL
// follows (at least a minute past the end, as kLockAcquire sets it).
inline constexpr const char* kLockExtend = R"lua(
if redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'until', ARGV[2])
local ttl = math.ceil(tonumber(ARGV[2]) - tonumber(ARGV[3])) + 60
if ttl < 60 then ttl = 60 end
redis.call('EXPIRE', KEYS[1], ttl)
return 1
)lua";

}  // namespace errand::redis::lua
