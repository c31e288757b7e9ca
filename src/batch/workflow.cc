// Workflow (errand/batch.h): a batch whose members are steps of a DAG. The
// steps without dependencies are pushed by start(); the others are held in
// the batch's meta and pushed by the store step that records the success of
// their last dependency (batch/logic.cc).
#include <algorithm>

#include "batch/join.h"
#include "errand/batch.h"
#include "errand/payload.h"

namespace errand {

Workflow::Workflow(Client client, std::string description, std::string queue)
    : client_(client), batch_(std::move(client), std::move(description), std::move(queue)) {}

Workflow::Step Workflow::step(std::string job_class, Json args, const PushOptions& o) {
  auto known = Registry::global().find(job_class);
  return add(known.get(), job_class, std::move(args), o);
}

Workflow::Step Workflow::add(const JobDescriptor* job, const std::string& job_class, Json args,
                             const PushOptions& o) {
  Json item = client_.build(job, job_class, std::move(args), o);
  item["bid"] = batch_.bid();
  Node n;
  n.job_class = job_class;
  n.queue = item["queue"].get<std::string>();
  if (auto p = item.find("priority"); p != item.end() && p->is_number_integer())
    n.priority = p->get<int>();
  Step s{nodes_.size(), item["jid"].get<std::string>()};
  n.payload_base = payload::dump(item);
  nodes_.push_back(std::move(n));
  jids_.push_back(s.jid);
  return s;
}

namespace {
void add_deps(std::vector<std::size_t>& deps, const std::vector<Workflow::Step>& more) {
  for (const auto& d : more)
    if (std::find(deps.begin(), deps.end(), d.index) == deps.end()) deps.push_back(d.index);
}
}  // namespace

Workflow::Step Workflow::after(Step step, Step dep) {
  if (step.index < nodes_.size()) {
    add_deps(nodes_[step.index].deps, {dep});
    nodes_[step.index].inputs.push_back({{dep.index}, false});
  }
  return step;
}

Workflow::Step Workflow::after_all(Step step, const std::vector<Step>& deps) {
  if (step.index < nodes_.size()) {
    add_deps(nodes_[step.index].deps, deps);
    std::vector<std::size_t> idx;
    for (const auto& d : deps) idx.push_back(d.index);
    nodes_[step.index].inputs.push_back({std::move(idx), true});
  }
  return step;
}

Workflow::Step Workflow::depends_on(Step step, const std::vector<Step>& deps) {
  if (step.index < nodes_.size()) add_deps(nodes_[step.index].deps, deps);
  return step;
}

Workflow::Step Workflow::chain(const std::vector<Step>& steps) {
  for (std::size_t i = 1; i < steps.size(); ++i) after(steps[i], steps[i - 1]);
  return steps.empty() ? Step{} : steps.back();
}

Result<Json> Workflow::graph() const {
  // Every dependency names a step of this workflow, and there is no cycle
  // (Kahn's algorithm: every step is reached from the roots).
  std::vector<std::size_t> indegree(nodes_.size(), 0);
  std::vector<std::vector<std::size_t>> out(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    for (auto d : nodes_[i].deps) {
      if (d >= nodes_.size() || d == i)
        return fail(Errc::invalid_argument, "workflow: step " + jids_[i] +
                                                " depends on a step of another workflow or itself");
      ++indegree[i];
      out[d].push_back(i);
    }
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (indegree[i] == 0) ready.push_back(i);
  std::size_t seen = 0;
  while (!ready.empty()) {
    auto n = ready.back();
    ready.pop_back();
    ++seen;
    for (auto m : out[n])
      if (--indegree[m] == 0) ready.push_back(m);
  }
  if (seen != nodes_.size())
    return fail(Errc::invalid_argument, "workflow: its steps form a cycle");
  Json held = Json::object(), dependants = Json::object();
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.deps.empty()) continue;
    Json inputs = Json::array();
    for (const auto& [idx, as_array] : n.inputs) {
      Json names = Json::array();
      for (auto d : idx) names.push_back(jids_[d]);
      inputs.push_back(Json::array({names, as_array}));
    }
    held[jids_[i]] = {{"queue", n.queue},
                      {"priority", n.priority},
                      {"payload", n.payload_base},
                      {"inputs", std::move(inputs)},
                      {"waiting_on", n.deps.size()}};
    for (auto d : n.deps) dependants[jids_[d]].push_back(jids_[i]);
  }
  return Json{{"held", std::move(held)}, {"dependants", std::move(dependants)}};
}

Result<std::string> Workflow::start() {
  if (started_) return fail(Errc::invalid_argument, "workflow " + bid() + " was started already");
  if (nodes_.empty()) return fail(Errc::invalid_argument, "workflow: no steps");
  if (!batch_.has_batches_or_error()) return batch_.no_batches();
  auto g = graph();
  if (!g) return g.error();
  const double now = to_epoch(client_.now());
  std::vector<PushItem> roots;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (batch_.store_ != client_.queues().store_for(n.queue))
      return fail(Errc::unsupported,
                  "workflow: every step must go to a queue on the store the workflow lives on");
    if (!n.deps.empty()) continue;
    Json doc = Json::parse(n.payload_base);
    doc["enqueued_at"] = now;
    roots.push_back(PushItem{n.queue, jids_[i], payload::dump(doc), 0, n.priority});
  }
  Json init{{"bid", bid()},
            {"description", batch_.description_},
            {"parent", ""},
            {"workflow", true},
            {"callbacks", batch_.callbacks_},
            {"held", (*g)["held"]},
            {"dependants", (*g)["dependants"]}};
  auto st = batch_.store_->batch_update(
      bid(), now, [&](BatchTxn& t) { return batch::add_members(t, init, jids_, roots, now); });
  if (!st) return st.error();
  started_ = true;
  batch_.fresh_ = false;
  return bid();
}

}  // namespace errand
