// The aggregate enqueue stage (async-job's double buffer): pushes append to
// an in-memory buffer and return at once; a background thread swaps the
// buffer out and writes it to the store in batches (one pipelined or
// multi-row write per batch).
//
//   auto store = errand::open_store("redis://127.0.0.1:6379/0").value();
//   auto staged = errand::make_aggregate(store);            // a Store too
//   errand::QueueMap queues(staged);                         // every queue staged
//   errand::Client client(queues);
//   client.perform_async<Ping>(1);    // returns after a memory append
//   staged->flush();                  // everything pushed so far is now in redis
//
// TRADE-OFF: a job is only durable once its batch is written. Jobs still in
// the buffer when the process dies (SIGKILL, crash, power loss) are LOST.
// Use it for jobs you can afford to lose, or call flush() where you need a
// guarantee (e.g. before answering the request that enqueued them). The
// destructor flushes, so a normal exit loses nothing.
//
// Memory is bounded: when `max_buffered` jobs are waiting, push() blocks
// (back-pressure) until the writer catches up or `push_timeout` passes, then
// fails with Errc::busy. A failed batch write is retried with backoff; the
// jobs stay buffered meanwhile (counting against max_buffered).
//
// Every other Store method goes straight to the wrapped store.
//
// Thread safety: all methods may be called from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "errand/store.h"

namespace errand {

struct AggregateOptions {
  std::size_t max_buffered = 100'000;              ///< jobs held before push() blocks
  std::size_t max_batch = 1'000;                   ///< jobs per store write
  std::chrono::milliseconds flush_interval{5};     ///< how long a lone job may wait
  std::chrono::milliseconds push_timeout{10'000};  ///< back-pressure wait before Errc::busy
};

struct AggregateStats {
  std::uint64_t pushed = 0;    ///< jobs accepted into the buffer
  std::uint64_t written = 0;   ///< jobs written to the store
  std::uint64_t batches = 0;   ///< store writes
  std::uint64_t failures = 0;  ///< failed store writes (retried)
  std::size_t buffered = 0;    ///< jobs waiting now
};

class AggregateStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  /// Blocks until every job accepted before the call is written to the
  /// store, or `timeout` passes (then Errc::unavailable with the last error).
  virtual Status flush(std::chrono::milliseconds timeout = std::chrono::seconds(30)) = 0;
  virtual AggregateStats aggregate_stats() const = 0;
};

/// Wraps `store` in an aggregate stage with its own writer thread.
std::shared_ptr<AggregateStore> make_aggregate(std::shared_ptr<Store> store,
                                               AggregateOptions options = {});

}  // namespace errand
