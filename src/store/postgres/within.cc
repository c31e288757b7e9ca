// Transactional enqueue on PostgreSQL: the push (and a unique job's lock) run
// on the application's own connection, inside its transaction, with the same
// statements as the store's (tables named through the schema, not the
// connection's search_path). The wake-up NOTIFY is part of that transaction
// too, so idle workers hear of the job when, and only if, it commits.
#include <postgresql/libpq-fe.h>

#include "store/postgres/store_impl.h"

namespace errand::pg {
namespace {

// The application's connection, checked: a PGconn inside an open, healthy
// transaction. Outside one, each statement would commit on its own.
std::unique_ptr<Conn> app_conn(const AppTransaction& txn) {
  if (txn.kind != AppTransaction::Kind::postgres)
    throw Error(Errc::invalid_argument,
                "postgres store: within() needs the application's PGconn*, got a sqlite3*");
  auto* c = static_cast<PGconn*>(txn.handle);
  if (c == nullptr || PQstatus(c) != CONNECTION_OK)
    throw Error(Errc::invalid_argument,
                "postgres store: within() got no connection, or one that is not open");
  switch (PQtransactionStatus(c)) {
    case PQTRANS_INTRANS:
      break;
    case PQTRANS_IDLE:
      throw Error(Errc::invalid_argument,
                  "postgres store: within() needs a transaction in progress on the application's "
                  "connection (BEGIN first); without one the job would commit on its own");
    case PQTRANS_INERROR:
      throw Error(Errc::invalid_argument,
                  "postgres store: the application's transaction has already failed; roll it "
                  "back (nothing was enqueued)");
    default:
      throw Error(Errc::invalid_argument,
                  "postgres store: the application's connection is busy with another command");
  }
  return Conn::borrow(c, "the application's connection");
}

}  // namespace

Status PgStore::push_within(const AppTransaction& txn, const PushParams& p) {
  const std::span<const PushItem> jobs = p.jobs;
  return guarded("push_within", [&]() -> Status {
    auto conn = app_conn(txn);
    if (jobs.empty()) return {};
    conn->query(statements_[kPush], push_params(jobs, p.now, channel_));
    return {};
  });
}

Result<bool> PgStore::lock_acquire_within(const AppTransaction& txn, const std::string& key,
                                          const std::string& holder, double now,
                                          double expires_at) {
  return guarded("lock_acquire_within", [&]() -> Result<bool> {
    auto conn = app_conn(txn);
    auto r = conn->query(statements_[kLockAcquire],
                         Params().add(key).add(holder).add(expires_at).add(now));
    return r.rows() == 1;
  });
}

}  // namespace errand::pg
