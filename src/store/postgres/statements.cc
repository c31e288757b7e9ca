#include "store/postgres/statements.h"

#include <array>
#include <utility>

namespace errand::pg {
namespace {

// Columns of a claimed job and how the queues are read next-to-run first
// follow the SQLite store; see schema.cc for the tables.
constexpr std::array<std::pair<S, const char*>, kStatementCount> kSql{{
    // $1 jids, $2 queues, $3 payloads, $4 at (0: ready), $5 priorities,
    // $6 now, $7 the distinct ready queues, $8 the wake-up channel.
    // One statement: the batch lands (and the wake-up is sent, at commit) or
    // nothing does.
    {kPush,
     "WITH j AS (INSERT INTO @.jobs (jid, queue, payload, state, score, priority, enqueued_at) "
     "  SELECT t.jid, t.queue, t.payload, CASE WHEN t.at = 0 THEN 'queued' ELSE 'scheduled' END, "
     "         t.at, t.priority, $6::float8 "
     "  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::int[]) "
     "       WITH ORDINALITY AS t(jid, queue, payload, at, priority, n) ORDER BY t.n), "
     "q AS (INSERT INTO @.queues (name) SELECT DISTINCT unnest($7::text[]) "
     "      ON CONFLICT DO NOTHING) "
     "SELECT pg_notify($8, name) FROM unnest($7::text[]) AS name"},
    // $1 queue, $2 max, $3 owner, $4 now. SKIP LOCKED: concurrent fetchers
    // take disjoint rows without waiting on each other.
    {kClaim,
     "WITH c AS (SELECT id FROM @.jobs WHERE queue = $1 AND state = 'queued' "
     "           ORDER BY priority DESC, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
     "UPDATE @.jobs j SET state = 'claimed', owner = $3, claimed_at = $4 FROM c "
     "WHERE j.id = c.id RETURNING j.priority, j.id, j.payload"},
    // $1 ids, $2 owners ('' = any owner).
    {kAck,
     "DELETE FROM @.jobs j USING unnest($1::bigint[], $2::text[]) AS a(id, owner) "
     "WHERE j.id = a.id AND j.state = 'claimed' AND (a.owner = '' OR j.owner = a.owner)"},
    // $1 ids. The row keeps its id, so it runs before later pushes.
    {kRequeueClaimed,
     "UPDATE @.jobs SET state = 'queued', owner = NULL, claimed_at = NULL "
     "WHERE id = ANY($1::bigint[]) AND state = 'claimed' RETURNING queue"},
    // $1 jid, $2 queue, $3 payload, $4 now: a job this store never handed
    // out, put in front of its queue.
    {kRequeueFront,
     "INSERT INTO @.jobs (id, jid, queue, payload, state, enqueued_at) "
     "VALUES ((SELECT coalesce(min(id), 1) - 1 FROM @.jobs), $1, $2, $3, 'queued', $4)"},
    // $1 id (0: none), $2 state, $3 jid, $4 payload, $5 score, $6 queue,
    // $7 owner ('' = any): the claimed row becomes a set entry in place, or
    // (claim gone, never fetched) the entry is added anew: never lost.
    {kPark,
     "WITH u AS (UPDATE @.jobs SET state = $2, jid = $3, payload = $4, score = $5, owner = NULL, "
     "                  claimed_at = NULL "
     "           WHERE id = $1 AND (state = 'queued' OR (state = 'claimed' AND "
     "                 ($7 = '' OR owner = $7))) RETURNING 1) "
     "INSERT INTO @.jobs (jid, queue, payload, state, score) "
     "SELECT $3, $6::text, $4, $2, $5 WHERE NOT EXISTS (SELECT 1 FROM u)"},
    // $1 cutoff (older entries go), $2 how many to keep (newest first).
    {kTrimDead,
     "WITH old AS (DELETE FROM @.jobs WHERE state = 'dead' AND score < $1) "
     "DELETE FROM @.jobs WHERE id IN (SELECT id FROM @.jobs WHERE state = 'dead' AND score >= $1 "
     "ORDER BY score DESC, id DESC OFFSET $2)"},
    {kPromoteProbe,
     "SELECT EXISTS (SELECT 1 FROM @.jobs WHERE state = 'retry' AND score <= $1) OR "
     "       EXISTS (SELECT 1 FROM @.jobs WHERE state = 'scheduled' AND score <= $1)"},
    // $1 now, $2 limit. Retries first, as Sidekiq's poller.
    {kPromoteSelect,
     "SELECT id, payload FROM @.jobs WHERE state IN ('retry', 'scheduled') AND score <= $1 "
     "ORDER BY state = 'retry' DESC, score, id LIMIT $2 FOR UPDATE SKIP LOCKED"},
    // $1 ids, $2 queues, $3 payloads, $4 now, $5 channel. A new id: the job
    // joins the tail of its queue.
    {kPromoteApply,
     "WITH u AS (UPDATE @.jobs j SET state = 'queued', id = nextval('@.job_ids'), "
     "             queue = t.queue, payload = t.payload, score = 0, enqueued_at = $4 "
     "           FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(id, queue, payload) "
     "           WHERE j.id = t.id RETURNING j.queue), "
     "q AS (INSERT INTO @.queues (name) SELECT DISTINCT queue FROM u ON CONFLICT DO NOTHING) "
     "SELECT pg_notify($5, d.queue) FROM (SELECT DISTINCT queue FROM u) d"},
    // $1 ids, $2 now: entries whose payload is not a JSON object.
    {kPromoteDead, "UPDATE @.jobs SET state = 'dead', score = $2 WHERE id = ANY($1::bigint[])"},
    {kRescueProbe, "SELECT 1 FROM @.jobs WHERE state = 'claimed' LIMIT 1"},
    // $1 now, $2 now - grace, $3 channel.
    {kRescue,
     // The payload counts the crash in its first member, edited by prefix
     // as store_util::count_crash does (the text is never re-encoded).
     "WITH r AS (UPDATE @.jobs SET state = 'queued', owner = NULL, claimed_at = NULL, "
     "  payload = CASE "
     "    WHEN payload ~ '^\\{\"errand_crashes\":[0-9]{1,9},' THEN "
     "      '{\"errand_crashes\":' || "
     "      (substring(payload from '^\\{\"errand_crashes\":([0-9]{1,9}),')::bigint + 1) || "
     "      substr(payload, length(substring(payload from '^(\\{\"errand_crashes\":[0-9]{1,9}),')) "
     "+ 1)"
     "    WHEN payload LIKE '{\"%' THEN '{\"errand_crashes\":1,' || substr(payload, 2) "
     "    ELSE payload END "
     "  WHERE state = 'claimed' AND ("
     "    owner IN (SELECT identity FROM @.processes WHERE beat + ttl < $1) OR "
     "    ((owner IS NULL OR owner NOT IN (SELECT identity FROM @.processes)) "
     "     AND claimed_at < $2)) RETURNING queue), "
     "q AS (INSERT INTO @.queues (name) SELECT DISTINCT queue FROM r ON CONFLICT DO NOTHING) "
     "SELECT d.n, pg_notify($3, d.queue) FROM "
     "  (SELECT queue, count(*) AS n FROM r GROUP BY queue) d"},
    // $1 channel, $2 queues.
    {kNotify, "SELECT pg_notify($1, q) FROM unnest($2::text[]) AS q"},
    // $1 identity, $2 info, $3 busy, $4 beat, $5 quiet, $6 rss, $7 rtt_us,
    // $8 ttl, $9 work, $10 counter keys, $11 increments. Returns the signals.
    {kHeartbeat,
     "WITH p AS (INSERT INTO @.processes (identity, info, busy, beat, quiet, rss, rtt_us, ttl, "
     "                                   work) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
     "  ON CONFLICT (identity) DO UPDATE SET info = excluded.info, busy = excluded.busy, "
     "  beat = excluded.beat, quiet = excluded.quiet, rss = excluded.rss, "
     "  rtt_us = excluded.rtt_us, ttl = excluded.ttl, work = excluded.work), "
     "c AS (INSERT INTO @.stats (key, value) "
     "      SELECT k, v FROM unnest($10::text[], $11::bigint[]) AS t(k, v) "
     "      ON CONFLICT (key) DO UPDATE SET value = @.stats.value + excluded.value) "
     "DELETE FROM @.signals WHERE identity = $1 RETURNING id, signal"},
    {kUnregister,
     "WITH s AS (DELETE FROM @.signals WHERE identity = $1) "
     "DELETE FROM @.processes WHERE identity = $1"},
    {kPrune, "DELETE FROM @.processes WHERE beat + ttl < $1"},
    {kProcesses,
     "SELECT identity, info, busy, beat, quiet, rss FROM @.processes "
     "ORDER BY identity COLLATE \"C\""},
    {kWorkers, "SELECT identity, work FROM @.processes ORDER BY identity COLLATE \"C\""},
    {kSignal, "INSERT INTO @.signals (identity, signal) VALUES ($1, $2)"},
    // $1 now. One statement: one snapshot.
    {kStats,
     "SELECT (SELECT coalesce(sum(value), 0) FROM @.stats WHERE key = 'processed'), "
     "       (SELECT coalesce(sum(value), 0) FROM @.stats WHERE key = 'failed'), "
     "       (SELECT count(*) FROM @.jobs WHERE state = 'queued'), "
     "       (SELECT count(*) FROM @.jobs WHERE state = 'scheduled'), "
     "       (SELECT count(*) FROM @.jobs WHERE state = 'retry'), "
     "       (SELECT count(*) FROM @.jobs WHERE state = 'dead'), "
     "       (SELECT count(*) FROM @.processes WHERE beat + ttl >= $1), "
     "       (SELECT coalesce(sum(busy), 0) FROM @.processes WHERE beat + ttl >= $1)"},
    {kCounters, "SELECT key, value FROM @.stats WHERE key = ANY($1::text[])"},
    {kResetStats,
     "INSERT INTO @.stats (key, value) VALUES ('processed', 0), ('failed', 0) "
     "ON CONFLICT (key) DO UPDATE SET value = 0"},
    {kSetPaused,
     "INSERT INTO @.queues (name, paused) VALUES ($1, $2) "
     "ON CONFLICT (name) DO UPDATE SET paused = excluded.paused"},
    {kPausedQueues, "SELECT name FROM @.queues WHERE paused ORDER BY name COLLATE \"C\""},
    // $1 key, $2 holder, $3 expires_at, $4 now: insert, or take over an
    // expired lock; a row comes back only to the one winner.
    {kLockAcquire,
     "INSERT INTO @.locks (key, holder, expires_at) VALUES ($1, $2, $3) "
     "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
     "WHERE @.locks.expires_at <= $4 RETURNING 1"},
    {kLockRelease, "DELETE FROM @.locks WHERE key = $1 AND holder = $2"},
    {kLockExtend, "UPDATE @.locks SET expires_at = $3 WHERE key = $1 AND holder = $2"},
    {kQueues,
     "SELECT q.name, q.paused, "
     "  (SELECT count(*) FROM @.jobs c WHERE c.queue = q.name AND c.state = 'queued'), "
     "  h.payload, h.enqueued_at "
     "FROM @.queues q LEFT JOIN LATERAL (SELECT payload, enqueued_at FROM @.jobs j "
     "  WHERE j.queue = q.name AND j.state = 'queued' ORDER BY priority DESC, id LIMIT 1) h "
     "  ON true "
     "ORDER BY q.name COLLATE \"C\""},
    {kQueueJobs,
     "SELECT payload FROM @.jobs WHERE queue = $1 AND state = 'queued' "
     "ORDER BY priority DESC, id LIMIT $2 OFFSET $3"},
    {kQueueDelete,
     "DELETE FROM @.jobs WHERE state = 'queued' AND id = (SELECT id FROM @.jobs "
     "WHERE jid = $2 AND queue = $1 AND state = 'queued' ORDER BY id LIMIT 1)"},
    {kClearQueue,
     "WITH d AS (DELETE FROM @.jobs WHERE queue = $1 AND state = 'queued') "
     "DELETE FROM @.queues WHERE name = $1"},
    {kSetSize, "SELECT count(*) FROM @.jobs WHERE state = $1"},
    {kSetRangeAsc,
     "SELECT score, jid, payload FROM @.jobs WHERE state = $1 "
     "ORDER BY score, id LIMIT $2 OFFSET $3"},
    {kSetRangeDesc,
     "SELECT score, jid, payload FROM @.jobs WHERE state = $1 "
     "ORDER BY score DESC, id DESC LIMIT $2 OFFSET $3"},
    // $1 jid, $2 state, $3/$4 the score window (scores come back from the
    // UI as text: match within a millisecond).
    {kSetFind,
     "SELECT score, jid, payload, id FROM @.jobs WHERE jid = $1 AND state = $2 "
     "AND score BETWEEN $3 AND $4 ORDER BY id LIMIT 1"},
    {kSetDelete,
     "DELETE FROM @.jobs WHERE state = $2 AND id = (SELECT id FROM @.jobs WHERE jid = $1 "
     "AND state = $2 AND score BETWEEN $3 AND $4 ORDER BY id LIMIT 1)"},
    // $1 jid, $2 state, $3/$4 window, $5 queue, $6 payload, $7 now, $8 channel.
    {kSetMoveQueue,
     "WITH u AS (UPDATE @.jobs SET state = 'queued', id = nextval('@.job_ids'), queue = $5, "
     "             payload = $6, score = 0, enqueued_at = $7 "
     "           WHERE state = $2 AND id = (SELECT id FROM @.jobs WHERE jid = $1 AND state = $2 "
     "             AND score BETWEEN $3 AND $4 ORDER BY id LIMIT 1) RETURNING queue), "
     "q AS (INSERT INTO @.queues (name) SELECT queue FROM u ON CONFLICT DO NOTHING) "
     "SELECT pg_notify($8, queue) FROM u"},
    // $1 jid, $2 state, $3/$4 window, $5 payload, $6 now.
    {kSetMoveDead,
     "UPDATE @.jobs SET state = 'dead', payload = $5, score = $6 "
     "WHERE state = $2 AND id = (SELECT id FROM @.jobs WHERE jid = $1 AND state = $2 "
     "AND score BETWEEN $3 AND $4 ORDER BY id LIMIT 1)"},
    {kSetClear, "DELETE FROM @.jobs WHERE state = $1"},
    // Status records, one or a batch in one statement: arrays $1 jids
    // (distinct), $2 states, $3 results, $4 errors, $5 processes, $6 now,
    // $7 expires, $9 whether to notify (final states); $8 the status channel.
    // A running record keeps a pending, unexpired cancel request.
    {kStatusRecord,
     "WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
     "  $6::float8[], $7::float8[], $9::boolean[]) "
     "  AS v(jid, state, result, error, process, updated_at, expires, notify)), "
     "u AS (INSERT INTO @.job_status AS s "
     "  (jid, state, result, error, process, cancel, updated_at, expires) "
     "  SELECT jid, state, result, error, process, false, updated_at, expires FROM v "
     "  ON CONFLICT (jid) DO UPDATE SET "
     "  state = excluded.state, result = excluded.result, error = excluded.error, "
     "  process = excluded.process, updated_at = excluded.updated_at, expires = excluded.expires, "
     "  cancel = (excluded.state = 'running' AND s.expires >= excluded.updated_at AND s.cancel), "
     "  progress = CASE WHEN s.expires >= excluded.updated_at THEN s.progress END, "
     "  progress_message = CASE WHEN s.expires >= excluded.updated_at THEN s.progress_message END "
     "  RETURNING jid) "
     "SELECT pg_notify($8, u.jid) FROM u JOIN v ON v.jid = u.jid WHERE v.notify"},
    // $1 jid, $2 now.
    {kStatusGet,
     "SELECT state, result, error, process, cancel, updated_at, progress, "
     "coalesce(progress_message, '') FROM @.job_status WHERE jid = $1 AND expires >= $2"},
    {kStatusLocate,
     "SELECT state, payload, coalesce(owner, '') FROM @.jobs WHERE jid = $1 "
     "ORDER BY id DESC LIMIT 1"},
    // $1 jid. A row being claimed is locked: this waits, then sees it claimed.
    {kStatusCancelWaiting,
     "DELETE FROM @.jobs WHERE jid = $1 AND state IN ('queued', 'scheduled', 'retry')"},
    // $1 jid, $2 now, $3 expires. An expired record starts over as unknown.
    {kStatusFlagCancel,
     "INSERT INTO @.job_status AS s (jid, state, cancel, updated_at, expires) "
     "VALUES ($1, 'unknown', true, $2, $3) ON CONFLICT (jid) DO UPDATE SET cancel = true, "
     "state = CASE WHEN s.expires < $2 THEN 'unknown' ELSE s.state END, "
     "expires = GREATEST(s.expires, $3) RETURNING state"},
    // $1 jids.
    {kStatusRequests, "SELECT jid FROM @.job_status WHERE cancel AND jid = ANY($1::text[])"},
    {kStatusPurge, "DELETE FROM @.job_status WHERE expires < $1"},
    // $1 jid, $2 now, $3 expires, $4 fraction, $5 message. A new record is
    // state unknown (where the job sits says running); an expired one
    // starts over.
    {kProgressRecord,
     "INSERT INTO @.job_status AS s (jid, state, cancel, updated_at, expires, progress, "
     "  progress_message) VALUES ($1, 'unknown', false, $2, $3, $4, $5) "
     "ON CONFLICT (jid) DO UPDATE SET "
     "  state = CASE WHEN s.expires >= $2 THEN s.state ELSE 'unknown' END, "
     "  result = CASE WHEN s.expires >= $2 THEN s.result END, "
     "  error = CASE WHEN s.expires >= $2 THEN s.error END, "
     "  cancel = s.expires >= $2 AND s.cancel, "
     "  updated_at = $2, expires = GREATEST(s.expires, $3), "
     "  progress = $4, progress_message = $5"},
    // $1 the events channel, $2 the events as a text[] of JSON objects.
    {kEventsNotify, "SELECT pg_notify($1, e) FROM unnest($2::text[]) AS e"},
}};

}  // namespace

std::string quote_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string in_schema(const char* sql, const std::string& schema) {
  const std::string quoted = quote_ident(schema);
  std::string out;
  for (const char* p = sql; *p; ++p) {
    if (*p == '@')
      out += quoted;
    else
      out += *p;
  }
  return out;
}

Statements make_statements(const std::string& schema) {
  Statements out(kStatementCount);
  for (const auto& [id, sql] : kSql) out[id] = in_schema(sql, schema);
  return out;
}

}  // namespace errand::pg
