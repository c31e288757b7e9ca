// The PostgreSQL store's batch records (errand/batch_store.h): the batches
// and batch_members tables (schema version 3). Each batch_update is one
// transaction under pg_advisory_xact_lock on the bid, so steps on one batch
// take turns across processes (the lock exists before the batch's row
// does); its pushes are in the same transaction.
#include <functional>

#include "errand/batch_store.h"
#include "store/postgres/statements.h"
#include "store/postgres/store_impl.h"

namespace errand::pg {

namespace {

class PgBatchTxn final : public BatchTxn {
 public:
  PgBatchTxn(Conn& conn, const std::string& schema, const std::string& bid)
      : conn_(conn), schema_(schema), bid_(bid) {}

 protected:
  Result<std::optional<std::string>> read_meta() override {
    auto r = conn_.query(in_schema("SELECT meta FROM @.batches WHERE bid = $1", schema_),
                         Params().add(bid_));
    if (r.rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(r.str(0, 0));
  }
  Result<std::vector<std::optional<std::string>>> read_members(
      const std::vector<std::string>& names) override {
    std::vector<std::optional<std::string>> out(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto r = conn_.query(
          in_schema("SELECT record FROM @.batch_members WHERE bid = $1 AND member = $2", schema_),
          Params().add(bid_).add(names[i]));
      if (r.rows() > 0) out[i] = r.str(0, 0);
    }
    return out;
  }
  Result<std::vector<std::pair<std::string, std::string>>> read_all_members() override {
    auto r =
        conn_.query(in_schema("SELECT member, record FROM @.batch_members WHERE bid = $1", schema_),
                    Params().add(bid_));
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.str(i, 0), r.str(i, 1));
    return out;
  }

 private:
  Conn& conn_;
  const std::string& schema_;
  const std::string& bid_;
};

void apply(Conn& conn, const std::string& schema, const std::string& bid, const BatchTxn& t) {
  if (t.meta_write)
    conn.query(in_schema("INSERT INTO @.batches (bid, meta, created_at, expires) "
                         "VALUES ($1, $2, $3, $4) ON CONFLICT (bid) DO UPDATE SET "
                         "meta = excluded.meta, expires = excluded.expires",
                         schema),
               Params().add(bid).add(*t.meta_write).add(t.created_at).add(t.expires_at));
  for (const auto& [name, rec] : t.member_writes)
    conn.query(in_schema("INSERT INTO @.batch_members (bid, member, record) VALUES ($1, $2, $3) "
                         "ON CONFLICT (bid, member) DO UPDATE SET record = excluded.record",
                         schema),
               Params().add(bid).add(name).add(rec));
}

}  // namespace

Status PgStore::batch_update(const std::string& bid, double now,
                             const std::function<Status(BatchTxn&)>& fn) {
  bool pushed = false;
  auto st = guarded("batch_update", [&]() -> Status {
    Lease conn = lease();
    Txn txn(*conn);
    conn->query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                Params().add("errand:" + options_.schema + ":batch:" + bid));
    PgBatchTxn bt(*conn, options_.schema, bid);
    if (auto r = fn(bt); !r) return r;
    apply(*conn, options_.schema, bid, bt);
    if (!bt.pushes.empty()) {
      conn->run(kPush, push_params(bt.pushes, now, channel_));
      pushed = true;
    }
    txn.commit();
    return {};
  });
  if (st.ok() && pushed) listener_.wake();
  return st;
}

Result<BatchRecord> PgStore::batch_read(const std::string& bid) {
  return guarded("batch_read", [&]() -> Result<BatchRecord> {
    Lease conn = lease();
    // One transaction: both reads see the same committed step.
    Txn txn(*conn);
    conn->exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    PgBatchTxn r(*conn, options_.schema, bid);
    BatchRecord out;
    auto meta = r.meta();
    if (!meta) return meta.error();
    if (!*meta) return fail(Errc::not_found, "no batch " + bid);
    out.meta = std::move(**meta);
    auto members = r.all_members();
    if (!members) return members.error();
    out.members = std::move(members).value();
    txn.commit();
    return out;
  });
}

Result<std::vector<std::string>> PgStore::batch_list(std::size_t offset, std::size_t count,
                                                     double now) {
  return guarded("batch_list", [&]() -> Result<std::vector<std::string>> {
    Lease conn = lease();
    conn->query(in_schema("WITH gone AS (DELETE FROM @.batches WHERE expires > 0 AND expires < $1 "
                          "RETURNING bid) DELETE FROM @.batch_members WHERE bid IN "
                          "(SELECT bid FROM gone)",
                          options_.schema),
                Params().add(now));
    auto r = conn->query(
        in_schema("SELECT bid FROM @.batches ORDER BY created_at DESC LIMIT $1 OFFSET $2",
                  options_.schema),
        Params().add(count).add(offset));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
  });
}

}  // namespace errand::pg
