#!/usr/bin/env python3
"""Compiles, and where asked runs, the code blocks of errand's documentation.

Every ```cpp / ```c++ block of README.md, examples/README.md and docs/*.md is
compiled against the build tree's headers (g++ -std=c++20 -Wall -Wextra
-Werror); shell blocks are run when they are marked so. Failures are reported
as FILE:LINE (compiler messages point into the Markdown file too, through
#line directives). Python 3 standard library only.

How a block is treated is said by an HTML comment on the line(s) just above
its fence (invisible on GitHub), e.g.

    <!-- docs-test: statements run link=jobs/send_welcome_email.cc
    #include "jobs/send_welcome_email.h"
    -->

The first line holds the directives; any further lines up to `-->` are a
hidden prelude: C++ placed at file scope before the block (includes, a
declaration the reader does not need to see). Directives:

  (none)          a C++ block with `int main(` is a whole program: compiled
                  as shown (no implicit includes) and linked with liberrand.
                  Any other C++ block is a file-scope fragment: compiled after
                  an implicit `#include <errand/errand.h>` and the common
                  standard headers (<chrono>, <cstdint>, <iostream>, <map>,
                  <memory>, <optional>, <stdexcept>, <string>, <thread>,
                  <vector>). Shell blocks are not run.
  statements      the block is statements: compiled as the body of
                  `int f() { ... return 0; }` after the implicit includes and
                  the prelude (so `return 1;` works as in main).
  run             link and run it: a program or a `statements` block (its
                  function becomes main) runs in a fresh temporary directory
                  and must exit 0 (an uncaught exception fails it); a shell
                  block runs with `bash -e -o pipefail` in a fresh temporary
                  directory that holds this page's `file=` blocks, with the
                  built `errand` first on PATH (its default store is then
                  sqlite://errand.db in that directory).
  file=PATH       the block is the file PATH of this page's small example
                  project (any language: a header, a .cc, an errand.yml).
                  Every block of the page sees these files (-I on the
                  project; shell blocks run among them). A .h is checked to
                  compile on its own; a .cc is compiled (no implicit includes:
                  a file shows all its includes).
  link=A.cc,B.cc  link these `file=` sources of the page into the program
                  (e.g. the job's definition, which a program that enqueues
                  the job needs: see README.md).
  gtest           a whole GoogleTest file (no main): compiled as shown,
                  linked with the --testing-lib libraries (errand_testing),
                  liberrand and gtest_main, and run like `run`.
  config          a YAML block that is a whole errand.yml: `errand cron -C`
                  must load it (unknown keys, wrong types and bad cron
                  entries fail). Other YAML blocks are only written (file=).
  timeout=SECONDS for `run` (default 60).
  skip REASON     not compiled or run; the reason is required. Keep rare:
                  prefer a hidden prelude to a skip.

In fragments (not in programs or files) unused variables, parameters and
functions are not warned about: a fragment is a piece of a larger program.
Every other warning is an error, [[nodiscard]] included.

Usage: check_docs.py --source-dir DIR --include DIR --lib LIBERRAND --errand
       ERRAND_BINARY [--cxx g++] [--cxxflag=FLAG ...] [--testing-lib=LIB]
       [--work DIR] [-j N]
       [FILE.md ...]
(without files: README.md, examples/README.md and docs/*.md of the source dir).
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

CPP_LANGS = {"cpp", "c++", "cxx", "cc"}
SHELL_LANGS = {"sh", "bash", "shell"}
PRELUDE_HEADERS = ["errand/errand.h", "chrono", "cstdint", "iostream", "map", "memory",
                   "optional", "stdexcept", "string", "thread", "vector"]
FRAGMENT_LENIENCY = ["-Wno-unused-variable", "-Wno-unused-but-set-variable",
                     "-Wno-unused-parameter", "-Wno-unused-function"]
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)[^`]*$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:(.*)$")  # a comment that starts its line
MAIN = re.compile(r"\bint\s+main\s*\(")
KNOWN = {"statements", "run", "skip", "file", "link", "timeout", "config", "gtest"}
YAML_LANGS = {"yaml", "yml"}


class DocError(Exception):
    """A malformed block or marker, reported at its location."""


@dataclass
class Block:
    doc: Path          # the Markdown file
    shown: str         # its path as reported
    line: int          # line of the opening fence (1-based)
    lang: str
    code: str
    marker_line: int = 0
    flags: set = field(default_factory=set)
    opts: dict = field(default_factory=dict)
    prelude: str = ""
    skip_reason: str = ""

    @property
    def loc(self):
        return f"{self.shown}:{self.line}"

    @property
    def marker_loc(self):
        return f"{self.shown}:{self.marker_line}"

    @property
    def is_cpp(self):
        return self.lang in CPP_LANGS

    @property
    def is_shell(self):
        return self.lang in SHELL_LANGS


def parse_marker(lines, fence_index):
    """The docs-test comment ending just above line `fence_index`, if any:
    (line number, directive text, prelude text)."""
    i = fence_index - 1
    while i >= 0 and not lines[i].strip():
        i -= 1
    if i < 0 or not lines[i].rstrip().endswith("-->"):
        return None
    end = i
    while i >= 0 and "<!--" not in lines[i]:
        i -= 1
    if i < 0:
        return None
    m = MARKER.search(lines[i])
    if not m:
        return None
    first = m.group(1)
    body = lines[i + 1:end + 1] if i != end else []
    if i == end:
        first = first.rsplit("-->", 1)[0]
    elif body:
        body[-1] = body[-1].rstrip()[:-3]
    return i + 1, first.strip(), "\n".join(body)


def apply_marker(block, marker):
    line, directives, prelude = marker
    block.marker_line = line
    block.prelude = prelude
    words = directives.split()
    if words and words[0] == "skip":
        block.flags.add("skip")
        block.skip_reason = directives[4:].strip()
        if not block.skip_reason:
            raise DocError(f"{block.shown}:{line}: `docs-test: skip` needs a reason")
        return
    for word in words:
        key, _, value = word.partition("=")
        if key not in KNOWN or key == "skip" or (bool(value) != (key in ("file", "link", "timeout"))):
            raise DocError(f"{block.shown}:{line}: unknown docs-test directive '{word}'")
        if value:
            block.opts[key] = value
        else:
            block.flags.add(key)
    if "timeout" in block.opts and not block.opts["timeout"].isdigit():
        raise DocError(f"{block.shown}:{line}: timeout= takes whole seconds")


def parse_doc(doc, shown):
    """Every fenced block of `doc` with its docs-test marker."""
    lines = doc.read_text(encoding="utf-8").split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m.group(1), m.group(2), m.group(3).lower()
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        if j == len(lines):
            raise DocError(f"{shown}:{i + 1}: code block never closed")
        code = "\n".join(l[len(indent):] if l.startswith(indent) else l for l in lines[i + 1:j])
        block = Block(doc, shown, i + 1, lang, code + "\n")
        marker = parse_marker(lines, i)
        if marker:
            apply_marker(block, marker)
        blocks.append(block)
        i = j + 1
    used = {b.marker_line for b in blocks}
    for n, text in enumerate(lines, 1):
        if MARKER.search(text) and n not in used:
            raise DocError(f"{shown}:{n}: docs-test marker not followed by a code block")
    return blocks


def validate(blocks):
    """Markers that cannot mean anything are errors, not silent skips."""
    files = {}
    for b in blocks:
        if "skip" in b.flags:
            continue
        if "file" in b.opts:
            if b.opts["file"] in files:
                raise DocError(f"{b.marker_loc}: file={b.opts['file']} already written by "
                               f"{files[b.opts['file']].loc}")
            files[b.opts["file"]] = b
        if "run" in b.flags and not (b.is_shell or (b.is_cpp and (
                {"statements", "gtest"} & b.flags or MAIN.search(b.code)))):
            raise DocError(f"{b.marker_loc}: `run` needs a shell block, a program or `statements`")
        if "config" in b.flags and b.lang not in YAML_LANGS:
            raise DocError(f"{b.marker_loc}: `config` applies to YAML blocks only")
        if "gtest" in b.flags and "statements" in b.flags:
            raise DocError(f"{b.marker_loc}: a `gtest` block is a whole test file, not statements")
        if not b.is_cpp and ({"statements", "gtest"} & b.flags or "link" in b.opts):
            raise DocError(f"{b.marker_loc}: statements/gtest/link apply to C++ blocks only")
    for b in blocks:
        for name in b.opts.get("link", "").split(","):
            if name and name not in files:
                raise DocError(f"{b.marker_loc}: link={name}: no block of this page has file={name}")
    return files


class Checker:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work)
        self.base = [args.cxx, "-std=c++20", "-Wall", "-Wextra", "-Werror", "-pthread",
                     "-I" + args.include] + args.cxxflag
        self.lib = Path(args.lib).resolve()
        self.failures = []
        self.lock = threading.Lock()
        self.counts = {"compiled": 0, "run": 0, "configs loaded": 0, "skipped": 0,
                       "shell not run": 0}

    # -- the implicit prelude, precompiled once -----------------------------
    def build_prelude(self):
        header = self.work / "docs_prelude.h"
        header.write_text("".join(f"#include <{h}>\n" for h in PRELUDE_HEADERS))
        cmd = self.base + FRAGMENT_LENIENCY + ["-x", "c++-header", str(header),
                                               "-o", str(header) + ".gch"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:  # still usable as a plain header; say why it is slow
            print("note: precompiling the prelude failed:\n" + res.stderr, file=sys.stderr)
        self.prelude_header = header

    # -- sources ---------------------------------------------------------------
    def line_directive(self, b, line):
        return f'#line {line} "{b.shown}"\n'

    def fragment_source(self, b):
        src = ""
        if b.prelude.strip():
            src += self.line_directive(b, b.marker_line + 1) + b.prelude + "\n"
        if "statements" in b.flags:
            src += "int docs_block() {\n" + self.line_directive(b, b.line + 1) + b.code
            src += "return 0;\n}\n"
            if "run" in b.flags:
                src += "int main() { return docs_block(); }\n"
        else:
            src += self.line_directive(b, b.line + 1) + b.code
        return src

    def project_dir(self, b):
        return self.work / re.sub(r"[^\w.-]", "_", b.shown)

    def compile(self, b, src, out, extra, link=False):
        """Compiles `src` for block `b`: syntax only (out None), to an object,
        or (link) to a program with the page's `link=` objects and liberrand."""
        d = self.project_dir(b)
        source = d / "_blocks" / f"L{b.line}.cc"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(src)
        cmd = self.base + extra + ["-I" + str(d), str(source)]
        if out is None:
            cmd.append("-fsyntax-only")
        elif not link:
            cmd += ["-c", "-o", str(out)]
        else:
            cmd += [str(self.object_of(b, n)) for n in b.opts.get("link", "").split(",") if n]
            libs = [self.lib]
            if "gtest" in b.flags:
                libs = [Path(p).resolve() for p in self.args.testing_lib if p] + libs
            for lib in libs:
                cmd += [str(lib), "-Wl,-rpath," + str(lib.parent)]
            if "gtest" in b.flags:
                cmd += ["-lgtest_main", "-lgtest"]
            cmd += ["-o", str(out)]
        return self.run_cmd(b, cmd, "does not build" if link else "does not compile", 300)

    def object_of(self, b, name):
        return self.project_dir(b) / "_objects" / (re.sub(r"[^\w.-]", "_", name) + ".o")

    def run_cmd(self, b, cmd, what, timeout, cwd=None, env=None):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                                 env=env)
        except subprocess.TimeoutExpired:
            self.failures.append((b, f"{what}: timed out after {timeout} s"))
            return False
        if res.returncode != 0:
            out = (res.stdout + res.stderr).strip()
            self.failures.append((b, f"{what} (exit {res.returncode}):\n{out}"))
            return False
        return True

    # -- the kinds of block ----------------------------------------------------
    def check_file(self, b):
        name = b.opts["file"]
        if name.endswith((".h", ".hpp")):
            src = f'#include "{name}"\n'
            return self.compile(b, src, None, []) and self.count("compiled")
        if b.is_cpp or name.endswith((".cc", ".cpp")):
            obj = self.object_of(b, name)
            obj.parent.mkdir(parents=True, exist_ok=True)
            src = self.line_directive(b, b.line + 1) + b.code
            return self.compile(b, src, obj, []) and self.count("compiled")
        return True

    def check_cpp(self, b):
        gtest = "gtest" in b.flags
        program = gtest or (bool(MAIN.search(b.code)) and "statements" not in b.flags)
        src = self.fragment_source(b)
        extra = [] if program else FRAGMENT_LENIENCY + ["-include", str(self.prelude_header)]
        if not (program or "run" in b.flags):
            return self.compile(b, src, None, extra) and self.count("compiled")
        exe = self.project_dir(b) / "_bin" / f"L{b.line}"
        exe.parent.mkdir(parents=True, exist_ok=True)
        if not self.compile(b, src, exe, extra, link=True):
            return False
        self.count("compiled")
        if "run" not in b.flags and not gtest:
            return True
        with tempfile.TemporaryDirectory(dir=self.work) as tmp:
            ok = self.run_cmd(b, [str(exe)], "fails when run", self.timeout(b), cwd=tmp)
        return ok and self.count("run")

    def check_config(self, b):
        """A YAML block marked `config` is a whole errand config file: the
        worker's own loader must accept it (`errand cron -C` loads it all)."""
        with tempfile.TemporaryDirectory(dir=self.work) as tmp:
            (Path(tmp) / "errand.yml").write_text(b.code)
            ok = self.run_cmd(b, [str(self.work / "bin" / "errand"), "cron", "-C", "errand.yml"],
                              "is not a valid errand config", 60, cwd=tmp)
        return ok and self.count("configs loaded")

    def check_shell(self, b, files):
        if "run" not in b.flags:
            self.count("shell not run")
            return True
        with tempfile.TemporaryDirectory(dir=self.work) as tmp:
            for name, fb in files.items():
                target = Path(tmp) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(fb.code)
            env = dict(os.environ)
            env["PATH"] = str(self.work / "bin") + os.pathsep + env.get("PATH", "")
            script = Path(tmp) / "_block.sh"
            script.write_text(b.code)
            ok = self.run_cmd(b, ["bash", "-e", "-o", "pipefail", str(script)], "fails when run",
                              self.timeout(b), cwd=tmp, env=env)
        return ok and self.count("run")

    def timeout(self, b):
        return int(b.opts.get("timeout", 60))

    def count(self, what):
        with self.lock:
            self.counts[what] += 1
        return True

    # -- driver -----------------------------------------------------------------
    def write_project(self, blocks, files):
        """The page's `file=` blocks, written afresh into its project dir."""
        d = self.project_dir(blocks[0])
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        for name, fb in files.items():
            target = d / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(self.line_directive(fb, fb.line + 1) + fb.code
                              if fb.is_cpp else fb.code)

    def plan(self, blocks, files, first, second):
        """Queues each block's check: project files first, then the rest."""
        for b in blocks:
            if "skip" in b.flags:
                self.count("skipped")
                continue
            if "file" in b.opts:
                first.append((self.check_file, b))
            if "config" in b.flags:
                second.append((self.check_config, b))
            elif b.is_cpp and ("file" not in b.opts or MAIN.search(b.code)):
                second.append((self.check_cpp, b))
            elif b.is_shell:
                second.append((lambda blk, f=files: self.check_shell(blk, f), b))

    def check(self, pages):
        (self.work / "bin").mkdir(parents=True, exist_ok=True)
        link = self.work / "bin" / "errand"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(Path(self.args.errand).resolve())
        self.build_prelude()
        first, second = [], []
        for blocks, files in pages:
            if blocks:
                self.write_project(blocks, files)
                self.plan(blocks, files, first, second)
        with concurrent.futures.ThreadPoolExecutor(max(1, self.args.jobs)) as pool:
            for stage in (first, second):
                list(pool.map(lambda job: job[0](job[1]), stage))
        return not self.failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--include", required=True, help="errand's include/ directory")
    parser.add_argument("--lib", required=True, help="the built liberrand.so")
    parser.add_argument("--errand", required=True, help="the built errand command")
    parser.add_argument("--cxx", default="g++")
    parser.add_argument("--testing-lib", action="append", default=[],
                        help="a library linked into `gtest` blocks (errand_testing); may be empty")
    parser.add_argument("--cxxflag", action="append", default=[],
                        help="one more compiler flag (e.g. the build's -fsanitize=...)")
    parser.add_argument("--work", default=None, help="scratch directory (default: a temp dir)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("docs", nargs="*")
    args = parser.parse_args()
    root = Path(args.source_dir).resolve()
    docs = [Path(d).resolve() for d in args.docs] or (
        [root / "README.md", root / "examples" / "README.md"] + sorted((root / "docs").glob("*.md")))
    for what, path in (("--lib", args.lib), ("--errand", args.errand)):
        if path and not Path(path).exists():
            print(f"check_docs: {what} {path} does not exist (build errand first)", file=sys.stderr)
            return 2
    missing = [str(d) for d in docs if not d.is_file()]
    if missing:
        print("check_docs: no such page: " + ", ".join(missing), file=sys.stderr)
        return 2
    scratch = None
    if args.work is None:
        scratch = tempfile.TemporaryDirectory(prefix="check_docs.")
        args.work = scratch.name
    pages = []
    try:
        for doc in docs:
            shown = os.path.relpath(doc, root) if doc.is_relative_to(root) else str(doc)
            blocks = parse_doc(doc, shown)
            pages.append((blocks, validate(blocks)))
    except DocError as e:
        print(f"{e}", file=sys.stderr)
        return 1
    checker = Checker(args)
    ok = checker.check(pages)
    for b, message in sorted(checker.failures, key=lambda f: (f[0].shown, f[0].line)):
        print(f"{b.loc}: {b.lang} block {message}\n", file=sys.stderr)
    summary = ", ".join(f"{n} {what}" for what, n in checker.counts.items())
    print(f"{len(docs)} pages: {summary}; {len(checker.failures)} failed")
    if scratch:
        scratch.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
