#include "store/sqlite/checkpointer.h"

#include <sqlite3.h>

#include <system_error>
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
  // The thread far behind, or none to be had: bound the WAL here, as
  // SQLite's automatic checkpoint would (PASSIVE: it waits for no reader or
  // writer).
  if (pages >= self->threshold_ * kInlineFactor || !self->request())
    self->inline_checkpoint(db, name);
  return SQLITE_OK;
}

// A checkpoint of the thread's own that is running would make this one
// SQLITE_BUSY at once (two checkpointers never run together; PASSIVE does not
// wait), and under writes that never pause the thread is always running one:
// the WAL would pass the backstop by whatever the writers add meanwhile. So
// the committer waits for the thread's checkpoint to end, then copies what
// is left; with no writer between, that leaves the whole WAL in the file and
// the next commit starts it again from the beginning.
void Checkpointer::inline_checkpoint(sqlite3* db, const char* name) {
  try {  // called from SQLite's C code: nothing may be thrown through it
    MutexLock lock(checkpoint_mu_);
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } catch (const std::system_error&) {  // the mutex could not be taken: skip this one
  }
}

bool Checkpointer::request() {
  MutexLock lock(mu_);
  if (stop_) return false;
  due_ = true;
  if (!started_) {
    // Called from SQLite's C code: nothing may be thrown through it.
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
      return false;  // no thread now; the next request tries again
    }
    started_ = true;
    return true;
  }
  cv_.notify_one();
  return true;
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
      MutexLock lock(checkpoint_mu_);
      sqlite3_wal_checkpoint_v2(conn->handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
    } catch (const std::exception&) {  // errand::Error from Conn::open, or bad_alloc
      conn.reset();
    }
  }
}

}  // namespace errand::sqlite
