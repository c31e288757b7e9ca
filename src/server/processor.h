// A processor: one worker thread running one claimed job at a time through
//   decode → admit → run → settle
// decode reads the payload into a JobView (job_view.h); admit checks expiry
// and the rate and concurrency limits (flow_control.h); run calls perform()
// and classifies what it threw (executor.h); settle stores the outcome
// (settle.h). Each step returns; nothing but settle touches the store's job
// state. With isolation process or fork, run hands the job to a child
// process (child.h) and the rest stays here.
#pragma once

#include <memory>
#include <thread>

#include "server/child.h"
#include "server/fetcher.h"
#include "server/flow_control.h"
#include "server/job_view.h"
#include "server/outcome.h"
#include "server/progress.h"
#include "server/runtime.h"

namespace errand {

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
  /// Expiry, then the limits. Returns the outcome when the job must not run
  /// now; otherwise the limit slots it holds are in `held`.
  std::optional<Outcome> admit(Work& w, DecodedJob& job, const JobDescriptor* desc, double started,
                               flow::HeldSlots& held);
  /// Where this job runs: its class's isolation, else its queue's, else the server's.
  Isolation isolation_for(const Work& w, const JobDescriptor* desc) const;
  /// Runs the admitted job on this thread or in a child process.
  Outcome run(Work& w, DecodedJob& job, const JobDescriptor* desc, Isolation mode,
              std::stop_token stop, double started, ProgressThrottle& progress);
  /// Tells the heartbeat which child this processor has now.
  void publish_child();
  /// Runs it in this processor's child (process) or a fresh one (fork).
  Outcome run_in_child(Work& w, const JobDescriptor& desc, Isolation mode, std::stop_token stop,
                       ProgressThrottle& progress);
  /// What a child process runs jobs with.
  ChildRunner runner() const;

  Runtime& rt_;
  Fetcher& fetcher_;
  std::shared_ptr<Slot> slot_;
  std::unique_ptr<Child> child_;  // used by this processor's thread only
  std::thread thread_;
};

}  // namespace errand
