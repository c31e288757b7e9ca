// A processor: one worker thread running one job at a time. This is the one
// place where exceptions thrown by user jobs are caught; each becomes an
// outcome (done, retry, dead, dropped, snoozed) applied to the store.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "server/fetcher.h"
#include "server/runtime.h"

namespace errand {

/// Applies the failure policy to a claimed job: retry, dead or drop, with
/// error and death handlers. `doc` is updated with the failure fields.
void settle_failure(Runtime& rt, Store& store, const Fetched& job, Json& doc,
                    const JobDescriptor* desc, const std::string& error_class,
                    const std::string& error_message, ErrorAction action,
                    const std::function<void(const char*, const std::function<Status()>&)>& apply);

class Processor {
 public:
  Processor(Runtime& rt, Fetcher& fetcher, std::shared_ptr<Slot> slot);
  /// Starts the thread: fetch, run, repeat until the fetcher is quiet.
  void start();
  /// Waits for the thread to end.
  void join();
  bool joinable() const { return thread_.joinable(); }
  void detach() { thread_.detach(); }
  const std::shared_ptr<Slot>& slot() const { return slot_; }

  /// Runs one claimed job to its outcome (public for tests).
  void process(Work& w);

 private:
  void loop();
  /// Applies a store transition, retrying while the store is unreachable
  /// (unless the server is stopping: then the claim stays, and the rescuer
  /// returns the job after this process is gone).
  void apply(const char* what, const std::function<Status()>& op);
  /// stop() or the watchdog settled the current job already: do not touch it.
  bool abandoned() const;
  /// Moves a payload errand cannot run to the dead set, with `why`.
  void park_bad_payload(Work& w, const std::string& why, double started);
  /// Acknowledges a finished job: through the source's Acker (batched, from
  /// its thread), or at once for an in-process store.
  void ack_done(Source& src, Fetched job);

  Runtime& rt_;
  Fetcher& fetcher_;
  std::shared_ptr<Slot> slot_;
  std::thread thread_;
};

}  // namespace errand
