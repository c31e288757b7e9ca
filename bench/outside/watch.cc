#include "outside/watch.h"

#include <hiredis/hiredis.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <stdexcept>
#include <string_view>
#include <utility>

namespace bench {

namespace {

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

class RedisWatch final : public Watch {
 public:
  RedisWatch(const std::string& host, int port, int db, std::vector<std::string> queues)
      : queues_(std::move(queues)) {
    ctx_ = redisConnect(host.c_str(), port);
    if (ctx_ == nullptr || ctx_->err)
      throw std::runtime_error("watch: cannot connect to redis " + host + ":" +
                               std::to_string(port));
    command({"SELECT", std::to_string(db)});
  }
  ~RedisWatch() override { redisFree(ctx_); }

  bool done() override {
    // A queue emptied stays empty (nothing is pushed while the worker drains),
    // so one LLEN per look: the first queue not yet seen empty.
    while (next_ < queues_.size()) {
      if (command({"LLEN", "queue:" + queues_[next_]})->integer > 0) return false;
      ++next_;
    }
    // Claimed, not yet acknowledged: errand's in-progress lists (deleted by
    // Redis when they empty, so any such key holds a job).
    Reply keys = command({"KEYS", "errand:inprogress:*:queue:*"});
    return keys->elements == 0;
  }

  std::int64_t progress() override {
    return command({"LLEN", "queue:" + queues_.front()})->integer;
  }

  std::int64_t bytes() override { return info_field("used_memory:"); }
  int server_pid() override { return static_cast<int>(info_field("process_id:")); }

 private:
  Reply command(const std::vector<std::string>& argv) {
    std::vector<const char*> p;
    std::vector<size_t> l;
    for (const auto& a : argv) {
      p.push_back(a.data());
      l.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), p.data(), l.data()));
    if (r == nullptr) throw std::runtime_error("watch: redis connection lost");
    if (r->type == REDIS_REPLY_ERROR) {
      std::string why(r->str, r->len);
      freeReplyObject(r);
      throw std::runtime_error("watch: redis: " + why);
    }
    return Reply(r);
  }

  std::int64_t info_field(std::string_view field) {
    Reply r = command({"INFO"});
    std::string_view text(r->str, r->len);
    auto at = text.find(field);
    if (at == std::string_view::npos) return 0;
    return std::stoll(std::string(text.substr(at + field.size(), 24)));
  }

  redisContext* ctx_ = nullptr;
  std::vector<std::string> queues_;
  std::size_t next_ = 0;
};

class SqliteWatch final : public Watch {
 public:
  SqliteWatch(std::string path, const std::string& table) : path_(std::move(path)) {
    if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      throw std::runtime_error("watch: cannot open " + path_);
    sqlite3_busy_timeout(db_, 1000);
    const std::string any = "SELECT EXISTS (SELECT 1 FROM " + table + ")";
    const std::string first = "SELECT min(rowid) FROM " + table;
    if (sqlite3_prepare_v2(db_, any.c_str(), -1, &any_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, first.c_str(), -1, &first_, nullptr) != SQLITE_OK)
      throw std::runtime_error("watch: " + path_ + ": " + sqlite3_errmsg(db_));
  }
  ~SqliteWatch() override {
    sqlite3_finalize(any_);
    sqlite3_finalize(first_);
    sqlite3_close(db_);
  }

  bool done() override {
    sqlite3_reset(any_);
    const int rc = sqlite3_step(any_);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return false;  // look again
    if (rc != SQLITE_ROW) throw std::runtime_error("watch: " + path_ + ": " + sqlite3_errmsg(db_));
    const bool empty = sqlite3_column_int(any_, 0) == 0;
    sqlite3_reset(any_);  // ends the read transaction: checkpoints are not held back
    return empty;
  }

  std::int64_t progress() override {
    sqlite3_reset(first_);
    const std::int64_t id =
        sqlite3_step(first_) == SQLITE_ROW ? sqlite3_column_int64(first_, 0) : -1;
    sqlite3_reset(first_);
    return id;
  }

  std::int64_t bytes() override { return file_size(path_) + file_size(path_ + "-wal"); }
  int server_pid() override { return 0; }

 private:
  static std::int64_t file_size(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* any_ = nullptr;
  sqlite3_stmt* first_ = nullptr;
};

}  // namespace

std::unique_ptr<Watch> watch_redis(const std::string& host, int port, int db,
                                   std::vector<std::string> queues) {
  return std::make_unique<RedisWatch>(host, port, db, std::move(queues));
}

std::unique_ptr<Watch> watch_sqlite(const std::string& path, const std::string& table) {
  return std::make_unique<SqliteWatch>(path, table);
}

std::unique_ptr<Watch> open_watch(const std::string& url, const std::string& table,
                                  std::vector<std::string> queues) {
  constexpr std::string_view kRedis = "redis://", kSqlite = "sqlite://";
  if (url.rfind(kSqlite, 0) == 0) return watch_sqlite(url.substr(kSqlite.size()), table);
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0)
    return watch_postgres(url, table);
  if (url.rfind(kRedis, 0) != 0) throw std::runtime_error("watch: unsupported store URL " + url);
  // redis://host:port/db
  std::string rest = url.substr(kRedis.size());
  int db = 0;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    db = std::stoi(rest.substr(slash + 1));
    rest.resize(slash);
  }
  int port = 6379;
  if (auto colon = rest.find(':'); colon != std::string::npos) {
    port = std::stoi(rest.substr(colon + 1));
    rest.resize(colon);
  }
  return watch_redis(rest, port, db, std::move(queues));
}

}  // namespace bench
