#include "outside/proc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bench {

std::vector<std::string> split_command(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) throw std::runtime_error("spawn: empty command");
  const int fd =
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("spawn: cannot open " + log_path);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("spawn: fork failed");
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "spawn: cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

int run_to_end(const std::vector<std::string>& argv, const std::string& log_path,
               std::chrono::seconds limit) {
  const pid_t pid = spawn(argv, log_path);
  const auto end = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

/// The live children of `pid` (every thread's children list).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream f(t.path() / "children");
    for (pid_t c = 0; f >> c;) out.push_back(c);
  }
  return out;
}

}  // namespace

double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(text.substr(close + 2));
  std::string field;
  // state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i < 14 && in >> field; ++i) {
  }
  // Then cutime and cstime: children that exited and were waited for (a
  // fork-per-job worker's); live children (pre-forked ones) are added below.
  long long utime = 0, stime = 0, cutime = 0, cstime = 0;
  in >> utime >> stime >> cutime >> cstime;
  double total = static_cast<double>(utime + stime + cutime + cstime) /
                 static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (pid_t c : children_of(pid)) total += cpu_seconds(c);
  return total;
}

std::int64_t status_kb(pid_t pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  const std::string key(field);
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size()));
  return 0;
}

bool stop(pid_t pid, std::chrono::seconds grace) {
  ::kill(pid, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::int64_t count_lines(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::int64_t n = 0;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    for (std::streamsize i = 0; i < f.gcount(); ++i) n += buf[i] == '\n';
    if (!f) break;
  }
  return n;
}

}  // namespace bench
