// `errand new job NAME` and `errand new project DIR`: Rails' generators for
// errand. They write files from src/cli/templates.cc and never overwrite one.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <vector>

#include "cli/cli.h"
#include "cli/templates.h"

namespace errand::cli {

namespace fs = std::filesystem;

namespace {

using Vars = std::map<std::string, std::string>;
struct File {
  fs::path path;
  std::string text;
};

/// SendWelcomeEmail → send_welcome_email; a trailing "Job" is dropped.
std::string snake_of(std::string name) {
  if (name.size() > 3 && name.ends_with("Job")) name.resize(name.size() - 3);
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    const bool boundary =
        i > 0 && std::isupper(c) &&
        (std::islower(static_cast<unsigned char>(name[i - 1])) ||
         (i + 1 < name.size() && std::islower(static_cast<unsigned char>(name[i + 1]))));
    if (boundary) out += '_';
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

Status check_class_name(const std::string& name) {
  const bool ok =
      !name.empty() && std::isupper(static_cast<unsigned char>(name[0])) &&
      std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) != 0; });
  if (!ok)
    return fail(Errc::invalid_argument, "job name '" + name +
                                            "' must be a C++ class name in CamelCase "
                                            "(letters and digits, first an upper-case letter)");
  return {};
}

/// Writes every file, or none if one exists already.
Status write_all(const std::vector<File>& files) {
  for (const auto& f : files)
    if (fs::exists(f.path))
      return fail(Errc::invalid_argument, f.path.string() + " exists; nothing was written");
  for (const auto& f : files) {
    fs::create_directories(f.path.parent_path());
    std::ofstream out(f.path, std::ios::binary);
    out << f.text;
    if (!out) return fail(Errc::io, "cannot write " + f.path.string());
  }
  for (const auto& f : files) std::cout << "  create " << f.path.string() << "\n";
  return {};
}

std::vector<File> job_files(const fs::path& root, const std::string& name) {
  const std::string snake = snake_of(name);
  const Vars vars{{"class", name}, {"snake", snake}};
  return {
      {root / "jobs" / (snake + "_job.h"), templates::render(templates::kJobHeader, vars)},
      {root / "jobs" / (snake + "_job.cc"), templates::render(templates::kJobSource, vars)},
      {root / "tests" / (snake + "_job_test.cc"), templates::render(templates::kJobTest, vars)}};
}

int new_job(const std::string& name, const std::string& dir) {
  if (auto st = check_class_name(name); !st) return fail_with(st.error());
  if (auto st = write_all(job_files(dir, name)); !st) return fail_with(st.error());
  return kOk;
}

/// A CMake target name from the directory's name: letters, digits, '_'.
std::string project_name_of(const fs::path& dir) {
  std::string name = fs::absolute(dir).lexically_normal().filename().string();
  if (name.empty()) name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  for (auto& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "app_" + name;
  return name;
}

int new_project(const std::string& dir) {
  const fs::path root(dir);
  if (fs::exists(root) && !fs::is_empty(root))
    return fail_with(dir + " exists and is not empty; nothing was written");
  const Vars vars{{"project", project_name_of(root)},
                  {"version", std::to_string(ERRAND_VERSION_MAJOR) + "." +
                                  std::to_string(ERRAND_VERSION_MINOR)}};
  std::vector<File> files = {
      {root / "CMakeLists.txt", templates::render(templates::kProjectCMake, vars)},
      {root / "src" / "main.cc", templates::render(templates::kProjectMain, vars)},
      {root / "README.md", templates::render(templates::kProjectReadme, vars)},
      {root / ".gitignore", std::string(templates::kProjectGitignore)}};
  for (auto& f : job_files(root, "ExampleJob")) files.push_back(std::move(f));
  if (auto st = write_all(files); !st) return fail_with(st.error());
  std::cout << "\nNext:  cd " << dir << " && cmake -S . -B build && cmake --build build"
            << " && ctest --test-dir build\n";
  return kOk;
}

}  // namespace

void add_new_commands(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("new", "Generate a job (and its test) or a whole project");
  cmd->require_subcommand(1);
  auto job_name = std::make_shared<std::string>();
  auto job_dir = std::make_shared<std::string>(".");
  auto* job = cmd->add_subcommand(
      "job", "Write jobs/NAME_job.{h,cc} and tests/NAME_job_test.cc into the project");
  job->add_option("NAME", *job_name, "the job class, e.g. SendWelcomeEmail")->required();
  job->add_option("--dir", *job_dir, "the project's directory (default: the current one)");
  job->callback([&ctx, job_name, job_dir] {
    ctx.action = [job_name, job_dir] { return new_job(*job_name, *job_dir); };
  });
  auto project_dir = std::make_shared<std::string>();
  auto* project = cmd->add_subcommand(
      "project", "Write a CMake project using find_package(errand): jobs library, main, tests");
  project->add_option("DIR", *project_dir, "a new or empty directory")->required();
  project->callback(
      [&ctx, project_dir] { ctx.action = [project_dir] { return new_project(*project_dir); }; });
}

}  // namespace errand::cli
