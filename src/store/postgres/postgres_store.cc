// Opening the PostgreSQL store: the URL, the libpq connection string, the
// first connection's checks (writable server, schema version).
#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/text.h"
#include "store/postgres/schema.h"
#include "store/postgres/store_impl.h"

namespace errand {
namespace pg {

PgStore::PgStore(PostgresOptions options, std::string conninfo, std::string where)
    : options_(std::move(options)),
      channel_("errand:" + options_.schema),
      statements_(make_statements(options_.schema)),
      pool_(Pool::Options{std::move(conninfo), std::move(where), options_.max_idle}, &statements_),
      listener_(pool_, channel_),
      status_channel_(channel_ + ":status"),
      status_listener_(pool_, status_channel_),
      events_channel_(channel_ + ":events") {}

PgStore::~PgStore() {
  listener_.stop();
  status_listener_.stop();
}

void PgStore::init() {
  Lease conn = lease();
  check_writable(*conn);
  migrate(*conn, options_.schema);
}

namespace {

Error bad_url(const std::string& url, const std::string& why) {
  return Error(Errc::invalid_argument, "postgres store URL '" + url + "': " + why +
                                           " (expected postgres://user:password@host:port/db"
                                           "?schema=NAME)");
}

std::optional<std::int64_t> number(std::string_view value) {
  auto v = text::parse_number<std::int64_t>(value);
  if (v && *v < 0) return std::nullopt;
  return v;
}

bool valid_schema(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

Status apply_query(const std::string& url, std::string_view query, PostgresOptions& o) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string key(pair.substr(0, eq));
    const auto raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto value = text::percent_decode(raw);
    if (!value) return bad_url(url, "option '" + key + "' is malformed");
    if (key == "schema") {
      if (!valid_schema(*value))
        return bad_url(url,
                       "schema '" + *value + "' is not a plain SQL name ([A-Za-z_][A-Za-z0-9_]*)");
      o.schema = *value;
    } else if (key == "poll_interval" || key == "connect_timeout") {
      auto n = number(*value);
      if (!n || *n == 0) return bad_url(url, "option '" + key + "' needs a positive number of ms");
      (key == "poll_interval" ? o.poll_interval : o.connect_timeout) =
          std::chrono::milliseconds(*n);
    } else if (key == "sslmode") {
      o.sslmode = *value;
    } else {
      return bad_url(url, "unknown option '" + key +
                              "' (expected schema, poll_interval, connect_timeout or sslmode)");
    }
  }
  return {};
}

Result<PostgresOptions> parse_url(const std::string& url) {
  std::string_view rest(url);
  if (rest.starts_with("postgres://"))
    rest.remove_prefix(11);
  else if (rest.starts_with("postgresql://"))
    rest.remove_prefix(13);
  else
    return bad_url(url, "not a postgres:// URL");
  PostgresOptions o;
  const auto q = rest.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  rest = rest.substr(0, q);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    auto db = text::percent_decode(rest.substr(slash + 1));
    if (!db) return bad_url(url, "the database name is malformed");
    o.dbname = *db;
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    const auto colon = userinfo.find(':');
    auto user = text::percent_decode(userinfo.substr(0, colon));
    auto pass = colon == std::string_view::npos ? std::optional<std::string>("")
                                                : text::percent_decode(userinfo.substr(colon + 1));
    if (!user || !pass) return bad_url(url, "the user or password is malformed");
    o.user = *user;
    o.password = *pass;
  }
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    auto port = number(authority.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) return bad_url(url, "the port is not a number");
    o.port = static_cast<int>(*port);
    authority = authority.substr(0, colon);
  }
  if (!authority.empty()) o.host = std::string(authority);
  if (auto st = apply_query(url, query, o); !st) return st.error();
  return o;
}

// A libpq keyword/value string: values single-quoted, \ and ' escaped.
std::string conninfo_of(const PostgresOptions& o) {
  std::string out;
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    out += key;
    out += "='";
    for (char c : value) {
      if (c == '\\' || c == '\'') out += '\\';
      out += c;
    }
    out += "' ";
  };
  add("host", o.host);
  add("port", std::to_string(o.port));
  add("user", o.user);
  add("password", o.password);
  add("dbname", o.dbname);
  add("sslmode", o.sslmode);
  // libpq counts whole seconds (and at least 2).
  add("connect_timeout",
      std::to_string(std::max<std::int64_t>(2, (o.connect_timeout.count() + 999) / 1000)));
  add("application_name", "errand");
  return out;
}

}  // namespace
}  // namespace pg

Result<std::shared_ptr<Store>> open_postgres_store(const std::string& url) {
  auto options = pg::parse_url(url);
  if (!options.ok()) return options.error();
  return open_postgres_store(*options);
}

Result<std::shared_ptr<Store>> open_postgres_store(const PostgresOptions& options) {
  if (options.poll_interval.count() <= 0)
    return fail(Errc::invalid_argument, "postgres store: poll_interval must be positive");
  if (!pg::valid_schema(options.schema))
    return fail(Errc::invalid_argument,
                "postgres store: schema '" + options.schema + "' is not a plain SQL name");
  const std::string where = options.host + ":" + std::to_string(options.port) + "/" +
                            (options.dbname.empty() ? options.user : options.dbname);
  return pg::guarded("open", [&]() -> Result<std::shared_ptr<Store>> {
    auto store = std::make_shared<pg::PgStore>(options, pg::conninfo_of(options), where);
    store->init();
    return std::shared_ptr<Store>(std::move(store));
  });
}

}  // namespace errand
