#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden checks for protocols/gen-tables.py.

    check-golden.py match GEN PREFIX XML EXPECTED_C EXPECTED_H
        Runs the generator into a temporary folder, with the output file
        names of the expected files (the .c includes the header by name),
        and fails with a unified diff when either output differs.

    check-golden.py reject GEN XML MESSAGE
        Passes only when the generator exits 1, says "XML: error: ..." with
        MESSAGE in it, and writes no output.  A crash (exit status other
        than 1, a traceback) fails, unlike a plain should_fail test.
"""

import difflib
import os
import subprocess
import sys
import tempfile


def run(gen, prefix, xmls, outdir, c_name, h_name):
    out_c = os.path.join(outdir, c_name)
    out_h = os.path.join(outdir, h_name)
    cmd = [sys.executable, gen, '--prefix', prefix,
           '--output-c', out_c, '--output-h', out_h] + xmls
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    return proc, out_c, out_h


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def match(gen, prefix, xml, expected_c, expected_h):
    with tempfile.TemporaryDirectory() as tmp:
        proc, out_c, out_h = run(gen, prefix, [xml], tmp,
                                 os.path.basename(expected_c),
                                 os.path.basename(expected_h))
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr)
            print('FAIL: generator exited %d on %s' % (proc.returncode, xml))
            return 1
        failed = False
        for expected, got in ((expected_c, out_c), (expected_h, out_h)):
            want = read(expected).splitlines(keepends=True)
            have = read(got).splitlines(keepends=True)
            if want != have:
                failed = True
                sys.stdout.writelines(difflib.unified_diff(
                    want, have, expected, 'generated ' + os.path.basename(got)))
        if failed:
            print('FAIL: generated tables differ from the golden files; if '
                  'the change is intended, regenerate them (see meson.build)')
            return 1
    print('ok: generated tables match the golden files')
    return 0


def reject(gen, xml, message):
    with tempfile.TemporaryDirectory() as tmp:
        proc, out_c, out_h = run(gen, 'rejected', [xml], tmp,
                                 'out.c', 'out.h')
        sys.stdout.write(proc.stderr)
        if proc.returncode != 1:
            print('FAIL: expected exit status 1, got %d' % proc.returncode)
            return 1
        prefix = '%s: error: ' % xml
        if not proc.stderr.startswith(prefix):
            print('FAIL: stderr does not start with "%s"' % prefix)
            return 1
        if message not in proc.stderr:
            print('FAIL: stderr does not mention "%s"' % message)
            return 1
        if os.path.exists(out_c) or os.path.exists(out_h):
            print('FAIL: output written despite the error')
            return 1
    print('ok: rejected')
    return 0


def main(argv):
    if len(argv) == 6 and argv[0] == 'match':
        return match(*argv[1:])
    if len(argv) == 4 and argv[0] == 'reject':
        return reject(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 99  # hard error in the test harness, not a test failure


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
