/* SPDX-License-Identifier: MIT */
/*
 * Which accelerator a VM gets.  Opening /dev/kvm is not proof that KVM
 * works: on some hosts (a PVM host module, nested setups) it opens and
 * creates VMs, and even runs a few real-mode instructions, but kernels
 * fail or hang.  So "auto" and "kvm" run a probe guest through the KVM
 * API that does what a kernel does first (64-bit long mode with paging,
 * an exception and int3 through its own IDT, iretq, hlt), and believe KVM
 * only when every step comes back as it should (accel.c).
 */
#ifndef VMAPP_ACCEL_H
#define VMAPP_ACCEL_H

#include <stddef.h>

#include "vmdef.h"

#define VMAPP_KVM_DEVICE "/dev/kvm"
/* A working KVM runs the probe guest in well under a millisecond; the
 * process around it takes a few (about 15 ms here).  A hang is cut off at
 * this. */
#define VMAPP_KVM_PROBE_TIMEOUT_MS 2000u

/*
 * Runs the probe guest in a child process that is killed after
 * timeout_ms, so a hang in KVM_RUN costs the caller timeout_ms and no
 * more (plus at most a second to reap the child).  Returns 0 when KVM ran
 * it exactly (four port writes in order, then a halt), else a negative
 * errno (-ENOENT, -EACCES: no device; -ETIMEDOUT: no answer; -ENODEV:
 * the guest did not run right) and why in ret_reason, e.g. "KVM_RUN did
 * not complete the probe guest: step 3 of 5 (...) ended in
 * KVM_EXIT_INTERNAL_ERROR (suberror 1: emulation failure) at rip 0x6006".
 * ret_reason (always NUL-terminated) also says what worked on success.
 */
int vmapp_kvm_probe(const char *device, unsigned timeout_ms, char *ret_reason, size_t size);

/*
 * Decides the accelerator for the requested setting:
 * - tcg: TCG, no probe.
 * - kvm: KVM if the probe passes; else -ENODEV and a message that names
 *   the accel setting and the reason.
 * - auto: KVM if the probe passes; else TCG, 0, and a warning in
 *   ret_message that says why (the caller logs it).  Empty when there is
 *   nothing to say.
 * device and timeout_ms as for vmapp_kvm_probe() (tests point device
 * elsewhere).
 */
int vmapp_accel_resolve(enum vmapp_accel requested, const char *device, unsigned timeout_ms,
			enum vmapp_accel *ret_accel, char *ret_message, size_t message_size);

#endif
