#include "errand/payload.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "errand/payload_limits.h"

namespace errand::payload {

namespace {
// One generator per thread: no lock on the enqueue path.
std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  return gen;
}
std::atomic<std::size_t> g_max_depth{Limits{}.max_depth};
std::atomic<std::size_t> g_max_bytes{Limits{}.max_bytes};

/// Streams a document to find its top-level "jid" string; stops there.
/// nlohmann's SAX parser keeps its own stack, so depth costs no recursion.
struct JidFinder {
  std::size_t level = 0;
  bool next_is_jid = false;
  std::string jid;

  bool value() {
    next_is_jid = false;
    return true;
  }
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(Json::number_integer_t) { return value(); }
  bool number_unsigned(Json::number_unsigned_t) { return value(); }
  bool number_float(Json::number_float_t, const std::string&) { return value(); }
  bool binary(Json::binary_t&) { return value(); }
  bool string(std::string& s) {
    if (!next_is_jid) return true;
    jid = std::move(s);
    return false;  // found: stop reading
  }
  bool start_object(std::size_t) {
    next_is_jid = false;
    ++level;
    return true;
  }
  bool start_array(std::size_t) { return start_object(0); }
  bool end_object() {
    --level;
    return level > 0;  // the top-level object is done
  }
  bool end_array() { return end_object(); }
  bool key(std::string& k) {
    next_is_jid = level == 1 && k == "jid";
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }
};

}  // namespace

Limits limits() {
  return Limits{g_max_depth.load(std::memory_order_relaxed),
                g_max_bytes.load(std::memory_order_relaxed)};
}

void set_limits(const Limits& l) {
  const Limits defaults;
  std::size_t d = l.max_depth ? l.max_depth : defaults.max_depth;
  g_max_depth.store(std::min(d, kMaxDepthCeiling), std::memory_order_relaxed);
  g_max_bytes.store(l.max_bytes ? l.max_bytes : defaults.max_bytes, std::memory_order_relaxed);
}

Status check_limits(std::string_view text, const Limits& l) {
  if (text.size() > l.max_bytes)
    return fail(Errc::corrupt, "payload is " + std::to_string(text.size()) +
                                   " bytes, over the payload size limit (max_bytes) of " +
                                   std::to_string(l.max_bytes) + " bytes");
  std::size_t level = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const char c = *p++;
    if (c == '"') {
      while (p < end) {
        const char d = *p++;
        if (d == '"') break;
        if (d == '\\' && p < end) ++p;
      }
    } else if (c == '[' || c == '{') {
      if (++level > l.max_depth)
        return fail(Errc::corrupt, "payload nests arrays/objects more than " +
                                       std::to_string(l.max_depth) +
                                       " levels deep, over the payload depth limit (max_depth)");
    } else if ((c == ']' || c == '}') && level > 0) {
      --level;
    }
  }
  return {};
}

Status check_limits(std::string_view text) { return check_limits(text, limits()); }

std::size_t depth(const Json& doc, std::size_t stop_after) {
  std::size_t deepest = 0;
  std::vector<std::pair<const Json*, std::size_t>> todo{{&doc, 0}};
  while (!todo.empty()) {
    auto [node, level] = todo.back();
    todo.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, level + 1);
    if (deepest > stop_after) return deepest;
    for (const auto& child : *node) todo.emplace_back(&child, level + 1);
  }
  return deepest;
}

Result<Json> parse(std::string_view text) {
  if (auto st = check_limits(text); !st) return st.error();
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(Errc::corrupt, "payload is not valid JSON");
  return doc;
}

std::string jid_of(std::string_view text) {
  JidFinder finder;
  (void)Json::sax_parse(text, &finder, Json::input_format_t::json, /*strict=*/false);
  return std::move(finder.jid);
}

std::string dump(const Json& doc) {
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string new_jid() {
  static constexpr std::array<char, 16> hex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                               '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out(24, '0');
  auto& g = rng();
  std::uint64_t a = g();
  std::uint64_t b = g();
  for (int i = 0; i < 16; ++i) out[static_cast<std::size_t>(i)] = hex[(a >> (4 * i)) & 0xf];
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(16 + i)] = hex[(b >> (4 * i)) & 0xf];
  return out;
}

std::optional<double> timestamp(const Json& v) {
  if (v.is_number_integer()) {
    // Sidekiq 8 writes integer epoch milliseconds; 10^11 s is the year 5138.
    double d = v.is_number_unsigned() ? static_cast<double>(v.get<std::uint64_t>())
                                      : static_cast<double>(v.get<std::int64_t>());
    return d > 1e11 ? d / 1000.0 : d;
  }
  if (v.is_number()) return v.get<double>();
  return std::nullopt;
}

std::optional<double> timestamp(const Json& doc, std::string_view key) {
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find(key);
  if (it == doc.end()) return std::nullopt;
  return timestamp(*it);
}

Status validate(const Json& doc) {
  if (!doc.is_object()) return fail(Errc::invalid_argument, "job must be a JSON object");
  auto cls = doc.find("class");
  if (cls == doc.end() || !cls->is_string() || cls->get_ref<const std::string&>().empty())
    return fail(Errc::invalid_argument, "job must have a non-empty string 'class'");
  auto args = doc.find("args");
  if (args == doc.end() || !args->is_array())
    return fail(Errc::invalid_argument, "job 'args' must be an array");
  auto q = doc.find("queue");
  if (q != doc.end() && (!q->is_string() || q->get_ref<const std::string&>().empty()))
    return fail(Errc::invalid_argument, "job 'queue' must be a non-empty string");
  auto at = doc.find("at");
  if (at != doc.end() && !at->is_number())
    return fail(Errc::invalid_argument, "job 'at' must be a number (epoch seconds)");
  auto tags = doc.find("tags");
  if (tags != doc.end() && !tags->is_array())
    return fail(Errc::invalid_argument, "job 'tags' must be an array");
  auto jid = doc.find("jid");
  if (jid != doc.end() && !jid->is_string())
    return fail(Errc::invalid_argument, "job 'jid' must be a string");
  return {};
}

Result<Json> parse_for_work(std::string_view text) {
  auto parsed = parse(text);
  if (!parsed) return parsed.error();
  Json doc = std::move(parsed).value();
  if (!doc.is_object()) return fail(Errc::corrupt, "payload is not a JSON object");
  auto cls = doc.find("class");
  if (cls == doc.end() || !cls->is_string() || cls->get_ref<const std::string&>().empty())
    return fail(Errc::corrupt, "payload has no 'class' string");
  auto args = doc.find("args");
  if (args == doc.end() || !args->is_array())
    return fail(Errc::corrupt, "payload 'args' is missing or not an array");
  auto jid = doc.find("jid");
  if (jid == doc.end() || !jid->is_string())
    return fail(Errc::corrupt, "payload has no 'jid' string");
  return doc;
}

std::string display_class(const Json& doc) {
  if (!doc.is_object()) return "";
  for (const char* key : {"wrapped", "display_class", "class"}) {
    auto it = doc.find(key);
    if (it != doc.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

RetryField retry_field(const Json& doc) {
  RetryField f;
  if (!doc.is_object()) return f;
  auto it = doc.find("retry");
  if (it == doc.end() || it->is_null()) return f;
  f.present = true;
  if (it->is_boolean()) {
    f.enabled = it->get<bool>();
  } else if (it->is_number_integer()) {
    f.enabled = true;  // 0 is truthy in Ruby: straight to the dead set
    f.count = static_cast<int>(std::clamp<std::int64_t>(it->get<std::int64_t>(), 0, 1'000'000));
  } else {
    f.enabled = true;  // any other truthy value (e.g. 5.0) means the default count
  }
  return f;
}

}  // namespace errand::payload
