/* SPDX-License-Identifier: MIT */
/*
 * Claiming a guest CID on the kernel's vhost-vsock (vmspawn/vhost-vsock.h):
 * the errors, which are what a machine without the device (these build
 * machines) shows at a VM's start; and, where /dev/vhost-vsock opens,
 * the claim itself: two VMs get two CIDs, a CID held is skipped, and it
 * is free again once its fd is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "vhost-vsock.h"

static void test_errors(void)
{
	char error[512];
	uint32_t cid = 0;
	int r;

	r = vmapp_vhost_vsock_open("/nonexistent/vhost-vsock", 3, &cid, error, sizeof(error));
	CHECK(r == -ENOENT, "a missing device: %d", r);
	CHECK(strcmp(error, "/nonexistent/vhost-vsock: No such file or directory") == 0, "'%s'",
	      error);
	/* A device that opens but is no vhost-vsock. */
	r = vmapp_vhost_vsock_open("/dev/null", 3, &cid, error, sizeof(error));
	CHECK(r == -ENOTTY, "/dev/null: %d", r);
	CHECK(strcmp(error, "/dev/null: can not set guest CID 3: Inappropriate ioctl for device") ==
	      0, "'%s'", error);
	/* 0, 1 and 2 are never a guest's: the first tried is 3. */
	r = vmapp_vhost_vsock_open("/dev/null", 0, &cid, error, sizeof(error));
	CHECK(r == -ENOTTY && strstr(error, "guest CID 3:"), "first 0: '%s'", error);
	CHECK(cid == 0, "a CID came back on failure: %u", cid);
}

static void test_claim(void)
{
	char error[512];
	uint32_t a = 0, b = 0, c = 0;
	int fa, fb, fc;

	fa = vmapp_vhost_vsock_open(VMAPP_VHOST_VSOCK_DEVICE, 1000, &a, error, sizeof(error));
	if (fa < 0) {
		printf("no claim test: %s\n", error);
		return;
	}
	fb = vmapp_vhost_vsock_open(VMAPP_VHOST_VSOCK_DEVICE, a, &b, error, sizeof(error));
	CHECK(fb >= 0 && b > a, "a second claim from %u: %s (CID %u)", a, error, b);
	close(fa);
	fc = vmapp_vhost_vsock_open(VMAPP_VHOST_VSOCK_DEVICE, a, &c, error, sizeof(error));
	CHECK(fc >= 0 && c == a, "CID %u not free again after close: %s (got %u)", a, error, c);
	CHECK(fcntl(fc, F_GETFD) == FD_CLOEXEC, "not CLOEXEC");
	if (fb >= 0)
		close(fb);
	if (fc >= 0)
		close(fc);
}

int main(void)
{
	test_errors();
	test_claim();
	return check_exit_code();
}
