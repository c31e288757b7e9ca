#!/usr/bin/env python3
"""Proves that check_docs.py fails on broken blocks (ctest docs_code_blocks_selftest).

Writes a Markdown page mixing good blocks and broken ones (an undefined name,
an ignored [[nodiscard]] result, a header that is not self-contained, a
program and a shell block that fail when run, a statements block that
throws, a failing GoogleTest file, a config with an unknown key), runs the checker on it, and requires: exit status 1, every broken
block reported at its own FILE:LINE, no good block reported. Then checks that
malformed markers (an unknown directive, a skip without reason, `run` on a
fragment, a marker above prose) are refused with their location.

Usage: selftest.py CHECK_DOCS_ARGS... (the checker's --source-dir, --include,
--lib, --errand, ...; the page is appended).
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

# (name, marker or None, language, code, expected failure text or None)
BLOCKS = [
    ("good fragment", None, "cpp",
     "struct Ok {\n  void perform(int n) { (void)n; }\n};\n", None),
    ("undefined name", None, "cpp",
     "int broken() { return not_declared_anywhere; }\n", "does not compile"),
    ("ignored nodiscard", "statements", "cpp",
     'auto client = errand::Client::open("memory://selftest").value();\n'
     'client.enqueue("Anything", errand::Json::array({1}));\n', "does not compile"),
    ("good header", "file=jobs/good.h", "cpp",
     "#pragma once\n#include <string>\nstruct Good {\n  void perform(std::string s);\n};\n",
     None),
    ("header not self-contained", "file=jobs/bad.h", "cpp",
     "#pragma once\nstruct Bad {\n  void perform(std::string s);\n};\n", "does not compile"),
    ("good statements run", 'statements run\n#include "jobs/good.h"\n', "cpp",
     'auto client = errand::Client::open("sqlite://selftest.db").value();\n'
     'if (!client.enqueue("Good", errand::Json::array({"x"}))) return 1;\n', None),
    ("statements that throw", "statements run", "cpp",
     'auto client = errand::Client::open("nosuchscheme://x").value();\n', "fails when run"),
    ("program exiting 1", "run", "cpp",
     "#include <cstdio>\nint main() {\n  std::puts(\"failing on purpose\");\n  return 1;\n}\n",
     "fails when run"),
    ("good shell", "run", "sh", "errand version\nerrand enqueue Good '[\"x\"]'\n", None),
    ("failing shell", "run", "sh", "errand version\nerrand no-such-command\n", "fails when run"),
    ("shell not marked", None, "sh", "exit 1\n", None),
    ("good gtest", "gtest", "cpp",
     "#include <errand/errand.h>\n#include <gtest/gtest.h>\n\n"
     "TEST(Docs, Passes) { EXPECT_TRUE(errand::Client::open(\"memory://t\").ok()); }\n", None),
    ("failing gtest", "gtest", "cpp",
     "#include <gtest/gtest.h>\n\nTEST(Docs, Fails) { EXPECT_EQ(1, 2); }\n", "fails when run"),
    ("good config", "config", "yaml", "concurrency: 3\nqueues: [default]\n", None),
    ("config with a typo", "config", "yaml", "concurency: 3\n", "is not a valid errand config"),
]

BAD_MARKERS = [
    ("run on a fragment", "run", "cpp", "struct X {};\n", "`run` needs"),
    ("unknown directive", "statments", "cpp", "int x = 1;\n", "unknown docs-test directive"),
    ("skip without reason", "skip", "cpp", "int x = 1;\n", "needs a reason"),
]


def orphan_marker_refused(args, md):
    """A marker that governs no block (e.g. above a paragraph) is an error."""
    md.write_text("# page\n\n<!-- docs-test: statements -->\nSome prose.\n\n```cpp\nint x;\n```\n")
    res = run_checker(args, md)
    return res.returncode == 1 and "selftest.md:3: docs-test marker not followed" in res.stderr


def page(blocks):
    """The Markdown text and the line of each block's opening fence."""
    lines, fences = ["# self-test page", ""], []
    for name, marker, lang, code, _ in blocks:
        lines += [f"{name}:", ""]
        if marker is not None:
            lines += f"<!-- docs-test: {marker}\n-->".replace("\n\n", "\n").split("\n")
        fences.append(len(lines) + 1)
        lines += [f"```{lang}"] + code.rstrip("\n").split("\n") + ["```", ""]
    return "\n".join(lines) + "\n", fences


def run_checker(args, md):
    return subprocess.run([sys.executable, str(Path(__file__).with_name("check_docs.py"))] +
                          args + [str(md)], capture_output=True, text=True, timeout=600)


def main():
    args = sys.argv[1:]
    failed = []
    with tempfile.TemporaryDirectory(prefix="check_docs_selftest.") as tmp:
        md = Path(tmp) / "selftest.md"
        text, fences = page(BLOCKS)
        md.write_text(text)
        res = run_checker(args + ["--work", str(Path(tmp) / "work")], md)
        out = res.stdout + res.stderr
        if res.returncode != 1:
            failed.append(f"the checker exited {res.returncode}, not 1")
        reported = {int(m) for m in re.findall(r"selftest\.md:(\d+): \w+ block", out)}
        for (name, _, _, _, expected), line in zip(BLOCKS, fences):
            if expected is None and line in reported:
                failed.append(f"good block '{name}' (line {line}) was reported")
            if expected and not re.search(rf"selftest\.md:{line}: \w+ block {expected}", out):
                failed.append(f"broken block '{name}' (line {line}) not reported as '{expected}'")
        if "selftest.md:" not in out.split("not_declared_anywhere")[0]:
            failed.append("the compiler's message does not point into the page")
        for name, marker, lang, code, expected in BAD_MARKERS:
            text, fences = page([(name, marker, lang, code, expected)])
            md.write_text(text)
            res = run_checker(args, md)
            marker_line = fences[0] - 2
            if res.returncode != 1 or f"selftest.md:{marker_line}: " not in res.stderr \
                    or expected not in res.stderr:
                failed.append(f"marker '{name}' not refused at line {marker_line}:\n{res.stderr}")
        if not orphan_marker_refused(args, md):
            failed.append("a marker above prose, not a block, was not refused")
    if failed:
        print("checker output:\n" + out, file=sys.stderr)
        print("\n".join("FAIL: " + f for f in failed), file=sys.stderr)
        return 1
    print(f"ok: {len(BLOCKS)} blocks and {len(BAD_MARKERS)} bad markers judged as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
