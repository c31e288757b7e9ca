// Where errand's log lines go: a buffer that worker threads append whole
// lines to (one short critical section, no system call), written to the
// output file descriptor by a background thread every 50 ms or once 64 KiB
// have gathered. Warnings and errors, and every line at exit, are written at
// once. Lines keep the order in which they were appended.
#pragma once

#include <string_view>

namespace errand::log::output {

/// Appends one complete line (with its '\n'). Thread-safe; blocks only if
/// the writer has fallen 4 MiB behind (a stalled disk slows the workers
/// rather than dropping lines).
void append(std::string_view line, bool urgent);

/// Writes everything appended so far. Thread-safe.
void flush();

/// Writes what is pending, then sends later lines to `fd` (default 2). Thread-safe.
void set_fd(int fd);

}  // namespace errand::log::output
