// Typed jobs: a job is a C++ class with a `perform(...)` member function and
// optional static members that set its options. Register it once with
// ERRAND_JOB:
//
//   struct SendWelcomeEmail {
//     static constexpr errand::JobOptions options{.queue = "mailers", .retry = 5};
//     using discard_on = errand::exceptions<UserDeleted>;   // optional
//     static std::chrono::seconds retry_in(int count) {      // optional backoff
//       return std::chrono::seconds(30 * (count + 1));
//     }
//     void perform(std::int64_t user_id, std::string locale);
//   };
//   ERRAND_JOB(SendWelcomeEmail);           // registered as "SendWelcomeEmail"
//   ERRAND_JOB_NAMED(ChargeJob, "Billing::ChargeJob");   // a Ruby class name
//
// A fresh instance (default-constructed) runs each job. Arguments are JSON:
// integers, doubles, bools, strings, std::vector, std::map, errand::Json, and
// any type with nlohmann `to_json` / `from_json`. Arguments that do not fit
// the signature make the job fail with ArgumentError (sent to the dead set
// without retries: retrying cannot fix them); the worker goes on.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "errand/payload.h"

namespace errand {

/// How many times a failing job is retried. Reads like Sidekiq's option:
/// `.retry = 5`, `.retry = false` (no retry and no dead entry), `.retry = true`
/// or nothing (the server's max_retries, 25 by default), `.retry = 0` (straight
/// to the dead set on the first failure).
struct Retry {
  static constexpr int kDefault = -1;
  static constexpr int kDisabled = -2;
  int count = kDefault;
  constexpr Retry() = default;
  constexpr Retry(int n) : count(n < 0 ? kDefault : n) {}  // NOLINT: implicit by design
  constexpr Retry(bool enabled) : count(enabled ? kDefault : kDisabled) {}  // NOLINT
  constexpr bool enabled() const { return count != kDisabled; }
  constexpr bool is_default() const { return count == kDefault; }
};

/// Unique jobs: while a job with the same unique key is pending (or also
/// running), another push with that key enqueues nothing and returns an
/// empty jid. The lock is released when the job starts (until_executing) or
/// when it succeeds, dies or is dropped (until_executed), and in any case
/// after `unique_for` seconds.
enum class Unique { none, until_executing, until_executed };

/// A job class's options; declare `static constexpr errand::JobOptions options{...}`.
/// Where a job's perform() runs (see docs/isolation.md):
///  - thread:  on a worker thread of the worker process (fastest; a crash
///             takes the worker down, and a job that crashes `max_crashes`
///             workers is quarantined in the dead set);
///  - process: in a pre-forked child process, reused for many jobs; a crash
///             fails that job only, and the child is replaced;
///  - fork:    in a fresh child process per job (Resque's model), for jobs
///             that leak or corrupt global state;
///  - inherit: whatever the queue or the server says.
enum class Isolation { inherit, thread, process, fork };

/// "thread", "process", "fork" (and "inherit") → Isolation; nullopt otherwise.
inline std::optional<Isolation> isolation_from_string(std::string_view s) {
  if (s == "thread") return Isolation::thread;
  if (s == "process") return Isolation::process;
  if (s == "fork") return Isolation::fork;
  if (s == "inherit") return Isolation::inherit;
  return std::nullopt;
}

struct JobOptions {
  std::string_view queue = "default";
  Retry retry{};
  bool dead = true;                ///< false: an exhausted job is dropped, not kept in the dead set
  std::string_view retry_queue{};  ///< retries go to this queue instead of `queue`
  bool redact_args = false;        ///< logs and dashboards show "[REDACTED]" instead of args
  int priority = 0;                ///< higher first within a queue, where the store can order
  int expires_in = 0;              ///< seconds; a job not started by then is dropped (0: never)
  int timeout = 0;                 ///< seconds; an overrunning job is stopped and fails (0: none)
  Unique unique = Unique::none;
  int unique_for = 3600;      ///< seconds the unique lock lasts at most
  int concurrency_limit = 0;  ///< at most this many running at once, cluster-wide (0: none)
  int rate_limit = 0;         ///< at most this many starts per rate_period (0: none)
  int rate_period = 1;        ///< seconds
  Isolation isolation = Isolation::inherit;  ///< where perform() runs
  /// Seconds the job's status and what perform() returned are kept after it
  /// ends (Client::status / result / wait), on stores with status.
  int result_ttl = 86'400;
};

/// A list of exception types, for `using retry_on = ...` and `using discard_on = ...`.
template <class... E>
struct exceptions {};

/// What the job is and may check while perform() runs (see current_job()).
struct JobContext {
  std::string jid;
  std::string job_class;
  std::string queue;
  int retry_count = -1;    ///< -1 on the first run; 0 on the first retry, ...
  double enqueued_at = 0;  ///< when it was last put in its queue (epoch seconds); 0 if unknown
  /// The batch (errand/batch.h) the job belongs to, or, for a batch's
  /// callback job, the batch it reports on; empty otherwise.
  std::string batch_id;
  std::stop_token stop;  ///< requested when the job should give up (shutdown, timeout)

  /// The job's whole payload (Sidekiq's job hash). The worker reads only the
  /// fields it needs from the stored text, so the document is parsed on the
  /// first call (an empty object if the text is not a JSON object). Call it
  /// from the job's own thread (the first call fills a cache), or copy the
  /// result before handing it to other threads.
  const Json& payload() const;
  /// For whoever runs a job: the stored text (which must outlive the
  /// context), or an already parsed document (likewise).
  void set_payload(std::string_view text) {
    text_ = text;
    doc_ = nullptr;
    parsed_.reset();
  }
  void set_payload(const Json* doc) { doc_ = doc; }

  /// Reports how far the job got: `fraction` from 0 to 1 (clamped; NaN is
  /// ignored) and a short message ("resized 42 of 100"). Cheap: the worker
  /// stores at most one report per job per ServerOptions::progress_interval
  /// (250 ms), plus the last one when perform() returns, and Client::status
  /// shows it (JobStatus::progress). May be called from any thread while
  /// perform() runs; does nothing where no sink is set.
  void progress(double fraction, std::string_view message = {}) const;
  /// For whoever runs a job: where progress() reports go.
  using ProgressSink = std::function<void(double fraction, std::string_view message)>;
  void set_progress_sink(ProgressSink sink) { progress_sink_ = std::move(sink); }

 private:
  ProgressSink progress_sink_;
  std::string_view text_;
  const Json* doc_ = nullptr;
  mutable std::optional<Json> parsed_;
};

/// The running job's context. Valid only on a worker thread inside perform();
/// throws std::logic_error elsewhere.
const JobContext& current_job();

/// Thrown (by errand) when a job's arguments do not fit its perform(). Not
/// retried: the job goes to the dead set with this message.
class ArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Throw from perform() to drop the job: no retry, no dead entry, counted as processed.
class Discard : public std::runtime_error {
 public:
  explicit Discard(const std::string& reason = "discarded") : std::runtime_error(reason) {}
};

/// Throw from perform() to run the job again after `delay`, without counting a failure.
class Snooze : public std::runtime_error {
 public:
  explicit Snooze(std::chrono::seconds delay) : std::runtime_error("snoozed"), delay_(delay) {}
  std::chrono::seconds delay() const { return delay_; }

 private:
  std::chrono::seconds delay_;
};

/// What to do with a job whose perform() threw.
enum class ErrorAction { retry, discard, dead };

/// A registered job class, type-erased. Built by register_job<T>().
struct JobDescriptor {
  std::string name;
  const std::type_info* type = nullptr;  ///< the C++ class, if registered from C++
  std::string queue = "default";
  Retry retry{};
  bool dead = true;
  std::string retry_queue;
  bool redact_args = false;
  int priority = 0;
  int expires_in = 0;
  int timeout = 0;
  Unique unique = Unique::none;
  int unique_for = 3600;
  int concurrency_limit = 0;
  int rate_limit = 0;
  int rate_period = 1;
  Isolation isolation = Isolation::inherit;
  int result_ttl = 86'400;
  /// The unique key for `args`; empty function: class name + args.
  std::function<std::string(const Json& args)> unique_key;
  /// The limit key for `args` (jobs sharing it share the limits); empty: the class name.
  std::function<std::string(const Json& args)> limit_key;
  /// Runs a new instance with `args` (a JSON array) and returns what
  /// perform() returned as JSON (null for a void perform). Throws
  /// ArgumentError for arguments that do not fit, and whatever perform()
  /// throws.
  std::function<Json(const Json& args)> perform;
  /// Custom backoff for retry number `count`; empty → Sidekiq's formula.
  std::function<std::optional<std::chrono::seconds>(int count)> retry_in;
  /// Classifies a thrown exception by the class's retry_on / discard_on lists.
  std::function<ErrorAction(std::exception_ptr)> classify;
  /// Where it was registered: the shared object or executable and the file
  /// (filled by ERRAND_JOB); named when two registrations clash.
  std::string source;
  /// Registered with ERRAND_JOB_OVERRIDE: replaces a plain registration of the
  /// same name instead of clashing with it.
  bool override_existing = false;
};

/// Where an ERRAND_JOB registration is written (filled by the macro).
struct JobSite {
  const void* address = nullptr;  ///< an object of the registering TU (dladdr names its library)
  const char* unit = nullptr;     ///< the translation unit (__BASE_FILE__)
  const char* file = nullptr;     ///< the file of the macro (__FILE__), a header if written there
  int line = 0;
  bool override_existing = false;  ///< ERRAND_JOB_OVERRIDE
};

/// The job classes a worker can run. Thread-safe.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  /// The process-wide registry that ERRAND_JOB fills.
  static Registry& global();
  /// Adds the class registered under `d.name`. A second registration of a
  /// name is a clash, recorded for check() (the first one stays), unless
  /// exactly one of the two has `override_existing`: that one wins, in
  /// whichever order they came.
  void add(JobDescriptor d);
  /// Ok, or an error naming every clash and both of its sources. A worker
  /// refuses to start on it: it would run the wrong class's code.
  Status check() const;
  /// The class registered under `name`, or nullptr. The pointer stays valid
  /// until the class is replaced.
  std::shared_ptr<const JobDescriptor> find(std::string_view name) const;
  std::vector<std::string> names() const;
  /// The name the C++ class `type` was registered under, or "" if it was not.
  std::string name_of(const std::type_info& type) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

namespace detail {

std::string describe_json_type(const Json& j);
[[noreturn]] void throw_argument_mismatch(std::string_view job, std::size_t index,
                                          std::string_view expected, const Json& got);

template <class M>
struct perform_traits;
template <class C, class R, class... A>
struct perform_traits<R (C::*)(A...)> {
  using args = std::tuple<std::remove_cvref_t<A>...>;
};
template <class C, class R, class... A>
struct perform_traits<R (C::*)(A...) const> {
  using args = std::tuple<std::remove_cvref_t<A>...>;
};
template <class C, class R, class... A>
struct perform_traits<R (C::*)(A...) noexcept> {
  using args = std::tuple<std::remove_cvref_t<A>...>;
};
template <class C, class R, class... A>
struct perform_traits<R (C::*)(A...) const noexcept> {
  using args = std::tuple<std::remove_cvref_t<A>...>;
};

template <class J>
using perform_args_t = typename perform_traits<decltype(&J::perform)>::args;

template <class T>
T convert_arg(std::string_view job, std::size_t i, const Json& j) {
  if constexpr (std::is_same_v<T, Json>) {
    return j;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) throw_argument_mismatch(job, i, "boolean", j);
    return j.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) throw_argument_mismatch(job, i, "integer", j);
    if (j.is_number_unsigned()) {
      auto v = j.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        throw_argument_mismatch(job, i, "integer in range", j);
      return static_cast<T>(v);
    }
    auto v = j.get<std::int64_t>();
    if (std::cmp_less(v, std::numeric_limits<T>::min()) ||
        std::cmp_greater(v, std::numeric_limits<T>::max()))
      throw_argument_mismatch(job, i, "integer in range", j);
    return static_cast<T>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) throw_argument_mismatch(job, i, "number", j);
    return j.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) throw_argument_mismatch(job, i, "string", j);
    return j.get<std::string>();
  } else {
    try {
      return j.get<T>();
    } catch (const Json::exception& e) {
      throw ArgumentError(std::string(job) + ": argument " + std::to_string(i + 1) +
                          " does not convert: " + e.what());
    }
  }
}

template <class J, class Tuple, std::size_t... I>
Json invoke_perform(std::string_view name, const Json& args, std::index_sequence<I...>) {
  constexpr std::size_t n = sizeof...(I);
  if (!args.is_array())
    throw ArgumentError(std::string(name) + ": args must be a JSON array, got " +
                        describe_json_type(args));
  if (args.size() != n)
    throw ArgumentError(std::string(name) + "#perform takes " + std::to_string(n) + " argument" +
                        (n == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
  // Convert every argument before constructing the job, so a bad argument
  // never half-runs anything.
  Tuple converted{convert_arg<std::tuple_element_t<I, Tuple>>(name, I, args[I])...};
  J job{};
  using R = decltype(job.perform(std::move(std::get<I>(converted))...));
  if constexpr (std::is_void_v<R>) {
    job.perform(std::move(std::get<I>(converted))...);
    return Json(nullptr);
  } else {
    return Json(job.perform(std::move(std::get<I>(converted))...));
  }
}

template <class L>
struct exception_matcher;
template <class... E>
struct exception_matcher<exceptions<E...>> {
  // True if `ep` holds one of E... (or a type derived from one).
  static bool matches(std::exception_ptr ep) {
    if constexpr (sizeof...(E) == 0) {
      return false;
    } else {
      return (try_one<E>(ep) || ...);
    }
  }
  template <class X>
  static bool try_one(std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const X&) {
      return true;
    } catch (...) {
      return false;
    }
  }
};

template <class J>
constexpr JobOptions options_of() {
  if constexpr (requires { J::options; }) {
    return J::options;
  } else {
    return JobOptions{};
  }
}

}  // namespace detail

/// Concept: what ERRAND_JOB accepts.
template <class J>
concept JobClass = std::default_initializable<J> && requires {
  &J::perform;
};

/// Builds the descriptor of job class J registered under `name`.
template <JobClass J>
JobDescriptor describe_job(std::string name) {
  constexpr JobOptions o = detail::options_of<J>();
  JobDescriptor d;
  d.name = std::move(name);
  d.type = &typeid(J);
  d.queue = std::string(o.queue);
  d.retry = o.retry;
  d.dead = o.dead;
  d.retry_queue = std::string(o.retry_queue);
  d.redact_args = o.redact_args;
  d.priority = o.priority;
  d.expires_in = o.expires_in;
  d.timeout = o.timeout;
  d.unique = o.unique;
  d.unique_for = o.unique_for;
  d.concurrency_limit = o.concurrency_limit;
  d.rate_limit = o.rate_limit;
  d.rate_period = o.rate_period < 1 ? 1 : o.rate_period;
  d.isolation = o.isolation;
  d.result_ttl = o.result_ttl < 1 ? 1 : o.result_ttl;
  if constexpr (requires(const Json& a) {
                  { J::unique_key(a) } -> std::convertible_to<std::string>;
                }) {
    d.unique_key = [](const Json& a) { return std::string(J::unique_key(a)); };
  }
  if constexpr (requires(const Json& a) {
                  { J::limit_key(a) } -> std::convertible_to<std::string>;
                }) {
    d.limit_key = [](const Json& a) { return std::string(J::limit_key(a)); };
  }
  using Args = detail::perform_args_t<J>;
  d.perform = [n = d.name](const Json& args) {
    return detail::invoke_perform<J, Args>(n, args,
                                           std::make_index_sequence<std::tuple_size_v<Args>>{});
  };
  if constexpr (requires(int c) { J::retry_in(c); }) {
    d.retry_in = [](int count) -> std::optional<std::chrono::seconds> {
      return std::chrono::duration_cast<std::chrono::seconds>(J::retry_in(count));
    };
  }
  d.classify = [](std::exception_ptr ep) {
    if constexpr (requires { typename J::discard_on; }) {
      if (detail::exception_matcher<typename J::discard_on>::matches(ep))
        return ErrorAction::discard;
    }
    if constexpr (requires { typename J::retry_on; }) {
      // With a retry_on list, only those exceptions are retried; others go
      // straight to the dead set (ActiveJob's retry_on semantics).
      if (!detail::exception_matcher<typename J::retry_on>::matches(ep)) return ErrorAction::dead;
    }
    return ErrorAction::retry;
  };
  return d;
}

/// Registers job class J in the global registry under `name`. Returns true
/// (so it can initialise a static).
namespace detail {
/// "the library or executable (file:line)" for a registration site.
std::string describe_site(const JobSite& site);
}  // namespace detail

/// Registers job class J in the global registry under `name`. Returns true
/// (so it can initialise a static). See Registry::add for clashes.
template <JobClass J>
bool register_job(std::string name, const JobSite& site = {}) {
  JobDescriptor d = describe_job<J>(std::move(name));
  d.source = detail::describe_site(site);
  d.override_existing = site.override_existing;
  Registry::global().add(std::move(d));
  return true;
}

/// The first arguments of J::perform, converted like make_args: for a
/// workflow step whose last arguments are its dependencies' results.
template <JobClass J, class... A>
Json make_leading_args(A&&... args) {
  using Params = detail::perform_args_t<J>;
  static_assert(std::tuple_size_v<Params> >= sizeof...(A),
                "too many arguments for this job's perform()");
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    static_assert((std::is_constructible_v<std::tuple_element_t<I, Params>, A&&> && ...),
                  "an argument does not convert to the matching perform() parameter type");
    Json out = Json::array();
    (out.push_back(Json(std::tuple_element_t<I, Params>(std::forward<A>(args)))), ...);
    return out;
  }
  (std::make_index_sequence<sizeof...(A)>{});
}

/// The JSON args array for calling J::perform with `args`, converted through
/// perform's parameter types. Fails to compile if the arguments do not fit.
template <JobClass J, class... A>
Json make_args(A&&... args) {
  static_assert(std::tuple_size_v<detail::perform_args_t<J>> == sizeof...(A),
                "wrong number of arguments for this job's perform()");
  return make_leading_args<J>(std::forward<A>(args)...);
}

}  // namespace errand

#define ERRAND_DETAIL_CAT2(a, b) a##b
#define ERRAND_DETAIL_CAT(a, b) ERRAND_DETAIL_CAT2(a, b)

#if defined(__BASE_FILE__)
#define ERRAND_DETAIL_UNIT __BASE_FILE__
#else
#define ERRAND_DETAIL_UNIT __FILE__
#endif
#define ERRAND_DETAIL_REGISTER(T, NAME, OVERRIDE, VAR)                \
  [[maybe_unused]] static const bool VAR = ::errand::register_job<T>( \
      NAME, ::errand::JobSite{&VAR, ERRAND_DETAIL_UNIT, __FILE__, __LINE__, OVERRIDE})

/// Registers job class T under its own name (as spelled). Write it in one .cc
/// file of the library (not in a header): a name registered twice, from two
/// libraries or two files, stops the worker with an error naming both.
#define ERRAND_JOB(T) ERRAND_JOB_NAMED(T, #T)
/// Registers job class T under NAME, e.g. a Ruby class name "Billing::ChargeJob".
#define ERRAND_JOB_NAMED(T, NAME) \
  ERRAND_DETAIL_REGISTER(T, NAME, false, ERRAND_DETAIL_CAT(errand_job_registered_, __COUNTER__))
/// Registers T under its own name on purpose over another registration of that
/// name (e.g. a library's class of the same name): this one runs.
#define ERRAND_JOB_OVERRIDE(T) ERRAND_JOB_OVERRIDE_NAMED(T, #T)
#define ERRAND_JOB_OVERRIDE_NAMED(T, NAME) \
  ERRAND_DETAIL_REGISTER(T, NAME, true, ERRAND_DETAIL_CAT(errand_job_registered_, __COUNTER__))
