// The SQLite store's batch records (errand/batch_store.h): the batches and
// batch_members tables (schema version 3). Each batch_update is one write
// transaction, with the pushes it asks for.
#include "errand/batch_store.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace errand::sqlite {

namespace {

class SqliteBatchTxn final : public BatchTxn {
 public:
  SqliteBatchTxn(Conn& conn, const std::string& bid) : conn_(conn), bid_(bid) {}

 protected:
  Result<std::optional<std::string>> read_meta() override {
    auto s = conn_.stmt("SELECT meta FROM batches WHERE bid = ?1");
    s.bind(1, bid_);
    if (!s.row()) return std::optional<std::string>();
    return std::optional<std::string>(s.str(0));
  }
  Result<std::vector<std::optional<std::string>>> read_members(
      const std::vector<std::string>& names) override {
    std::vector<std::optional<std::string>> out(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto s = conn_.stmt("SELECT record FROM batch_members WHERE bid = ?1 AND member = ?2");
      s.bind(1, bid_).bind(2, names[i]);
      if (s.row()) out[i] = s.str(0);
    }
    return out;
  }
  Result<std::vector<std::pair<std::string, std::string>>> read_all_members() override {
    std::vector<std::pair<std::string, std::string>> out;
    auto s = conn_.stmt("SELECT member, record FROM batch_members WHERE bid = ?1");
    s.bind(1, bid_);
    while (s.row()) out.emplace_back(s.str(0), s.str(1));
    return out;
  }

 private:
  Conn& conn_;
  const std::string& bid_;
};

void apply(Conn& conn, const std::string& bid, const BatchTxn& t) {
  if (t.meta_write)
    conn.stmt(
            "INSERT INTO batches (bid, meta, created_at, expires) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (bid) DO UPDATE SET meta = excluded.meta, expires = excluded.expires")
        .bind(1, bid)
        .bind(2, *t.meta_write)
        .bind(3, t.created_at)
        .bind(4, t.expires_at)
        .run();
  for (const auto& [name, rec] : t.member_writes)
    conn.stmt(
            "INSERT INTO batch_members (bid, member, record) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (bid, member) DO UPDATE SET record = excluded.record")
        .bind(1, bid)
        .bind(2, name)
        .bind(3, rec)
        .run();
}

}  // namespace

Status SqliteStore::batch_update(const std::string& bid, double now,
                                 const std::function<Status(BatchTxn&)>& fn) {
  bool pushed = false;
  auto st = write("batch", [&](Conn& conn) -> Status {
    SqliteBatchTxn txn(conn, bid);
    if (auto r = fn(txn); !r) return r;
    apply(conn, bid, txn);
    push_on(conn, txn.pushes, now);
    pushed = !txn.pushes.empty();
    return {};
  });
  if (st.ok() && pushed) wake();
  return st;
}

Result<BatchRecord> SqliteStore::batch_read(const std::string& bid) {
  return read("batch_read", [&](Conn& conn) -> Result<BatchRecord> {
    ReadTxn txn(conn);
    BatchRecord r;
    {
      auto s = conn.stmt("SELECT meta FROM batches WHERE bid = ?1");
      s.bind(1, bid);
      if (!s.row()) return fail(Errc::not_found, "no batch " + bid);
      r.meta = s.str(0);
    }
    auto s = conn.stmt("SELECT member, record FROM batch_members WHERE bid = ?1");
    s.bind(1, bid);
    while (s.row()) r.members.emplace_back(s.str(0), s.str(1));
    return r;
  });
}

Result<std::vector<std::string>> SqliteStore::batch_list(std::size_t offset, std::size_t count,
                                                         double now) {
  return write("batch_list", [&](Conn& conn) -> Result<std::vector<std::string>> {
    conn.stmt(
            "DELETE FROM batch_members WHERE bid IN "
            "(SELECT bid FROM batches WHERE expires > 0 AND expires < ?1)")
        .bind(1, now)
        .run();
    conn.stmt("DELETE FROM batches WHERE expires > 0 AND expires < ?1").bind(1, now).run();
    std::vector<std::string> out;
    auto s = conn.stmt("SELECT bid FROM batches ORDER BY created_at DESC LIMIT ?1 OFFSET ?2");
    s.bind(1, count).bind(2, offset);
    while (s.row()) out.push_back(s.str(0));
    return out;
  });
}

}  // namespace errand::sqlite
