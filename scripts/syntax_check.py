#!/usr/bin/env python3
"""Runs the compile commands of a build directory with -fsyntax-only.

Clang's thread-safety analysis runs before code generation, so checking the
syntax of every translation unit proves that the whole tree passes
-Werror=thread-safety at a fraction of the cost of compiling it
(scripts/sanitize.sh tsa). Prints each failing unit's diagnostics; exits 1 if
any unit fails.

Usage: [EXTRA_FLAGS=...] syntax_check.py BUILD_DIR [JOBS [PATH_PART...]]
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys


def syntax_only(entry):
    args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    # Drop the compiler launcher (ccache) and the output: nothing is written.
    if os.path.basename(args[0]) == "ccache":
        args = args[1:]
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD"):
            continue
        out.append(a)
    extra = shlex.split(os.environ.get("EXTRA_FLAGS", ""))
    proc = subprocess.run(out + extra + ["-fsyntax-only"], cwd=entry["directory"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return entry["file"], proc.returncode, proc.stdout


def main():
    build_dir = sys.argv[1]
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    only = sys.argv[3:]  # Optional: check only the files whose path contains one of these.
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        entries = [e for e in json.load(f) if not only or any(o in e["file"] for o in only)]
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for name, rc, output in pool.map(syntax_only, entries):
            if output:
                sys.stdout.write(output)
                sys.stdout.flush()
            if rc != 0:
                failed += 1
                print(f"FAILED: {name}", flush=True)
    print(f"syntax check: {len(entries) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
