// Which registered class a payload names and with which arguments, including
// ActiveJob jobs enqueued through Rails' Sidekiq adapter (the `wrapped` job).
#pragma once

#include <string>

#include "errand/payload.h"
#include "errand/status.h"

namespace errand {

/// True for the class names of ActiveJob's Sidekiq wrappers.
bool is_active_job_wrapper(const std::string& cls);

struct Invocation {
  std::string job_class;  ///< the name to look up in the registry
  Json args;              ///< the JSON array passed to perform()
  bool active_job = false;
};

/// Resolves `doc` (already checked by payload::parse_for_work; args nested
/// past payload::limits().max_depth are refused as corrupt). ActiveJob
/// wrappers (`ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper`,
/// `Sidekiq::ActiveJob::Wrapper`) resolve to `args[0].job_class` with
/// `args[0].arguments` decoded from ActiveJob's serialization.
Result<Invocation> resolve_invocation(const Json& doc);

/// Decodes one ActiveJob-serialized argument: drops the `_aj_symbol_keys`,
/// `_aj_ruby2_keywords` and `_aj_hash_with_indifferent_access` markers,
/// turns `{"_aj_globalid": gid}` into the gid string and
/// `{"_aj_serialized": ..., "value": v}` into v. Recurses once per level of
/// `arg`: callers bound its depth first (resolve_invocation does).
Json decode_active_job_argument(const Json& arg);

}  // namespace errand
