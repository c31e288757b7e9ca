// Spawning and supervising real processes from tests: the `errand` binary,
// with its own working directory, environment additions and captured output.
// Every wait is bounded; a Process still running when destroyed is killed.
//
// Header-only: the test target compiles tests/*.cc, not tests/support/.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "errand/errand.h"

/// Process isolation forks children from the threaded worker, and the
/// children start threads: ThreadSanitizer cannot follow that ("dup thread
/// with used id", or die_after_fork), so those tests skip in the TSan build
/// (tests/sanitize/README.md). The plain and ASan builds run them.
#if defined(ERRAND_TEST_TSAN)
#define ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN() \
  GTEST_SKIP() << "ThreadSanitizer cannot follow forked children: tests/sanitize/README.md"
#else
#define ERRAND_SKIP_FORKED_CHILDREN_UNDER_TSAN() (void)0
#endif

namespace errand::testing {

struct SpawnOptions {
  std::filesystem::path cwd;               ///< empty: the test's own
  std::map<std::string, std::string> env;  ///< added to (or replacing in) the test's environment
  std::filesystem::path stdout_path;       ///< empty: /dev/null
  std::filesystem::path stderr_path;       ///< empty: /dev/null
};

class Process {
 public:
  /// Starts `argv[0]` with `argv`. Throws std::runtime_error if fork fails;
  /// an exec failure shows as exit code 127.
  Process(const std::vector<std::string>& argv, const SpawnOptions& options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  /// Waits up to `timeout` for the process to exit; its wait status, or
  /// nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// The outcome of a finished command.
struct RunResult {
  bool timed_out = false;
  int exit_code = -1;   ///< -1 if killed by a signal or timed out
  int term_signal = 0;  ///< the signal that killed it, if any
  std::string out;
  std::string err;
  /// For assertion messages.
  std::string describe() const;
};

/// Runs a command to completion (killed after `timeout`), capturing stdout and
/// stderr through files in `scratch`.
RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
              std::chrono::milliseconds timeout = std::chrono::seconds(60),
              const SpawnOptions& base = {});

/// A fresh directory under $TMPDIR (or /tmp), removed on destruction unless
/// the test failed (kept for post-mortem, path printed).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);

/// Polls `done` every 50 ms until it returns true or `timeout` passes.
bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done);

// ---- implementation -------------------------------------------------------

inline Process::Process(const std::vector<std::string>& argv, const SpawnOptions& options) {
  // Everything the child needs is prepared before fork: after fork, in a
  // multi-threaded parent, the child may only make async-signal-safe calls.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argvp;
  for (auto& s : args) argvp.push_back(s.data());
  argvp.push_back(nullptr);
  const std::string cwd = options.cwd.string();
  const std::string out = options.stdout_path.empty() ? "/dev/null" : options.stdout_path.string();
  const std::string err = options.stderr_path.empty() ? "/dev/null" : options.stderr_path.string();

  const bool same_file = out == err;
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    // A fresh process group, so a test can signal the child alone.
    ::setpgid(0, 0);
    // Restore default signal handling and mask for the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    int in_fd = ::open("/dev/null", O_RDONLY);
    int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // One file for both streams must share one offset, or they overwrite each other.
    int err_fd = same_file ? out_fd : ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(126);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execve(argvp[0], argvp.data(), envp.data());
    ::_exit(127);
  }
}

inline Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    (void)wait_for(std::chrono::seconds(10));
  }
}

inline bool Process::running() {
  if (status_) return false;
  return !wait_for(std::chrono::milliseconds(0)).has_value();
}

inline void Process::signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

inline std::optional<int> Process::wait_for(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = st;
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

inline std::string RunResult::describe() const {
  std::ostringstream s;
  if (timed_out)
    s << "timed out";
  else if (term_signal)
    s << "killed by signal " << term_signal;
  else
    s << "exit code " << exit_code;
  s << "\n--- stdout ---\n" << out << "\n--- stderr ---\n" << err;
  return s.str();
}

inline RunResult run(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
                     std::chrono::milliseconds timeout, const SpawnOptions& base) {
  static std::atomic<int> counter{0};
  const int n = counter.fetch_add(1);
  SpawnOptions o = base;
  o.stdout_path = scratch / ("run-" + std::to_string(n) + ".out");
  o.stderr_path = scratch / ("run-" + std::to_string(n) + ".err");
  RunResult r;
  {
    Process p(argv, o);
    auto st = p.wait_for(timeout);
    if (!st) {
      r.timed_out = true;
      p.signal(SIGKILL);
      (void)p.wait_for(std::chrono::seconds(10));
    } else if (WIFEXITED(*st)) {
      r.exit_code = WEXITSTATUS(*st);
    } else if (WIFSIGNALED(*st)) {
      r.term_signal = WTERMSIG(*st);
    }
  }
  r.out = read_file(o.stdout_path);
  r.err = read_file(o.stderr_path);
  return r;
}

inline TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/errand-test-XXXXXX";
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

inline TempDir::~TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info && info->result()->Failed()) {
    std::fprintf(stderr, "keeping %s for inspection\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// ---- driving the errand binary ---------------------------------------------------

using namespace std::chrono_literals;

constexpr const char* kCli = ERRAND_CLI_PATH;
constexpr const char* kExamples = ERRAND_EXAMPLES_PATH;

inline std::vector<std::string> cmd(std::initializer_list<std::string> args) {
  std::vector<std::string> v{kCli};
  v.insert(v.end(), args);
  return v;
}

inline std::string sqlite_url(const TempDir& dir, const std::string& extra = "") {
  return "sqlite://" + (dir / "jobs.db").string() + extra;
}

/// Runs `errand ARGS --json` and parses its stdout; fails the test on error.
inline Json json_of(const TempDir& dir, std::vector<std::string> argv) {
  argv.push_back("--json");
  auto r = run(argv, dir.path(), 30s);
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  Json j = Json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
  return j;
}

inline Json stats(const TempDir& dir, const std::string& url) {
  return json_of(dir, cmd({"stats", "--store", url}));
}

inline double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::size_t count_lines(const std::filesystem::path& p) {
  auto text = read_file(p);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// Enqueues RecordRun(n) for n in [from, to) in one batch, from this process.
inline void enqueue_record_runs(const std::string& url, int from, int to) {
  auto client = Client::open(url);
  ASSERT_TRUE(client.ok()) << client.error().message();
  JobDescriptor record;  // the class lives in the examples library, not in this binary
  record.name = "RecordRun";
  std::vector<Json> args;
  for (int n = from; n < to; ++n) args.push_back(Json::array({n}));
  auto jids = client->push_bulk(record, args, {});
  ASSERT_TRUE(jids.ok()) << jids.error().message();
}

/// A worker process on `url` with the example jobs loaded, logging to a file.
struct Worker {
  std::filesystem::path log;
  std::unique_ptr<Process> process;

  Worker(const TempDir& dir, const std::string& url, std::vector<std::string> extra = {},
         std::map<std::string, std::string> env = {}) {
    static std::atomic<int> n{0};
    log = dir / ("worker-" + std::to_string(n.fetch_add(1)) + ".log");
    std::vector<std::string> argv = cmd({"worker", "-r", kExamples, "--store", url});
    argv.insert(argv.end(), extra.begin(), extra.end());
    // Quick heartbeats and polls keep tests short; `extra` may override each.
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"-c", "4"},
        {"--heartbeat-interval", "0.5"},
        {"--process-ttl", "3"},
        {"--poll-interval", "0.5"}};
    for (const auto& [flag, value] : defaults)
      if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
        argv.push_back(flag);
        argv.push_back(value);
      }
    SpawnOptions o;
    o.cwd = dir.path();
    o.env = std::move(env);
    o.stdout_path = log;
    o.stderr_path = log;
    process = std::make_unique<Process>(argv, o);
  }
  std::string output() const { return read_file(log); }
  /// SIGTERM and wait; returns the exit code (-1 if it did not exit cleanly).
  int stop(std::chrono::milliseconds timeout = 30s) {
    process->signal(SIGTERM);
    auto st = process->wait_for(timeout);
    if (!st || !WIFEXITED(*st)) return -1;
    return WEXITSTATUS(*st);
  }
};

}  // namespace errand::testing
