#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a tiny "kernel" that QEMU boots with -kernel like a bzImage.

Its setup code, entered in real mode by QEMU's Linux loader, writes
MARKER to the first serial port (0x3f8) and then triple-faults (int3 with
an IDT limit of 0), which ends QEMU when it runs with -no-reboot.  So a
run shows, without a real kernel, that QEMU accepted every argument, that
the guest ran, and that its console reached the log.

usage: make-test-kernel.py OUT MARKER
"""
import struct
import sys

SETUP_SECTS = 1  # the setup is (1 + 1) * 512 bytes


def kernel(marker: bytes) -> bytes:
    setup = bytearray((SETUP_SECTS + 1) * 512)
    setup[0x1F1] = SETUP_SECTS
    struct.pack_into("<H", setup, 0x1FE, 0xAA55)
    # QEMU's loader jumps to offset 0x200 of the setup with CS = real
    # segment + 0x20 and DS = SS = the real segment (offset 0 of the setup).
    code_at = 0x280
    setup[0x200:0x202] = bytes([0xEB, code_at - 0x202])  # jmp short
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x0206)  # boot protocol 2.06
    setup[0x211] = 0x01  # LOADED_HIGH: a bzImage
    struct.pack_into("<I", setup, 0x214, 0x100000)  # code32_start
    struct.pack_into("<I", setup, 0x22C, 0x37FFFFFF)  # initrd_addr_max
    struct.pack_into("<I", setup, 0x238, 2047)  # cmdline_size
    message_at, idt_at = 0x300, 0x340
    code = bytes([
        0xFA,                          # cli
        0xBA, 0xF8, 0x03,              # mov dx, 0x3f8
        0xBE]) + struct.pack("<H", message_at) + bytes([  # mov si, message
        0xAC,                          # loop: lodsb
        0x84, 0xC0,                    # test al, al
        0x74, 0x03,                    # jz done
        0xEE,                          # out dx, al
        0xEB, 0xF8,                    # jmp loop
        0x0F, 0x01, 0x1E]) + struct.pack("<H", idt_at) + bytes([  # done: lidt [idt]
        0xCC,                          # int3: #GP, #DF, triple fault
        0xF4,                          # hlt
    ])
    setup[code_at:code_at + len(code)] = code
    text = marker + b"\n\0"
    assert message_at + len(text) <= idt_at
    setup[message_at:message_at + len(text)] = text
    # idt_at: 6 zero bytes, an IDT of limit 0 at 0
    return bytes(setup) + bytes([0xF4]) * 512


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as f:
        f.write(kernel(sys.argv[2].encode()))
