/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vhost-vsock.h"

int vmapp_vhost_vsock_open(const char *device, uint32_t first, uint32_t *ret_cid,
			   char *ret_error, size_t error_size)
{
	int fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;
		snprintf(ret_error, error_size, "%s: %s", device, strerror(-r));
		return r;
	}
	if (first < 3)
		first = 3;
	for (uint32_t i = 0; i < VMAPP_VHOST_VSOCK_TRIES; i++) {
		uint32_t cid = first + i;
		/* 0xffffffff is VMADDR_CID_ANY; the kernel also refuses the
		 * CIDs above it in 64 bits. */
		if (cid < first || cid == UINT32_MAX)
			break;
		uint64_t value = cid;
		if (ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &value) == 0) {
			*ret_cid = cid;
			return fd;
		}
		if (errno != EADDRINUSE) {
			int r = -errno;
			snprintf(ret_error, error_size, "%s: can not set guest CID %u: %s", device,
				 cid, strerror(-r));
			close(fd);
			return r;
		}
	}
	snprintf(ret_error, error_size, "%s: no free guest CID from %u to %u", device, first,
		 first + VMAPP_VHOST_VSOCK_TRIES - 1);
	close(fd);
	return -EADDRINUSE;
}
