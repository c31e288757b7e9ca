#include "core/invocation.h"

#include "errand/payload_limits.h"

namespace errand {

bool is_active_job_wrapper(const std::string& cls) {
  return cls == "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper" ||
         cls == "Sidekiq::ActiveJob::Wrapper";
}

Json decode_active_job_argument(const Json& arg) {
  if (arg.is_array()) {
    Json out = Json::array();
    for (const auto& a : arg) out.push_back(decode_active_job_argument(a));
    return out;
  }
  if (!arg.is_object()) return arg;
  if (auto gid = arg.find("_aj_globalid"); gid != arg.end()) return *gid;
  if (arg.contains("_aj_serialized")) {
    if (auto v = arg.find("value"); v != arg.end()) return decode_active_job_argument(*v);
  }
  Json out = Json::object();
  for (auto it = arg.begin(); it != arg.end(); ++it) {
    const auto& k = it.key();
    if (k == "_aj_symbol_keys" || k == "_aj_ruby2_keywords" ||
        k == "_aj_hash_with_indifferent_access" || k == "_aj_serialized")
      continue;
    out[k] = decode_active_job_argument(it.value());
  }
  return out;
}

Result<Invocation> resolve_invocation(const Json& doc) {
  Invocation inv;
  const auto& cls = doc.at("class").get_ref<const std::string&>();
  const auto& args = doc.at("args");
  // Copying and decoding recurse once per level: refuse what is nested deeper
  // than the payload limit (a document from payload::parse never is).
  const std::size_t max_depth = payload::limits().max_depth;
  if (payload::depth(args, max_depth) + 1 > max_depth)
    return fail(Errc::corrupt, "payload nests arrays/objects more than " +
                                   std::to_string(max_depth) +
                                   " levels deep, over the payload depth limit (max_depth)");
  if (!is_active_job_wrapper(cls)) {
    inv.job_class = cls;
    inv.args = args;
    return inv;
  }
  inv.active_job = true;
  if (args.empty() || !args[0].is_object())
    return fail(Errc::corrupt, "ActiveJob payload: args[0] must be the serialized job hash");
  const auto& job = args[0];
  auto jc = job.find("job_class");
  if (jc == job.end() || !jc->is_string()) {
    // Fall back to `wrapped`, which the adapter also writes.
    auto w = doc.find("wrapped");
    if (w == doc.end() || !w->is_string())
      return fail(Errc::corrupt, "ActiveJob payload has no job_class");
    inv.job_class = w->get<std::string>();
  } else {
    inv.job_class = jc->get<std::string>();
  }
  auto a = job.find("arguments");
  inv.args = (a != job.end() && a->is_array()) ? decode_active_job_argument(*a) : Json::array();
  return inv;
}

}  // namespace errand
