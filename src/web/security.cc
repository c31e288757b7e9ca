// Sessions, CSRF tokens and authentication for the dashboard.
//
// Why server-side sessions rather than a plain double-submit cookie: a token
// that the server issued and remembers cannot be planted by another site
// that manages to set a cookie for this host, and the token login can live
// in the same record.
#include <sys/random.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "web/app.h"

namespace errand::web {

namespace {

constexpr std::size_t kMaxSessions = 10'000;
constexpr double kSessionIdleSeconds = 12 * 3600;

std::string cookie_value(const httplib::Request& req, std::string_view name) {
  const std::string header = req.get_header_value("Cookie");
  std::string_view rest(header);
  while (!rest.empty()) {
    auto semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    if (part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
  }
  return {};
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string random_hex(std::size_t n) {
  std::string bytes(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(bytes.data() + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<std::size_t>(r);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // The length is not secret (tokens have a fixed size); the content is.
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

std::optional<std::string> base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

Session Sessions::get_or_create(const httplib::Request& req, httplib::Response& res) {
  if (auto s = find(req)) return *s;
  Session s;
  s.id = random_hex(32);
  s.csrf = random_hex(32);
  s.last_seen = wall_now();
  {
    std::lock_guard lock(mu_);
    if (by_id_.size() - authed_count_ >= kMaxAnonymous) evict_locked(false);
    by_id_[s.id] = s;
  }
  res.set_header("Set-Cookie",
                 std::string(kSessionCookie) + "=" + s.id + "; Path=/; HttpOnly; SameSite=Strict");
  return s;
}

void Sessions::evict_locked(bool authed) {
  std::vector<std::pair<double, std::string>> ages;
  for (auto& [id, v] : by_id_)
    if (v.authed == authed) ages.emplace_back(v.last_seen, id);
  std::sort(ages.begin(), ages.end());
  for (std::size_t i = 0; i < (ages.size() + 1) / 2; ++i) by_id_.erase(ages[i].second);
  if (authed) authed_count_ -= (ages.size() + 1) / 2;
}

std::optional<Session> Sessions::find(const httplib::Request& req) {
  const std::string id = cookie_value(req, kSessionCookie);
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  const double now = wall_now();
  if (now - it->second.last_seen > kSessionIdleSeconds) {
    if (it->second.authed) --authed_count_;
    by_id_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second;
}

Session Sessions::login(const httplib::Request& req, httplib::Response& res) {
  logout(req);
  Session s;
  s.id = random_hex(32);
  s.csrf = random_hex(32);
  s.last_seen = wall_now();
  s.authed = true;
  {
    std::lock_guard lock(mu_);
    if (authed_count_ >= kMaxAuthed) evict_locked(true);
    by_id_[s.id] = s;
    ++authed_count_;
  }
  res.set_header("Set-Cookie",
                 std::string(kSessionCookie) + "=" + s.id + "; Path=/; HttpOnly; SameSite=Strict");
  return s;
}

void Sessions::logout(const httplib::Request& req) {
  const std::string id = cookie_value(req, kSessionCookie);
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  if (it->second.authed) --authed_count_;
  by_id_.erase(it);
}

double FailureThrottle::blocked_for(const std::string& client, double now) {
  std::lock_guard lock(mu_);
  auto it = by_client_.find(client);
  if (it == by_client_.end()) return 0;
  const double left = it->second.window_start + kWindowSeconds - now;
  if (left <= 0) {
    by_client_.erase(it);
    return 0;
  }
  return it->second.failures >= kMaxFailures ? left : 0;
}

void FailureThrottle::failed(const std::string& client, double now) {
  std::lock_guard lock(mu_);
  if (by_client_.size() >= 10'000)  // forget windows that have passed
    std::erase_if(by_client_,
                  [&](const auto& kv) { return kv.second.window_start + kWindowSeconds <= now; });
  Entry& e = by_client_[client];
  if (e.window_start + kWindowSeconds <= now) e = Entry{now, 0};
  ++e.failures;
}

double App::now() const { return wall_now(); }

bool App::bearer_ok(const httplib::Request& req) const {
  if (options.token.empty()) return false;
  const std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || h.compare(0, kBearer.size(), kBearer) != 0) return false;
  return constant_time_equal(std::string_view(h).substr(kBearer.size()), options.token);
}

bool App::bad_credentials(const httplib::Request& req) const {
  if (!auth_required() || !req.has_header("Authorization")) return false;
  if (bearer_ok(req)) return false;
  const std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (!options.basic.empty() && h.size() > kBasic.size() &&
      h.compare(0, kBasic.size(), kBasic) == 0) {
    auto decoded = base64_decode(std::string_view(h).substr(kBasic.size()));
    if (decoded && constant_time_equal(*decoded, options.basic)) return false;
  }
  return true;
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// "Name:port", "[v6]:port", "name" → the name, lowercase, without brackets.
std::string host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return {};
    return lower(host.substr(1, close - 1));
  }
  const auto colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos)
    host = host.substr(0, colon);
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "localhost."
  return lower(host);
}

bool loopback_name(std::string_view name) {
  return name == "localhost" || name == "::1" || name.rfind("127.", 0) == 0;
}

}  // namespace

bool is_loopback_bind(std::string_view bind) { return loopback_name(host_name(bind)); }

bool App::host_allowed(std::string_view host) const {
  const std::string name = host_name(host);
  if (name.empty()) return false;
  const bool loopback_bind = is_loopback_bind(options.bind);
  if (!loopback_bind && options.hosts.empty()) return true;
  if (loopback_name(name) || name == host_name(options.bind)) return true;
  for (const auto& h : options.hosts)
    if (name == host_name(h)) return true;
  return false;
}

bool App::authorized(const httplib::Request& req) {
  if (!auth_required()) return true;
  if (bearer_ok(req)) return true;
  if (!options.basic.empty()) {
    const std::string h = req.get_header_value("Authorization");
    constexpr std::string_view kBasic = "Basic ";
    if (h.size() > kBasic.size() && h.compare(0, kBasic.size(), kBasic) == 0) {
      auto decoded = base64_decode(std::string_view(h).substr(kBasic.size()));
      if (decoded && constant_time_equal(*decoded, options.basic)) return true;
    }
  }
  if (!options.token.empty())
    if (auto s = sessions.find(req); s && s->authed) return true;
  return false;
}

bool csrf_ok(App& app, const httplib::Request& req) {
  if (app.bearer_ok(req)) return true;
  auto session = app.sessions.find(req);
  if (!session) return false;
  std::string sent = req.get_header_value("X-CSRF-Token");
  // A form's token is read from the form body only: a token in the URL ends
  // up in logs and histories.
  if (sent.empty() &&
      req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
    httplib::Params form;
    httplib::detail::parse_query_text(req.body, form);
    if (auto it = form.find("_csrf"); it != form.end()) sent = it->second;
  }
  return !sent.empty() && constant_time_equal(sent, session->csrf);
}

}  // namespace errand::web
