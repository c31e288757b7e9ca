#include "errand/payload.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace errand::payload {

namespace {
// One generator per thread: no lock on the enqueue path.
std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  return gen;
}
}  // namespace

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
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(Errc::corrupt, "payload is not valid JSON");
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
