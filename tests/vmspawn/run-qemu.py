#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs real QEMU with the argv vmspawn builds, under TCG.

The guest is make-test-kernel.py's: it writes a marker to the serial
console and triple-faults, which ends QEMU (-no-reboot).  Each run must
exit 0 with the marker in the console log: QEMU accepted every argument
(the sandbox, the devices, the escaped paths: every folder here has a
comma in its name), created every device, booted the kernel and wrote
the console where the argv says.

usage: run-qemu.py PRINT_ARGV MAKE_TEST_KERNEL
"""
import os
import shutil
import subprocess
import sys
import tempfile

MARKER = "VMSPAWN-OK"


def main():
    print_argv, make_kernel = sys.argv[1], sys.argv[2]
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("no qemu-system-x86_64")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory(prefix="vmapp-qemu-") as tmp:
        d = os.path.join(tmp, "a,b")  # every path below has a comma
        os.mkdir(d)
        subprocess.run([sys.executable, make_kernel, f"{d}/kernel", MARKER], check=True)
        with open(f"{d}/initrd", "wb") as f:
            f.write(bytes(512))
        with open(f"{d}/root.img", "wb") as f:
            f.truncate(1 << 20)
        os.mkdir(f"{d}/sh,are")
        base = [
            f"fact.qemu={qemu}",
            f"fact.kernel={d}/kernel",
            f"fact.initrd={d}/initrd",
            f"fact.root={d}/root.img",
            f"fact.console_log={d}/console.log",
            f"fact.transport_socket={d}/transport.sock",
        ]
        runs = [
            ("base", []),
            ("nat, duplex on none, 9p, qmp, 1 cpu, 256M",
             ["network=nat", "audio=duplex", "audio_backend=none", f"share={d}/sh,are",
              "cpus=1", "memory=256M", f"fact.qmp={d}/qmp.sock"]),
            ("playback into a WAV file", ["audio=playback", "audio_backend=wav",
                                          f"fact.wav={d}/out.wav"]),
        ]
        if shutil.which("qemu-img"):
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", f"{d}/root.qcow2", "16M"],
                           check=True)
            runs.append(("qcow2 root", [f"fact.root={d}/root.qcow2", "fact.root_format=qcow2"]))
        else:
            print("no qemu-img: the qcow2 run is left out")
        virtiofsd = "/usr/lib/qemu/virtiofsd"
        vfs = None
        if os.access(virtiofsd, os.X_OK) and os.geteuid() == 0:
            # Starting virtiofsd is not vmspawn's yet: its -o options take
            # no comma, so it serves a folder without one.
            plain = os.path.join(tmp, "virtiofs-share")
            os.mkdir(plain)
            vfs = subprocess.Popen([virtiofsd, f"--socket-path={d}/virtiofs.sock",
                                    "-o", f"source={plain}", "-o", "sandbox=chroot"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(100):
                if os.path.exists(f"{d}/virtiofs.sock"):
                    break
                subprocess.run(["sleep", "0.05"])
            runs.append(("virtiofs", [f"share={plain}", "share_mode=virtiofs",
                                      "fact.share_mode=virtiofs",
                                      f"fact.virtiofs={d}/virtiofs.sock"]))
        else:
            print("no virtiofsd, or not root: the virtiofs run is left out")

        try:
            for name, args in runs:
                failures += run(name, print_argv, base + args, d)
        finally:
            if vfs:
                vfs.kill()
                vfs.wait()
        if os.path.exists(f"{d}/out.wav"):
            with open(f"{d}/out.wav", "rb") as f:
                head = f.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                print(f"FAIL: {d}/out.wav is not a WAV file: {head!r}")
                failures += 1
    print(f"{len(runs) - failures} of {len(runs)} QEMU runs passed")
    return 1 if failures else 0


def run(name, print_argv, args, d):
    log = f"{d}/console.log"
    if os.path.exists(log):
        os.unlink(log)
    p = subprocess.run([print_argv] + args, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL {name}: print-argv: {p.stderr.strip()}")
        return 1
    argv = p.stdout.splitlines()
    try:
        q = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        print(f"FAIL {name}: QEMU did not end in 60 s")
        return 1
    console = open(log).read() if os.path.exists(log) else "(no console log)"
    if q.returncode != 0 or MARKER not in console:
        print(f"FAIL {name}: QEMU exited {q.returncode}\n  stderr: {q.stderr.strip()}\n"
              f"  console: {console!r}\n  argv: {' '.join(argv)}")
        return 1
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
