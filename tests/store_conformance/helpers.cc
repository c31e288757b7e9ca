#include "store_conformance/helpers.h"

#include <nlohmann/json.hpp>

namespace errand::testing {
namespace {
std::string jid_of(const std::string& payload) {
  auto doc = nlohmann::json::parse(payload, nullptr, false);
  if (!doc.is_object() || !doc.contains("jid")) return "<bad:" + payload + ">";
  return doc["jid"].get<std::string>();
}
}  // namespace

std::vector<std::string> jids(const std::vector<Fetched>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs) out.push_back(jid_of(j.payload));
  return out;
}

std::vector<std::string> jids(const std::vector<std::string>& payloads) {
  std::vector<std::string> out;
  for (const auto& p : payloads) out.push_back(jid_of(p));
  return out;
}

std::vector<std::string> jids(const std::vector<SetEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.jid);
  return out;
}

ProcessBeat beat_for(const std::string& identity, double beat, double ttl) {
  ProcessBeat b;
  b.identity = identity;
  b.info = nlohmann::json{{"hostname", "host"},    {"pid", 1},           {"identity", identity},
                          {"queues", {"default"}}, {"started_at", beat}, {"concurrency", 2}};
  b.beat = beat;
  b.ttl_seconds = ttl;
  return b;
}

}  // namespace errand::testing
