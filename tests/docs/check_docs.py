#!/usr/bin/env python3
"""Compiles every C++ code block of the project's Markdown files (README.md,
docs/, examples/) with warnings as errors, and runs the shell blocks marked
safe to run. New .md files are picked up at each run; a block that does not
compile fails the test, naming the file and line.

A block is compiled as a translation unit that starts with
`#include <errand/errand.h>`. An HTML comment right before the fence (it does
not show on the rendered page) tells how to treat a block, directives
separated by ';':

  <!-- doc-test: fragment -->             statements: compiled as a function body
  <!-- doc-test: given=errand::Client& client -->
                                          a fragment that uses these parameters
  <!-- doc-test: include="job.h",<iostream> -->
                                          #include lines put before the block (for fragments)
  <!-- doc-test: id=welcome -->           names the block...
  <!-- doc-test: uses=welcome -->         ...so a later one in the same file is compiled after it
  <!-- doc-test: file=myjobs/job.h -->    written to that path (other blocks may
                                          #include it); a .cc/.cpp file is also compiled,
                                          other files (yaml) are there for shell blocks
  <!-- doc-test: run -->                  (sh) run with bash -e in a scratch directory
                                          holding the file= blocks, `errand` on PATH
  <!-- doc-test: skip=why -->             not compiled or run (say why)

Usage: check_docs.py --source DIR --work DIR --bin DIR --cxx CXX [-- FLAGS...]
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

CPP = {"cpp", "c++", "cc", "cxx"}
SH = {"sh", "bash", "shell", "console"}
KEYS = {"fragment", "given", "include", "id", "uses", "file", "run", "skip"}
# Sketches may leave a parameter unused ("// ... render and send").
QUIET = ["-Wno-unused-parameter", "-Wno-unused-variable", "-Wno-unused-but-set-variable"]


class Block:
    def __init__(self, md, line, lang, text, directives):
        self.md, self.line, self.lang, self.text = md, line, lang, text
        self.d = directives

    def where(self):
        return f"{self.md}:{self.line}"


def markdown_files(src):
    found = []
    for top in ["."] + [d for d in ("docs", "examples") if os.path.isdir(os.path.join(src, d))]:
        root = os.path.join(src, top)
        if top == ".":
            names = [n for n in os.listdir(root) if n.endswith(".md")]
            found += [n for n in names if os.path.isfile(os.path.join(root, n))]
            continue
        for dirpath, _, files in os.walk(root):
            found += [os.path.relpath(os.path.join(dirpath, f), src) for f in files if f.endswith(".md")]
    return sorted(found)


def parse_directives(comment, where):
    out = {}
    for part in comment.split(";"):
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in KEYS:
            raise ValueError(f"{where}: unknown doc-test directive '{key}' (known: {sorted(KEYS)})")
        out[key] = value.strip()
    return out


def blocks_of(src, md):
    lines = open(os.path.join(src, md), encoding="utf-8").read().split("\n")
    blocks, pending, i = [], None, 0
    while i < len(lines):
        m = re.match(r"\s*<!--\s*doc-test:(.*?)-->\s*$", lines[i])
        if m:
            pending = parse_directives(m.group(1), f"{md}:{i + 1}")
            i += 1
            continue
        fence = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", lines[i])
        if not fence:
            if lines[i].strip():
                pending = None  # a directive applies to the block right after it
            i += 1
            continue
        indent, marker, lang = fence.group(1), fence.group(2), fence.group(3).lower()
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(marker):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        blocks.append(Block(md, i + 2, lang, "\n".join(body) + "\n", pending or {}))
        pending, i = None, j + 1
    return blocks


def translation_unit(block, named):
    parts = ["#include <errand/errand.h>\n"]
    for header in filter(None, (h.strip() for h in block.d.get("include", "").split(","))):
        parts.append(f"#include {header}\n")
    for name in filter(None, (n.strip() for n in block.d.get("uses", "").split(","))):
        if name not in named:
            raise ValueError(f"{block.where()}: uses={name}, but no earlier block has id={name}")
        used = named[name]
        parts.append(f'#line {used.line} "{used.md}"\n{used.text}')
    text = f'#line {block.line} "{block.md}"\n{block.text}'
    if "fragment" in block.d or "given" in block.d:
        fn = f"errand_doc_block_{block.line}"
        text = (f"void {fn}({block.d.get('given', '')});\n"
                f"void {fn}({block.d.get('given', '')}) {{\n{text}}}\n")
    parts.append(text)
    return "".join(parts)


def compile_one(args, path, where):
    cmd = [args.cxx, "-std=c++20", "-fsyntax-only", f"-I{os.path.join(args.source, 'include')}",
           f"-I{os.path.dirname(path)}", "-Werror"] + args.flags + QUIET + [path]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(path))
    return where, r.returncode, r.stdout + r.stderr


def check_file(args, md, jobs, scripts):
    blocks = blocks_of(args.source, md)
    slug = re.sub(r"[^\w]+", "_", md)
    work = os.path.join(args.work, slug)
    os.makedirs(work, exist_ok=True)
    named = {}
    for b in blocks:
        if "skip" in b.d:
            if not b.d["skip"]:
                raise ValueError(f"{b.where()}: skip needs a reason (skip=why)")
            print(f"skipped  {b.where()}: {b.d['skip']}")
            continue
        if "file" in b.d:
            path = os.path.join(work, b.d["file"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            content = b.text
            if b.lang in CPP:
                content = f'#line {b.line} "{b.md}"\n{b.text}'
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
            if b.lang in CPP and os.path.splitext(path)[1] in (".cc", ".cpp", ".cxx"):
                jobs.append((path, b.where()))
        elif b.lang in CPP:
            path = os.path.join(work, f"block_{b.line}.cc")
            with open(path, "w", encoding="utf-8") as f:
                f.write(translation_unit(b, named))
            jobs.append((path, b.where()))
        elif b.lang in SH and "run" in b.d and not args.no_run:
            scripts.append((work, b))
        if "id" in b.d:
            named[b.d["id"]] = b


def run_script(args, work, block):
    env = dict(os.environ)
    env["PATH"] = args.bin + os.pathsep + env.get("PATH", "")
    # As if errand were installed: the compiler finds its headers and library.
    for var, value in (("CPATH", os.path.join(args.source, "include")), ("LIBRARY_PATH", args.bin),
                       ("LD_LIBRARY_PATH", args.bin)):
        env[var] = value + (os.pathsep + env[var] if env.get(var) else "")
    try:
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=work, env=env,
                           capture_output=True, text=True, timeout=300)
        return r.returncode, r.stdout + r.stderr
    except subprocess.TimeoutExpired:
        return 124, "timed out after 300 s"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--cxx", required=True)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--no-run", action="store_true", help="compile only; run no shell block")
    p.add_argument("flags", nargs="*")
    args = p.parse_args()
    args.source, args.work, args.bin = (os.path.abspath(x) for x in (args.source, args.work, args.bin))
    shutil.rmtree(args.work, ignore_errors=True)
    jobs, scripts = [], []
    try:
        for md in markdown_files(args.source):
            check_file(args, md, jobs, scripts)
    except ValueError as e:
        print(f"FAIL: {e}")
        return 1
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for where, rc, out in pool.map(lambda j: compile_one(args, *j), jobs):
            if rc == 0:
                print(f"compiled {where}")
            else:
                failed += 1
                print(f"FAIL: {where} does not compile:\n{out}")
    for work, block in scripts:
        rc, out = run_script(args, work, block)
        if rc == 0:
            print(f"ran      {block.where()}")
        else:
            failed += 1
            print(f"FAIL: {block.where()} exited {rc}:\n{block.text}{out}")
    print(f"{len(jobs) + len(scripts) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
