#include "store/postgres/schema.h"

#include "store/postgres/statements.h"

namespace errand::pg {
namespace {

// Version 1. As in the SQLite store, every job is one row whose `state` says
// where it is; Sidekiq's lists and sorted sets become indexes over it:
//   jobs_ready  the queues, next-to-run first (partial: waiting rows only);
//               fetch claims from it with FOR UPDATE SKIP LOCKED
//   jobs_state  the sorted sets by score, and the claimed rows for rescue
//   jobs_jid    admin lookups by jid
// Requeued and rescued jobs keep their id, so they run before anything
// pushed after them; promoted jobs get a new id (they join the tail).
// Payloads are text, not jsonb: they come back byte for byte as pushed.
constexpr const char* kV1 = R"(
CREATE SEQUENCE @.job_ids;
CREATE TABLE @.jobs (
  id          bigint PRIMARY KEY DEFAULT nextval('@.job_ids'),
  jid         text NOT NULL,
  queue       text NOT NULL,
  payload     text NOT NULL,
  state       text NOT NULL
              CHECK (state IN ('queued', 'claimed', 'scheduled', 'retry', 'dead')),
  score       float8 NOT NULL DEFAULT 0,
  priority    integer NOT NULL DEFAULT 0,
  owner       text,
  claimed_at  float8,
  enqueued_at float8);
ALTER SEQUENCE @.job_ids OWNED BY @.jobs.id;
CREATE INDEX jobs_ready ON @.jobs (queue, priority DESC, id) WHERE state = 'queued';
CREATE INDEX jobs_state ON @.jobs (state, score);
CREATE INDEX jobs_jid ON @.jobs (jid);
CREATE TABLE @.queues (
  name   text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false);
CREATE TABLE @.processes (
  identity text PRIMARY KEY,
  info     text NOT NULL,
  busy     integer NOT NULL DEFAULT 0,
  beat     float8 NOT NULL,
  quiet    boolean NOT NULL DEFAULT false,
  rss      bigint NOT NULL DEFAULT 0,
  rtt_us   bigint NOT NULL DEFAULT 0,
  ttl      float8 NOT NULL DEFAULT 60,
  work     text NOT NULL DEFAULT '[]');
CREATE TABLE @.signals (
  id       bigserial PRIMARY KEY,
  identity text NOT NULL,
  signal   text NOT NULL);
CREATE INDEX signals_identity ON @.signals (identity, id);
CREATE TABLE @.stats (
  key   text PRIMARY KEY,
  value bigint NOT NULL DEFAULT 0);
CREATE TABLE @.locks (
  key        text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at float8 NOT NULL);
)";

// Version 2: job status and results (Store::record_status), one row per jid
// the worker recorded; `cancel` is a pending cancel request. Rows past
// `expires` are ignored, and purged now and then by record_status.
constexpr const char* kV2 = R"(
CREATE TABLE @.job_status (
  jid        text PRIMARY KEY,
  state      text NOT NULL,
  result     text,
  error      text,
  process    text,
  cancel     boolean NOT NULL DEFAULT false,
  updated_at float8 NOT NULL,
  expires    float8 NOT NULL);
CREATE INDEX job_status_expires ON @.job_status (expires);
)";

// Version 3: a running job's progress (Store::record_progress), kept in its
// status record beside the state; batches and workflows
// (Store::batch_update): a batch's meta and its members' records
// (src/batch/logic.h), dropped after `expires`.
constexpr const char* kV3 = R"(
ALTER TABLE @.job_status ADD COLUMN progress float8, ADD COLUMN progress_message text;
CREATE TABLE @.batches (
  bid        text PRIMARY KEY,
  meta       text NOT NULL,
  created_at float8 NOT NULL,
  expires    float8 NOT NULL);
CREATE INDEX batches_created ON @.batches (created_at);
CREATE TABLE @.batch_members (
  bid    text NOT NULL,
  member text NOT NULL,
  record text NOT NULL,
  PRIMARY KEY (bid, member));
)";

// The version recorded in @.meta, 0 if the schema has no errand tables yet.
int read_version(Conn& conn, const std::string& schema) {
  auto probe =
      conn.query("SELECT to_regclass($1) IS NOT NULL", Params().add(quote_ident(schema) + ".meta"));
  if (!probe.boolean(0, 0)) return 0;
  auto v = conn.exec(
      in_schema("SELECT value::int FROM @.meta WHERE key = 'schema_version'", schema).c_str());
  return v.rows() ? static_cast<int>(v.integer(0, 0)) : 0;
}

void check_not_newer(Conn& conn, const std::string& schema, int version) {
  if (version > kSchemaVersion)
    throw Error(Errc::corrupt, "PostgreSQL schema \"" + schema + "\" at " + conn.where() +
                                   " has errand schema version " + std::to_string(version) +
                                   ", newer than this build knows (" +
                                   std::to_string(kSchemaVersion) + "): upgrade errand");
}

}  // namespace

void check_writable(Conn& conn) {
  auto r = conn.exec(
      "SELECT current_setting('transaction_read_only'), pg_is_in_recovery(), "
      "current_setting('server_version_num')::int");
  const bool standby = r.boolean(0, 1);
  if (r.text(0, 0) == "on" || standby)
    throw Error(Errc::unavailable,
                "PostgreSQL at " + conn.where() + " is read-only (" +
                    (standby ? std::string("a hot standby in recovery")
                             : std::string("default_transaction_read_only = on")) +
                    "): errand needs a writable primary");
  if (r.integer(0, 2) < 120000)
    throw Error(Errc::unavailable, "PostgreSQL at " + conn.where() + " is version " + r.str(0, 2) +
                                       ": errand needs 12 or newer");
}

void migrate(Conn& conn, const std::string& schema) {
  int version = read_version(conn, schema);
  check_not_newer(conn, schema, version);
  if (version == kSchemaVersion) return;

  Txn txn(conn);
  // Processes starting at once: one migrates, the others wait here and then
  // find the work done.
  conn.query("SELECT pg_advisory_xact_lock(hashtext('errand schema ' || $1))",
             Params().add(schema));
  conn.exec(("CREATE SCHEMA IF NOT EXISTS " + quote_ident(schema)).c_str());
  version = read_version(conn, schema);
  check_not_newer(conn, schema, version);
  if (version == 0) {
    auto tables =
        conn.query("SELECT count(*) FROM pg_tables WHERE schemaname = $1", Params().add(schema));
    if (tables.integer(0, 0) > 0)
      throw Error(Errc::corrupt, "PostgreSQL schema \"" + schema + "\" at " + conn.where() +
                                     " holds tables but no errand schema version: not an errand "
                                     "schema (choose another with ?schema=NAME)");
    conn.exec(in_schema(kV1, schema));
    conn.exec(in_schema("CREATE TABLE @.meta (key text PRIMARY KEY, value text NOT NULL)", schema));
  }
  if (version < 2) conn.exec(in_schema(kV2, schema));
  if (version < 3) conn.exec(in_schema(kV3, schema));
  // Later versions: `if (version < 4) { ALTER TABLE ... }` and so on.
  static_assert(kSchemaVersion == 3, "add the migration steps above");
  conn.exec(
      in_schema("INSERT INTO @.meta (key, value) VALUES ('schema_version', '3') "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                schema));
  txn.commit();
}

}  // namespace errand::pg
