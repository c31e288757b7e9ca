#include <cxxabi.h>

#include <map>
#include <mutex>
#include <shared_mutex>
#include <typeindex>

#include "core/job_context.h"
#include "errand/client.h"
#include "errand/job.h"

namespace errand {

struct Registry::Impl {
  mutable std::shared_mutex mu;
  // Guarded by mu.
  std::map<std::string, std::shared_ptr<const JobDescriptor>, std::less<>> jobs;
  // Guarded by mu: C++ class -> registered name.
  std::map<std::type_index, std::string> names_by_type;
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Registry& Registry::global() {
  // Never destroyed: job libraries may register from static initialisers and
  // worker threads may look classes up during exit.
  static Registry* r = new Registry();
  return *r;
}

void Registry::add(JobDescriptor d) {
  std::unique_lock lock(impl_->mu);
  if (d.type) impl_->names_by_type[std::type_index(*d.type)] = d.name;
  auto name = d.name;
  impl_->jobs[name] = std::make_shared<const JobDescriptor>(std::move(d));
}

std::shared_ptr<const JobDescriptor> Registry::find(std::string_view name) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->jobs.find(name);
  return it == impl_->jobs.end() ? nullptr : it->second;
}

std::vector<std::string> Registry::names() const {
  std::shared_lock lock(impl_->mu);
  std::vector<std::string> out;
  out.reserve(impl_->jobs.size());
  for (auto& [name, d] : impl_->jobs) out.push_back(name);
  return out;
}

std::string Registry::name_of(const std::type_info& type) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->names_by_type.find(std::type_index(type));
  return it == impl_->names_by_type.end() ? std::string() : it->second;
}

std::string registered_name_for(const std::type_info& type) {
  auto name = Registry::global().name_of(type);
  if (!name.empty()) return name;
  // Not registered here (a client-only program may push jobs it does not
  // run): use the demangled C++ name, which is what ERRAND_JOB(T) would use.
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = (status == 0 && demangled) ? demangled : type.name();
  std::free(demangled);  // NOLINT: allocated by the C++ ABI with malloc
  return out;
}

namespace {
thread_local const JobContext* current_context = nullptr;
}  // namespace

const JobContext& current_job() {
  if (!current_context) throw std::logic_error("errand::current_job() called outside perform()");
  return *current_context;
}

const Json& JobContext::payload() const {
  if (doc_) return *doc_;
  if (!parsed_) {
    Json doc = Json::parse(text_, nullptr, /*allow_exceptions=*/false);
    parsed_ = doc.is_object() ? std::move(doc) : Json::object();
  }
  return *parsed_;
}

ScopedJobContext::ScopedJobContext(const JobContext& ctx) : previous_(current_context) {
  current_context = &ctx;
}
ScopedJobContext::~ScopedJobContext() { current_context = previous_; }

namespace detail {

std::string describe_json_type(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "float";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "value";
  }
}

void throw_argument_mismatch(std::string_view job, std::size_t index, std::string_view expected,
                             const Json& got) {
  std::string shown = got.dump();
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  throw ArgumentError(std::string(job) + ": argument " + std::to_string(index + 1) + " must be " +
                      (expected.starts_with("integer") ? "an " : "a ") + std::string(expected) +
                      ", got " + describe_json_type(got) + " " + shown);
}

}  // namespace detail
}  // namespace errand
