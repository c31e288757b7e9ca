// Worker processes as a user starts them: spawned with their output to a
// log file, measured from /proc while they run, stopped with SIGTERM.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

/// Splits a command line on spaces (no quoting: the bench's commands need none).
std::vector<std::string> split_command(const std::string& line);

/// Starts argv with stdout and stderr to `log_path` (emptied first). Throws on fork failure.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path);

/// Runs argv to completion (output to `log_path`); its exit status, -1 if killed or timed out.
int run_to_end(const std::vector<std::string>& argv, const std::string& log_path,
               std::chrono::seconds limit);

/// user + sys CPU seconds of a running process, all its threads, and of its
/// children: live ones (recursively) and those it waited for (/proc/PID/stat).
double cpu_seconds(pid_t pid);

/// A field of /proc/PID/status in kB (e.g. "VmHWM:", "VmRSS:"); 0 if unreadable.
std::int64_t status_kb(pid_t pid, const char* field);

/// SIGTERM, then waits up to `grace` (SIGKILL after). True if it exited by itself.
bool stop(pid_t pid, std::chrono::seconds grace);

/// Lines in a file (the worker's log).
std::int64_t count_lines(const std::string& path);

}  // namespace bench
