// Opening the SQLite store: the URL's options and the checks that turn what
// SQLite would only call "unable to open database file" into clear errors.
#include <filesystem>
#include <optional>

#include "core/text.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace errand {
namespace {

Result<SqliteOptions> parse_spec(const std::string& spec) {
  SqliteOptions options;
  const auto q = spec.find('?');
  options.path = spec.substr(0, q);
  if (q == std::string::npos) return options;
  std::string_view rest(spec);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto number = [&]() -> std::optional<std::int64_t> {
      auto v = text::parse_number<std::int64_t>(value);
      if (v && *v < 0) return std::nullopt;
      return v;
    };
    auto bad = [&] {
      return fail(Errc::invalid_argument, "sqlite store URL option '" + std::string(pair) +
                                              "' is malformed in '" + spec + "'");
    };
    if (key == "busy_timeout") {
      auto v = number();
      if (!v) return bad();
      options.busy_timeout = std::chrono::milliseconds(*v);
    } else if (key == "poll_interval") {
      auto v = number();
      if (!v || *v == 0) return bad();
      options.poll_interval = std::chrono::milliseconds(*v);
    } else if (key == "create") {
      if (value == "0" || value == "false")
        options.create = false;
      else if (value == "1" || value == "true")
        options.create = true;
      else
        return bad();
    } else {
      return fail(Errc::invalid_argument, "unknown sqlite store URL option '" + std::string(key) +
                                              "' in '" + spec +
                                              "': expected busy_timeout, create or poll_interval");
    }
  }
  return options;
}

}  // namespace

Result<std::shared_ptr<Store>> open_sqlite_store(const std::string& spec) {
  auto options = parse_spec(spec);
  if (!options.ok()) return options.error();
  return open_sqlite_store(*options);
}

Result<std::shared_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  namespace fs = std::filesystem;
  const auto& path = options.path;
  if (path.empty())
    return fail(Errc::invalid_argument, "sqlite store: no database path given (sqlite://PATH)");
  if (path == ":memory:" || path.rfind("file:", 0) == 0)
    return fail(Errc::invalid_argument,
                "sqlite store: '" + path +
                    "' is not a file path (each connection would see its own database); "
                    "use memory://NAME for an in-process store");
  if (options.poll_interval.count() <= 0)
    return fail(Errc::invalid_argument, "sqlite store: poll_interval must be positive");
  // Check what SQLite would only report as "unable to open database file".
  std::error_code ec;
  const fs::path p(path);
  const fs::path dir = p.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec))
    return fail(Errc::io, "cannot open SQLite database '" + path + "': directory '" + dir.string() +
                              "' does not exist");
  if (!options.create && !fs::exists(p, ec))
    return fail(Errc::io, "cannot open SQLite database '" + path +
                              "': the file does not exist (and create=0)");
  return sqlite::guarded("open", [&]() -> Result<std::shared_ptr<Store>> {
    auto store = std::make_shared<sqlite::SqliteStore>(options);
    store->init();
    return std::shared_ptr<Store>(std::move(store));
  });
}

}  // namespace errand
