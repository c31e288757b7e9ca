#include "core/envelope.h"

#include <simdjson.h>

#include <algorithm>

#include "core/invocation.h"
#include "errand/payload_limits.h"

namespace errand {

namespace {

bool is_full_parse_key(std::string_view key) {
  return key == "wrapped" || key == "display_class" || key == "expires_at" || key == "unique_key" ||
         key == "unique_until" || key == "errand_crashes" || key == "bid" || key == "cb_bid";
}

/// A simdjson DOM value as an nlohmann Json (for the args only).
Json to_json(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      Json out = Json::array();
      const simdjson::dom::array array = e.get_array().value_unsafe();
      for (auto v : array) out.push_back(to_json(v));
      return out;
    }
    case element_type::OBJECT: {
      Json out = Json::object();
      const simdjson::dom::object object = e.get_object().value_unsafe();
      for (auto field : object) out[std::string(field.key)] = to_json(field.value);
      return out;
    }
    case element_type::STRING:
      return Json(std::string(e.get_string().value_unsafe()));
    case element_type::INT64:
      return Json(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return Json(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return Json(e.get_double().value_unsafe());
    case element_type::BOOL:
      return Json(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return Json(nullptr);
  }
  return Json(nullptr);
}

}  // namespace

std::optional<Envelope> read_envelope(std::string_view text) {
  // simdjson's DOM parser picks the fastest kernel for this CPU at run time.
  // It reads a little past the end of its input: parse from a padded copy.
  // The parser and the copy are reused by this thread.
  // The limits (payload::Limits) are enforced before anything walks the
  // document: an oversized text is not even copied, and simdjson's own depth
  // check (its stage 2 is iterative) refuses anything nested deeper than
  // max_depth, so to_json's recursion is bounded by it. Either way the full
  // parse then reports the limit by name.
  const payload::Limits limits = payload::limits();
  if (text.size() > limits.max_bytes) return std::nullopt;
  thread_local simdjson::dom::parser parser;
  thread_local std::string buffer;
  if (parser.max_depth() != limits.max_depth &&
      parser.allocate(std::max(parser.capacity(), text.size()), limits.max_depth))
    return std::nullopt;
  buffer.assign(text);
  buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);

  simdjson::dom::element root;
  if (parser.parse(buffer.data(), text.size(), /*realloc_if_needed=*/false).get(root))
    return std::nullopt;
  simdjson::dom::object object;
  if (root.get_object().get(object)) return std::nullopt;
  Envelope env;
  bool has_class = false, has_jid = false, has_args = false;
  for (auto field : object) {
    const std::string_view key = field.key;
    if (is_full_parse_key(key)) return std::nullopt;
    const simdjson::dom::element value = field.value;
    if (key == "class") {
      std::string_view s;
      if (value.get_string().get(s) || s.empty()) return std::nullopt;
      env.job_class.assign(s);
      has_class = true;
    } else if (key == "jid") {
      std::string_view s;
      if (value.get_string().get(s)) return std::nullopt;
      env.jid.assign(s);
      has_jid = true;
    } else if (key == "args") {
      if (!value.is_array()) return std::nullopt;
      env.args = to_json(value);
      has_args = true;
    } else if (key == "retry_count") {
      std::int64_t n = 0;
      if (value.get_int64().get(n) || n < -1 || n > 1'000'000) return std::nullopt;
      env.retry_count = static_cast<int>(n);
    } else if (key == "enqueued_at") {
      double t = 0;
      if (value.get_double().get(t)) return std::nullopt;  // an integer: leave it to the full parse
      if (t > 1e11) return std::nullopt;                   // Sidekiq 8's milliseconds, likewise
      env.enqueued_at = t;
    }
  }
  if (!has_class || !has_jid || !has_args) return std::nullopt;
  if (is_active_job_wrapper(env.job_class)) return std::nullopt;
  return env;
}

}  // namespace errand
