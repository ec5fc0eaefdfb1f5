/* SPDX-License-Identifier: MIT */
/*
 * The accelerator choice.  The KVM probe's result on this machine is
 * whatever it is (on hosts where /dev/kvm opens but guests can not run it
 * must fail): the test accepts either outcome, reports it, and checks that
 * it came back in bounded time with a reason, and that the decisions for
 * auto, kvm and tcg follow from it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accel.h"
#include "check.h"

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The probe, resolve for each setting, all in agreement. */
static void test_device(const char *device)
{
	char reason[512], message[512];
	enum vmapp_accel accel = VMAPP_ACCEL_AUTO;
	long start = now_ms(), took;
	int r, rr;

	memset(reason, 'x', sizeof(reason));
	r = vmapp_kvm_probe(device, VMAPP_KVM_PROBE_TIMEOUT_MS, reason, sizeof(reason));
	took = now_ms() - start;
	CHECK(memchr(reason, '\0', sizeof(reason)) != NULL, "reason not terminated");
	reason[sizeof(reason) - 1] = '\0';
	printf("KVM probe on %s: %s in %ld ms: %s\n", device, r == 0 ? "works" : "does not work",
	       took, reason);
	CHECK(r <= 0, "probe returned %d", r);
	CHECK(reason[0] != '\0', "no reason");
	/* The timeout, the reap of a killed child (1 s at most), margin. */
	CHECK(took < (long)VMAPP_KVM_PROBE_TIMEOUT_MS + 1500, "probe took %ld ms", took);

	rr = vmapp_accel_resolve(VMAPP_ACCEL_TCG, device, VMAPP_KVM_PROBE_TIMEOUT_MS, &accel,
				 message, sizeof(message));
	CHECK(rr == 0 && accel == VMAPP_ACCEL_TCG && message[0] == '\0', "tcg: %d %s", rr, message);

	accel = VMAPP_ACCEL_AUTO;
	rr = vmapp_accel_resolve(VMAPP_ACCEL_AUTO, device, VMAPP_KVM_PROBE_TIMEOUT_MS, &accel,
				 message, sizeof(message));
	CHECK(rr == 0, "auto returned %d", rr);
	if (r == 0) {
		CHECK(accel == VMAPP_ACCEL_KVM && message[0] == '\0', "auto: %d %s", accel, message);
	} else {
		printf("%s\n", message);
		CHECK(accel == VMAPP_ACCEL_TCG, "auto chose %d", accel);
		CHECK(strncmp(message, "accel = auto: KVM does not work here (", 38) == 0 &&
		      strstr(message, "using TCG"), "auto: %s", message);
	}

	accel = VMAPP_ACCEL_AUTO;
	rr = vmapp_accel_resolve(VMAPP_ACCEL_KVM, device, VMAPP_KVM_PROBE_TIMEOUT_MS, &accel,
				 message, sizeof(message));
	if (r == 0) {
		CHECK(rr == 0 && accel == VMAPP_ACCEL_KVM, "kvm: %d %s", rr, message);
	} else {
		printf("%s\n", message);
		CHECK(rr == -ENODEV, "kvm returned %d", rr);
		/* The message names the setting to change. */
		CHECK(strncmp(message, "accel = kvm, but KVM does not work here: ", 41) == 0 &&
		      strstr(message, "set accel = tcg"), "kvm: %s", message);
	}
}

int main(void)
{
	char reason[256];

	test_device(VMAPP_KVM_DEVICE);

	/* No device: said at once, without a child. */
	CHECK(vmapp_kvm_probe("/nonexistent/kvm", 1000, reason, sizeof(reason)) == -ENOENT, "enoent");
	CHECK(strcmp(reason, "can not open /nonexistent/kvm: No such file or directory") == 0, "%s",
	      reason);
	test_device("/nonexistent/kvm");

	/* Not a KVM device. */
	CHECK(vmapp_kvm_probe("/dev/null", 1000, reason, sizeof(reason)) < 0, "/dev/null works?");
	CHECK(strcmp(reason, "KVM_GET_API_VERSION on /dev/null failed: Inappropriate ioctl for "
			     "device (not a KVM device?)") == 0, "%s", reason);
	test_device("/dev/null");

	/* A probe that does not answer in time is killed: with no time at
	 * all, that is every probe. */
	{
		long start = now_ms(), took;
		int r = vmapp_kvm_probe("/dev/null", 0, reason, sizeof(reason));

		took = now_ms() - start;
		printf("probe with no time: %d in %ld ms: %s\n", r, took, reason);
		CHECK(r == -ETIMEDOUT, "returned %d", r);
		CHECK(strcmp(reason, "the KVM probe did not get to KVM_RUN within 0 ms") == 0, "%s",
		      reason);
		CHECK(took < 1500, "took %ld ms", took);
	}
	return check_exit_code();
}
