#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>

#include <utility>

namespace errand::sqlite {

Checkpointer::Checkpointer(Conn::Options options, int threshold)
    : options_(std::move(options)), threshold_(threshold) {}

Checkpointer::~Checkpointer() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::attach(Conn& conn) { sqlite3_wal_hook(conn.handle(), &on_commit, this); }

// Called by SQLite after every commit on an attached connection, with the
// WAL's size in pages; the connection is still the caller's, so the hook only
// wakes the thread, except at the backstop size.
int Checkpointer::on_commit(void* arg, sqlite3* db, const char* name, int pages) {
  auto* self = static_cast<Checkpointer*>(arg);
  if (pages < self->threshold_) return SQLITE_OK;
  if (pages >= self->threshold_ * kInlineFactor) {
    // The thread is far behind: bound the WAL here, as SQLite's automatic
    // checkpoint would (PASSIVE: it waits for no reader or writer).
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  self->request();
  return SQLITE_OK;
}

void Checkpointer::request() {
  MutexLock lock(mu_);
  if (stop_) return;
  due_ = true;
  if (!started_) {
    started_ = true;
    thread_ = std::thread([this] { run(); });
    return;
  }
  cv_.notify_one();
}

void Checkpointer::run() {
  std::unique_ptr<Conn> conn;
  for (;;) {
    {
      MutexLock lock(mu_);
      while (!due_ && !stop_) cv_.wait(lock);
      if (stop_) return;
      due_ = false;
    }
    // A checkpoint that fails (SQLITE_BUSY while another process
    // checkpoints, an I/O error the next commit will also meet) is retried at
    // the next request; nothing is lost by skipping one.
    try {
      if (!conn) conn = Conn::open(options_);
      sqlite3_wal_checkpoint_v2(conn->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    } catch (const Error&) {
      conn.reset();
    }
  }
}

}  // namespace errand::sqlite
