#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden checks of the QEMU command line (vmspawn/qemu-argv.c).

    check-argv.py golden PRINT_ARGV EXPECTED [ARG...]
        print-argv ARG... must print EXPECTED exactly.
    check-argv.py toggles PRINT_ARGV TOGGLES
        For each block of TOGGLES, the argv with the block's arguments
        against the base argv (no arguments) must differ by exactly the
        block's + and - lines.
    check-argv.py rejects PRINT_ARGV REJECTS
        For each block of REJECTS, print-argv must exit 1 with exactly the
        block's error and print nothing on stdout.

In TOGGLES and REJECTS, a block starts with "= ARG..." (split at spaces,
then given to print-argv, which undoes \\n, \\r, \\t, \\\\ and \\xHH in values:
write a space as \\x20).  In a toggle block, "+ OPTION VALUE" and "- OPTION
VALUE" are the options (with their values, joined by one space) the toggle
adds and removes; a block with neither changes nothing.  In a reject
block, "! MESSAGE" is the error.  Lines starting with # and blank lines
are ignored.

When a change to the command line is on purpose, regenerate the golden
file and review the diff:

    build/tests/vmspawn/print-argv > tests/vmspawn/base.argv
"""
import collections
import difflib
import subprocess
import sys


def run(print_argv, args):
    return subprocess.run([print_argv] + args, capture_output=True, text=True,
                          timeout=30)


def groups(lines):
    """argv words -> options with their values: '-m 2048M'.  A word that
    starts with '-' starts an option; the words after it are its values."""
    out = []
    for word in lines[1:]:
        if word.startswith("-") or not out:
            out.append(word)
        else:
            out[-1] += " " + word
    return out


def blocks(path, kinds):
    """Yields (line number, args, {kind: [lines]})."""
    current = None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            kind, _, rest = line.partition(" ")
            if kind == "=":
                if current:
                    yield current
                current = (n, rest.split(), {k: [] for k in kinds})
            elif current and kind in kinds:
                current[2][kind].append(rest)
            else:
                sys.exit(f"{path}:{n}: expected '= ARGS' or one of {kinds}")
    if current:
        yield current


def golden(print_argv, expected, args):
    r = run(print_argv, args)
    if r.returncode != 0:
        print(f"print-argv {args} failed ({r.returncode}): {r.stderr}")
        return 1
    want = open(expected).read()
    if r.stdout != want:
        sys.stdout.writelines(difflib.unified_diff(
            want.splitlines(True), r.stdout.splitlines(True), expected, "print-argv"))
        return 1
    print(f"{expected}: {len(want.splitlines())} words match")
    return 0


def toggles(print_argv, path):
    base = run(print_argv, [])
    if base.returncode != 0:
        print(f"base failed: {base.stderr}")
        return 1
    base_groups = collections.Counter(groups(base.stdout.splitlines()))
    failures = 0
    for n, args, want in blocks(path, ("+", "-")):
        r = run(print_argv, args)
        if r.returncode != 0:
            print(f"{path}:{n}: {args}: print-argv failed: {r.stderr.strip()}")
            failures += 1
            continue
        got = collections.Counter(groups(r.stdout.splitlines()))
        added = sorted((got - base_groups).elements())
        removed = sorted((base_groups - got).elements())
        if added != sorted(want["+"]) or removed != sorted(want["-"]):
            failures += 1
            print(f"{path}:{n}: {' '.join(args)}")
            for g in sorted(set(added) ^ set(want["+"])):
                print(f"  added:   {'expected, missing' if g in want['+'] else 'unexpected'}: {g}")
            for g in sorted(set(removed) ^ set(want["-"])):
                print(f"  removed: {'expected, missing' if g in want['-'] else 'unexpected'}: {g}")
        else:
            print(f"ok {' '.join(args)}: +{len(added)} -{len(removed)}")
    return 1 if failures else 0


def rejects(print_argv, path):
    failures = 0
    for n, args, want in blocks(path, ("!",)):
        r = run(print_argv, args)
        expected = "".join(f"error: {m}\n" for m in want["!"])
        if r.returncode != 1 or r.stdout or r.stderr != expected:
            failures += 1
            print(f"{path}:{n}: {' '.join(args)}\n  exit {r.returncode}, stdout {r.stdout[:80]!r}\n"
                  f"  got      {r.stderr!r}\n  expected {expected!r}")
        else:
            print(f"ok {' '.join(args)}: {want['!'][0]}")
    return 1 if failures else 0


def main():
    mode, print_argv = sys.argv[1], sys.argv[2]
    if mode == "golden":
        return golden(print_argv, sys.argv[3], sys.argv[4:])
    if mode == "toggles":
        return toggles(print_argv, sys.argv[3])
    if mode == "rejects":
        return rejects(print_argv, sys.argv[3])
    sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main())
