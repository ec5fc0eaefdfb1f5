/* SPDX-License-Identifier: MIT */
/*
 * The host kernel's vsock device for a VM: /dev/vhost-vsock opened by
 * vmapp, a guest CID claimed on it, and the fd handed to QEMU
 * (vhost-vsock-pci,vhostfd=).  Claiming the CID on our own fd first is
 * how a free one is found without a race: the kernel refuses a CID
 * another VM holds (EADDRINUSE), and ours stays held as long as the fd
 * is open, in QEMU or here.
 */
#ifndef VMAPP_VHOST_VSOCK_H
#define VMAPP_VHOST_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#define VMAPP_VHOST_VSOCK_DEVICE "/dev/vhost-vsock"

/*
 * Opens device (CLOEXEC) and claims the first free guest CID from first
 * on (3 and up; at most VMAPP_VHOST_VSOCK_TRIES tried).  The fd and the
 * CID in *ret_cid; else -errno with why in ret_error ("DEVICE: ...").
 */
#define VMAPP_VHOST_VSOCK_TRIES 4096
int vmapp_vhost_vsock_open(const char *device, uint32_t first, uint32_t *ret_cid,
			   char *ret_error, size_t error_size);

#endif
