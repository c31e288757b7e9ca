// Batches and workflows: groups of jobs that report back as a whole.
//
//   errand::Batch batch(client, "import 2026-12");
//   batch.on_success<NotifyImportDone>(42);        // a job, run once when all succeeded
//   batch.jobs([&](errand::Client& c) {
//     for (int row : rows) c.perform_async<ImportRow>(row);
//   });
//   client.batch_status(batch.bid());              // total, pending, failures, ...
//
//   errand::Workflow wf(client, "thumbnail");
//   auto fetch = wf.step<Fetch>(url);
//   auto resize = wf.after(wf.step<Resize>(256), fetch);   // gets fetch's result
//   wf.start();
//
// Callbacks and released workflow steps are pushed in the same atomic store
// step that records the last member's outcome, and a member's outcome is
// recorded (idempotently) before its job is acknowledged, so each callback
// runs once even when the last jobs finish at once on several processes or
// a worker is killed at the worst moment. See docs/workflows.md.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "errand/client.h"
#include "errand/job.h"

namespace errand {

/// A batch (or workflow) as the store has it.
struct BatchStatus {
  std::string bid;
  std::string description;
  std::string parent;                    ///< the enclosing batch's bid; empty at the top
  bool workflow = false;                 ///< made by Workflow::start
  std::size_t total = 0;                 ///< members: jobs, child batches, workflow steps
  std::size_t pending = 0;               ///< members that have not succeeded
  std::size_t failures = 0;              ///< members that failed and have not succeeded since
  std::size_t dead = 0;                  ///< members that died or were cancelled (or stopped)
  std::vector<std::string> failed_jids;  ///< the members counted in `failures`
  bool complete = false;                 ///< every member ran at least once (on_complete fired)
  bool success = false;                  ///< every member succeeded (on_success fired)
  bool failed = false;     ///< a member died: on_death fired (workflow: dependants stopped)
  bool cancelled = false;  ///< Client::cancel_batch
  double created_at = 0;
};

/// The callbacks a batch can have; each is a job pushed once.
enum class BatchEvent { complete, success, death };

namespace detail {
struct BatchJoin;
}

class Batch {
 public:
  /// A new batch (a fresh bid). It is stored on the store of `queue` (the
  /// store of "default" when empty, else the client's first store); its jobs
  /// must go to queues on that store.
  explicit Batch(Client client, std::string description = {}, std::string queue = {});
  /// Batch `bid` again, to add jobs to it: from inside one of its running
  /// jobs (`errand::current_job().batch_id`), while it cannot complete.
  static Batch reopen(Client client, std::string bid, std::string queue = {});

  const std::string& bid() const { return bid_; }

  /// The job pushed once when every member has run at least once
  /// (succeeded, or failed at least once), with `args`.
  template <JobClass J, class... A>
  Batch& on_complete(A&&... args) {
    return callback(BatchEvent::complete, Client::descriptor_of<J>(),
                    make_args<J>(std::forward<A>(args)...));
  }
  /// The job pushed once when every member has succeeded.
  template <JobClass J, class... A>
  Batch& on_success(A&&... args) {
    return callback(BatchEvent::success, Client::descriptor_of<J>(),
                    make_args<J>(std::forward<A>(args)...));
  }
  /// The job pushed once when the first member dies (retries exhausted,
  /// discarded, expired, or cancelled).
  template <JobClass J, class... A>
  Batch& on_death(A&&... args) {
    return callback(BatchEvent::death, Client::descriptor_of<J>(),
                    make_args<J>(std::forward<A>(args)...));
  }
  /// Untyped callback (a class registered here, or one defined elsewhere,
  /// e.g. in Ruby), with per-push options (queue, priority, retry).
  Batch& callback(BatchEvent event, std::string job_class, Json args, const PushOptions& o = {});

  /// Runs `fn` with a client whose pushes join this batch: every push method
  /// of Client works (perform_async, perform_in, push_bulk, enqueue, ...),
  /// each pushed in one atomic step with its membership. The batch cannot
  /// complete while `fn` runs. The first call stores the batch (its
  /// description and callbacks). Returns the store's error if the batch
  /// could not be opened or closed; check each push's own result in `fn`.
  Status jobs(const std::function<void(Client&)>& fn);

  /// A batch nested in this one: it counts as one member of this batch,
  /// which succeeds only when the child does. Call it (and the child's
  /// jobs()) inside this batch's jobs() or from one of its running jobs.
  Batch child(std::string description = {});

 private:
  Batch(Client client, std::string bid, std::string description, std::string queue, bool fresh);
  Batch& callback(BatchEvent event, const JobDescriptor& job, Json args, const PushOptions& o = {});
  Status open();
  bool has_batches_or_error() const;
  Error no_batches() const;

  Client client_;
  std::string bid_;
  std::string description_;
  std::string parent_;
  Store* store_ = nullptr;
  bool fresh_ = true;  ///< not stored yet
  Json callbacks_ = Json::object();
  std::string open_member_;  ///< the jobs() call in progress
  friend class Workflow;
};

/// A directed acyclic graph of jobs: a step runs when the steps it depends
/// on have succeeded, and may receive their results as its last arguments.
/// A step that dies stops every step that depends on it (the workflow is
/// then failed); Client::cancel_batch stops the steps not yet run.
class Workflow {
 public:
  /// A handle on one step (its jid).
  struct Step {
    std::size_t index = 0;
    std::string jid;
  };

  explicit Workflow(Client client, std::string description = {}, std::string queue = {});

  /// A step running J with `args`: perform()'s leading arguments. Steps given
  /// to after()/after_all() receive the results as the remaining ones.
  template <JobClass J, class... A>
  Step step(A&&... args) {
    const JobDescriptor& d = Client::descriptor_of<J>();
    return add(&d, d.name, make_leading_args<J>(std::forward<A>(args)...));
  }
  /// Untyped step by class name, with per-push options (queue, priority, retry).
  Step step(std::string job_class, Json args, const PushOptions& o = {});

  /// `step` runs after `dep` succeeded and receives its result as one more
  /// argument (a chain link).
  Step after(Step step, Step dep);
  /// `step` runs after every one of `deps` succeeded and receives one more
  /// argument: the array of their results, in the order of `deps` (a chord).
  Step after_all(Step step, const std::vector<Step>& deps);
  /// `step` runs after `deps` succeeded; it receives nothing from them.
  Step depends_on(Step step, const std::vector<Step>& deps);

  /// chain(a, b, c): b after a, c after b; returns the last step.
  Step chain(const std::vector<Step>& steps);
  /// chord(group, callback): callback after_all the group; returns callback.
  Step chord(const std::vector<Step>& group, Step callback) { return after_all(callback, group); }

  /// Callbacks of the workflow's batch (see Batch).
  template <JobClass J, class... A>
  Workflow& on_success(A&&... args) {
    batch_.on_success<J>(std::forward<A>(args)...);
    return *this;
  }
  template <JobClass J, class... A>
  Workflow& on_death(A&&... args) {
    batch_.on_death<J>(std::forward<A>(args)...);
    return *this;
  }
  template <JobClass J, class... A>
  Workflow& on_complete(A&&... args) {
    batch_.on_complete<J>(std::forward<A>(args)...);
    return *this;
  }

  /// Stores the workflow and pushes the steps without dependencies, in one
  /// atomic store step. Returns its bid (for Client::batch_status and
  /// cancel_batch). invalid_argument for a cycle or an unknown step.
  Result<std::string> start();

  const std::string& bid() const { return batch_.bid(); }

 private:
  struct Node {
    std::string job_class;
    std::string queue;
    int priority = 0;
    std::string payload_base;  ///< built payload (JSON) without the result arguments
    std::vector<std::size_t> deps;
    /// How the results of deps are appended: per `after` one argument, per
    /// `after_all` one array. Each entry: the dep indexes and whether an array.
    std::vector<std::pair<std::vector<std::size_t>, bool>> inputs;
  };
  Step add(const JobDescriptor* job, const std::string& job_class, Json args,
           const PushOptions& o = {});
  Result<Json> graph() const;

  Client client_;
  Batch batch_;
  std::vector<Node> nodes_;
  std::vector<std::string> jids_;
  bool started_ = false;
};

}  // namespace errand
