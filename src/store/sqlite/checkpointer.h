// The SQLite store's checkpoints, off the writers' path.
//
// In WAL mode every commit appends to the -wal file, and a checkpoint copies
// those pages back into the database file (and syncs both). SQLite's default
// runs that checkpoint inside the commit that pushes the WAL past 1,000
// pages, so one push, claim or ack in a few hundred pays milliseconds for the
// whole batch: the store's enqueue → perform p99 was 4–6 ms at 1,000 jobs/s
// with a p50 of 0.2 ms, and 0.5 ms with checkpoints off.
//
// The Checkpointer takes that work to a thread of its own: each of the
// store's connections gets a WAL hook (sqlite3_wal_hook, which replaces the
// automatic checkpoint) that only notes the WAL's size; past `threshold`
// pages it wakes the thread, which runs a PASSIVE checkpoint on its own
// connection. PASSIVE never blocks a reader or a writer, so commits go on
// while it copies. The thread starts on the first checkpoint due, so a store
// that never writes much (a client, a dashboard) never starts it.
//
// A backstop keeps the WAL bounded if the thread falls behind (a reader
// holding an old snapshot, a starved core): a commit that finds the WAL at
// `threshold * kInlineFactor` pages checkpoints inline, as SQLite would have,
// after waiting for the thread's checkpoint if one is running (two never run
// at once, and a PASSIVE one does not wait: it would be skipped, and under
// writes that never pause the thread is nearly always checkpointing).
#pragma once

#include <thread>

#include "core/mutex.h"
#include "store/sqlite/sqlite_db.h"

namespace errand::sqlite {

class Checkpointer {
 public:
  static constexpr int kDefaultThreshold = 1000;  // SQLite's own autocheckpoint size
  static constexpr int kInlineFactor = 8;

  Checkpointer(Conn::Options options, int threshold);
  ~Checkpointer();  // stops and joins the thread
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// Puts the WAL hook on `conn` (a connection of this store that writes).
  void attach(Conn& conn);

 private:
  static int on_commit(void* self, sqlite3* db, const char* name, int pages);
  /// Wakes the thread (starting it the first time); false if there is no
  /// thread to wake (it could not be started, or the store is closing).
  bool request() EXCLUDES(mu_);
  /// The backstop: a PASSIVE checkpoint on the committing connection, once
  /// the thread's own (if one is running) has ended.
  void inline_checkpoint(sqlite3* db, const char* name) EXCLUDES(checkpoint_mu_);
  void run() EXCLUDES(mu_);

  const Conn::Options options_;
  const int threshold_;

  Mutex mu_;
  CondVar cv_;
  bool due_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  std::thread thread_;   // started (under mu_) by the first request()
  Mutex checkpoint_mu_;  // held while this store's process checkpoints (thread or backstop)
};

}  // namespace errand::sqlite
