// redis:// URLs: parse_url (declared in connection.h), in three parts:
// credentials, host and port, and the query parameters.
#include <string>

#include "core/redact.h"
#include "core/text.h"
#include "store/redis/connection.h"

namespace errand::redis {
namespace {

using text::parse_number;

// Each part returns the problem ("" when none); parse_url words the error.
std::string parse_userinfo(std::string_view userinfo, Endpoint& ep) {
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos)
    return "the part before '@' must be ':password' or 'user:password'";
  auto user = text::percent_decode(userinfo.substr(0, colon));
  auto password = text::percent_decode(userinfo.substr(colon + 1));
  if (!user || !password) return "invalid %-escape in the credentials";
  ep.username = std::move(*user);
  ep.password = std::move(*password);
  return "";
}

std::string parse_host_port(std::string_view rest, Endpoint& ep) {
  std::string_view port_text;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return "unterminated '[' in the host";
    ep.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') return "unexpected text after the host";
    has_port = !after.empty();
    if (has_port) port_text = after.substr(1);
  } else {
    auto colon = rest.find(':');
    ep.host = std::string(rest.substr(0, colon));
    has_port = colon != std::string_view::npos;
    if (has_port) port_text = rest.substr(colon + 1);
  }
  if (has_port && port_text.empty()) return "empty port";
  if (ep.host.empty()) return "no host";
  if (has_port) {
    auto port = parse_number<int>(port_text);
    if (!port || *port < 1 || *port > 65535)
      return "port '" + std::string(port_text) + "' is not a number from 1 to 65535";
    ep.port = *port;
  }
  return "";
}

std::string parse_parameter(std::string_view key, const std::string& value, ParsedUrl& out) {
  if (key == "namespace") {
    out.ns = value;
  } else if (key == "pool_size") {
    auto n = parse_number<std::size_t>(value);
    if (!n || *n == 0) return "pool_size must be a positive integer";
    out.pool_size = *n;
  } else if (key == "connect_timeout_ms" || key == "command_timeout_ms") {
    auto ms = parse_number<std::int64_t>(value);
    if (!ms || *ms <= 0) return std::string(key) + " must be a positive integer";
    auto& field =
        key == "connect_timeout_ms" ? out.endpoint.connect_timeout : out.endpoint.command_timeout;
    field = std::chrono::milliseconds(*ms);
  } else {
    return "unknown parameter '" + std::string(key) +
           "' (known: namespace, pool_size, connect_timeout_ms, command_timeout_ms)";
  }
  return "";
}

std::string parse_query(std::string_view query, ParsedUrl& out) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      return "query parameter '" + std::string(pair) + "' has no value";
    auto value = text::percent_decode(pair.substr(eq + 1));
    if (!value) return "invalid %-escape in '" + std::string(pair) + "'";
    if (auto why = parse_parameter(pair.substr(0, eq), *value, out); !why.empty()) return why;
  }
  return "";
}

}  // namespace

Result<ParsedUrl> parse_url(std::string_view url) {
  auto bad = [&](const std::string& why) -> Error {
    return fail(Errc::invalid_argument,
                "bad redis URL '" + redact_url(url) + "': " + why +
                    " (expected redis://[:password@]host:port/db[?namespace=x])");
  };
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return bad("it must start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  std::string_view query, path;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  ParsedUrl out;
  std::string why;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    why = parse_userinfo(rest.substr(0, at), out.endpoint);
    rest = rest.substr(at + 1);
  }
  if (why.empty()) why = parse_host_port(rest, out.endpoint);
  if (why.empty() && !path.empty()) {
    auto db = parse_number<int>(path);
    if (!db || *db < 0)
      why = "database '" + std::string(path) + "' is not a non-negative integer";
    else
      out.endpoint.db = *db;
  }
  if (why.empty()) why = parse_query(query, out);
  if (!why.empty()) return bad(why);
  return out;
}

}  // namespace errand::redis
