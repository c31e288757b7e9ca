#include <cxxabi.h>
#include <dlfcn.h>

#include <map>
#include <typeindex>

#include "core/job_context.h"
#include "core/mutex.h"
#include "errand/client.h"
#include "errand/cron.h"
#include "errand/job.h"
#include "errand/payload_limits.h"

namespace errand {

struct Registry::Impl {
  mutable SharedMutex mu;
  std::map<std::string, std::shared_ptr<const JobDescriptor>, std::less<>> jobs GUARDED_BY(mu);
  // C++ class -> registered name.
  std::map<std::type_index, std::string> names_by_type GUARDED_BY(mu);
  // One line per clash: the name and both sources.
  std::vector<std::string> clashes GUARDED_BY(mu);
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Registry& Registry::global() {
  // Never destroyed: job libraries may register from static initialisers and
  // worker threads may look classes up during exit.
  static Registry* r = new Registry();
  return *r;
}

namespace {

std::string shown_source(const std::string& source) {
  return source.empty() ? "an unnamed registration (Registry::add)" : source;
}

}  // namespace

void Registry::add(JobDescriptor d) {
  WriterLock lock(impl_->mu);
  auto it = impl_->jobs.find(d.name);
  if (it != impl_->jobs.end()) {
    const JobDescriptor& old = *it->second;
    if (old.override_existing == d.override_existing) {
      impl_->clashes.push_back("job class '" + d.name + "' is registered twice: by " +
                               shown_source(old.source) + " and by " + shown_source(d.source));
      return;  // the first stays; check() fails
    }
    if (old.override_existing) return;  // the override registered first wins
  }
  if (d.type) impl_->names_by_type[std::type_index(*d.type)] = d.name;
  auto name = d.name;
  impl_->jobs[name] = std::make_shared<const JobDescriptor>(std::move(d));
}

Status Registry::check() const {
  ReaderLock lock(impl_->mu);
  if (impl_->clashes.empty()) return {};
  std::string message;
  for (const auto& clash : impl_->clashes) message += (message.empty() ? "" : "; ") + clash;
  return fail(Errc::invalid_argument,
              message +
                  " (register each name once, in one .cc file; ERRAND_JOB_OVERRIDE replaces "
                  "another registration on purpose)");
}

// Where a cron entry goes: its own queue, else its class's, else "default".
std::string cron_queue(const CronEntry& entry, const Registry* registry) {
  if (!entry.queue.empty()) return entry.queue;
  if (registry)
    if (auto d = registry->find(entry.job_class)) return d->queue;
  return "default";
}

namespace detail {

std::string describe_site(const JobSite& site) {
  std::string out;
  Dl_info info{};
  if (site.address && ::dladdr(site.address, &info) != 0 && info.dli_fname && *info.dli_fname)
    out = info.dli_fname;
  std::string where;
  if (site.file) where = std::string(site.file) + ":" + std::to_string(site.line);
  if (site.unit && site.file && std::string_view(site.unit) != site.file)
    where = std::string(site.unit) + ", ERRAND_JOB at " + where;
  if (where.empty()) return out;
  return out.empty() ? where : out + " (" + where + ")";
}

}  // namespace detail

std::shared_ptr<const JobDescriptor> Registry::find(std::string_view name) const {
  ReaderLock lock(impl_->mu);
  auto it = impl_->jobs.find(name);
  return it == impl_->jobs.end() ? nullptr : it->second;
}

std::vector<std::string> Registry::names() const {
  ReaderLock lock(impl_->mu);
  std::vector<std::string> out;
  out.reserve(impl_->jobs.size());
  for (auto& [name, d] : impl_->jobs) out.push_back(name);
  return out;
}

std::string Registry::name_of(const std::type_info& type) const {
  ReaderLock lock(impl_->mu);
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
    auto doc = payload::parse(text_);  // within the payload limits, or an empty object
    parsed_ = doc && doc->is_object() ? std::move(doc).value() : Json::object();
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
