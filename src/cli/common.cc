#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "cli/cli.h"
#include "core/redact.h"

namespace errand::cli {

void add_store_flags(CLI::App& cmd, StoreFlags& flags) {
  cmd.add_option("--store", flags.store,
                 "store URL: sqlite://PATH, redis://host:port/db, memory://NAME "
                 "(default: the config's, else sqlite://errand.db)");
  cmd.add_option("-C,--config", flags.config, "YAML configuration file (errand.yml)");
}

Result<Config> resolve_config(const StoreFlags& flags) {
  Config config;
  if (!flags.config.empty()) {
    auto loaded = load_config(flags.config);
    if (!loaded) return loaded.error();
    config = std::move(loaded).value();
  }
  if (!flags.store.empty()) config.store = flags.store;
  return config;
}

Result<std::shared_ptr<Store>> open_default_store(const StoreFlags& flags) {
  auto config = resolve_config(flags);
  if (!config) return config.error();
  auto store = open_store(config->store);
  if (!store)
    return fail(store.code(),
                "cannot open store " + redact_url(config->store) + ": " + store.error().message());
  return store;
}

int fail_with(const std::string& message) {
  std::cerr << "errand: " << message << "\n";
  return kError;
}

int fail_with(const Error& error) { return fail_with(error.message()); }

void print_table(const std::vector<std::string>& header,
                 std::vector<std::vector<std::string>> rows) {
  // Names come from the store: never let one drive the terminal.
  for (auto& row : rows)
    for (auto& cell : row) cell = terminal_safe(cell);
  std::vector<std::size_t> width(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);  // an empty last column leaves padding
    std::cout << line << "\n";
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string relative_time(double epoch) {
  const double d = epoch - now_epoch();
  const double a = std::fabs(d);
  std::string amount;
  if (a < 60)
    amount = std::to_string(static_cast<long long>(a)) + "s";
  else if (a < 3600)
    amount = std::to_string(static_cast<long long>(a / 60)) + "m";
  else if (a < 86400)
    amount = std::to_string(static_cast<long long>(a / 3600)) + "h";
  else
    amount = std::to_string(static_cast<long long>(a / 86400)) + "d";
  return d >= 0 ? "in " + amount : amount + " ago";
}

Status load_job_library(const std::string& path) {
  // dlopen searches the library path for names without a slash; a user who
  // writes `-r libjobs.so` means the file in the current directory.
  std::string target = path;
  if (target.find('/') == std::string::npos && std::filesystem::exists(target))
    target = "./" + target;
  dlerror();  // clear any stale error
  if (::dlopen(target.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char* why = dlerror();
    return fail(Errc::io,
                "cannot load job library '" + path + "': " + (why ? why : "unknown dlopen error"));
  }
  // The handle is never closed: the registered classes point into the library.
  // A class name the library registers again (over the CLI's own or another
  // library's) is an error naming both, not a silent replacement.
  if (auto st = Registry::global().check(); !st)
    return fail(Errc::invalid_argument,
                "cannot load job library '" + path + "': " + st.error().message());
  return {};
}

std::vector<std::string> errand_library_candidates(const std::string& file_name,
                                                   const std::string& from_bin) {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto dir = ec ? std::filesystem::path() : exe.parent_path();
  return {(dir / file_name).lexically_normal().string(),
          (dir / from_bin).lexically_normal().string()};
}

}  // namespace errand::cli
