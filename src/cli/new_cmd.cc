// `errand new job NAME` and `errand new project DIR`: Rails' `generate job`,
// in C++'s conventions. Files are written only if none of them exists yet
// (nothing is ever overwritten); the templates are in new_templates.h.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <utility>
#include <vector>

#include "cli/cli.h"
#include "cli/new_templates.h"

namespace errand::cli {

namespace {

namespace fs = std::filesystem;

using FileList = std::vector<std::pair<fs::path, std::string>>;

std::string substitute(std::string text,
                       const std::vector<std::pair<std::string, std::string>>& vars) {
  for (const auto& [key, value] : vars)
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  return text;
}

/// A C++ class name as Rails writes job names: CamelCase, starting with a capital.
Status check_class_name(const std::string& name) {
  static const std::regex kName("[A-Z][A-Za-z0-9]*");
  if (name.size() <= 100 && std::regex_match(name, kName)) return {};
  return fail(Errc::invalid_argument,
              "'" + name +
                  "' is not a job class name: use CamelCase letters and digits, starting with a "
                  "capital (e.g. SendWelcomeEmail)");
}

/// SendWelcomeEmail → send_welcome_email_job; HelloJob → hello_job.
std::string file_stem(const std::string& name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    const bool boundary =
        std::isupper(c) && i > 0 &&
        (std::islower(static_cast<unsigned char>(name[i - 1])) ||
         std::isdigit(static_cast<unsigned char>(name[i - 1])) ||
         (i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]))));
    if (boundary) out += '_';
    out += static_cast<char>(std::tolower(c));
  }
  if (!out.ends_with("_job") && out != "job") out += "_job";
  return out;
}

FileList job_files(const fs::path& root, const std::string& cls) {
  const std::string stem = file_stem(cls);
  const std::vector<std::pair<std::string, std::string>> vars{{"@Class@", cls}, {"@file@", stem}};
  return {{root / "jobs" / (stem + ".h"), substitute(templates::kJobHeader, vars)},
          {root / "jobs" / (stem + ".cc"), substitute(templates::kJobSource, vars)},
          {root / "tests" / (stem + "_test.cc"), substitute(templates::kJobTest, vars)}};
}

/// Writes every file, or none if any exists already.
Status write_all(const FileList& files) {
  for (const auto& [path, text] : files)
    if (fs::exists(path))
      return fail(Errc::invalid_argument, path.string() + " exists already; nothing was written");
  for (const auto& [path, text] : files) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (ec || !out) return fail(Errc::io, "cannot write " + path.string());
    std::cout << "create " << path.string() << "\n";
  }
  return {};
}

int new_job(const std::string& cls) {
  if (auto st = check_class_name(cls); !st) {
    std::cerr << "errand: " << st.message() << "\n";
    return kUsage;
  }
  if (auto st = write_all(job_files(".", cls)); !st) return fail_with(st.error());
  return kOk;
}

int new_project(const std::string& dir) {
  const fs::path root(dir);
  std::string project = root.filename().string();
  if (project.empty()) project = root.parent_path().filename().string();
  for (char& c : project)
    if (c == '-' || c == '.') c = '_';
  static const std::regex kProject("[A-Za-z][A-Za-z0-9_]*");
  if (!std::regex_match(project, kProject)) {
    std::cerr << "errand: '" << dir
              << "': the directory's name becomes the CMake project's: letters, digits, '_' or "
                 "'-', starting with a letter\n";
    return kUsage;
  }
  std::error_code ec;
  if (fs::exists(root) && !fs::is_empty(root, ec))
    return fail_with(root.string() + " exists and is not empty; nothing was written");
  const std::vector<std::pair<std::string, std::string>> vars{{"@project@", project},
                                                              {"@version@", ERRAND_VERSION}};
  FileList files{{root / "CMakeLists.txt", substitute(templates::kProjectCMake, vars)},
                 {root / "main.cc", substitute(templates::kProjectMain, vars)},
                 {root / "README.md", substitute(templates::kProjectReadme, vars)}};
  for (auto& f : job_files(root, "HelloJob")) files.push_back(std::move(f));
  if (auto st = write_all(files); !st) return fail_with(st.error());
  return kOk;
}

}  // namespace

void add_new_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("new", "Generate a job class or a project");
  cmd->require_subcommand(1);
  auto cls = std::make_shared<std::string>();
  auto* job = cmd->add_subcommand(
      "job", "Write jobs/<name>_job.{h,cc} and tests/<name>_job_test.cc here (never overwrites)");
  job->add_option("NAME", *cls, "the job class, CamelCase (e.g. SendWelcomeEmail)")->required();
  job->callback([&ctx, cls] { ctx.action = [cls] { return new_job(*cls); }; });
  auto dir = std::make_shared<std::string>();
  auto* project = cmd->add_subcommand(
      "project", "Write a CMake project using errand: a jobs library, a main, a test");
  project->add_option("DIR", *dir, "a new or empty directory; its name names the project")
      ->required();
  project->callback([&ctx, dir] { ctx.action = [dir] { return new_project(*dir); }; });
}

}  // namespace errand::cli
