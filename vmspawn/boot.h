/* SPDX-License-Identifier: MIT */
/*
 * Starting a VM: everything between its definition and a QEMU that runs
 * it.  The steps, each reported as it begins and named in an error:
 *
 *   image        the image folder has vmlinuz, initrd.img and root.img, or
 *                it is built there (build-image.sh; its lines are
 *                reported as progress; only an image named by name, never
 *                a folder given as a path)
 *   disk         the VM's own disk, a qcow2 overlay on the image's
 *                root.img in its state folder; made again (the old one
 *                kept as root.qcow2.old) when the image was rebuilt
 *   accelerator  KVM when a probe guest really runs, else TCG (accel.h)
 *   share        virtiofsd for a virtiofs share
 *   transport    vsock on the kernel's /dev/vhost-vsock where it opens,
 *                else virtio-serial (auto) or vmapp-vsockd (vsock); with
 *                vsock, the socket the agent's connection comes to
 *   qemu         the argv (qemu-argv.h), QEMU started (launch.h) with its
 *                output in vm.log, until its transport socket is there
 */
#ifndef VMAPP_BOOT_H
#define VMAPP_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "qemu-argv.h"
#include "vmdef.h"

struct vmapp_boot_config {
	const struct vmapp_vmdef *def;
	const struct vmapp_vm_paths *paths; /* has_runtime */
	const char *build_image; /* build-image.sh */
	const char *agent;       /* the vmapp-agent binary a new image gets */
	const char *packages;    /* NULL: build-image.sh's default */
	const char *vsockd;      /* vmapp-vsockd, for transport=vsock without the kernel's */
	const char *vhost_vsock; /* NULL: /dev/vhost-vsock */
	/* One line of progress (no newline). */
	void (*step)(void *data, const char *line);
	void *data;
};

struct vmapp_boot {
	pid_t qemu;
	pid_t virtiofsd; /* 0: none */
	pid_t vsockd;    /* 0: none */
	enum vmapp_accel accel;
	enum vmapp_transport transport;
	enum vmapp_share_mode share_mode;
	/* transport VSOCK: the device, the port on the kernel command line,
	 * and where the agent's connections come (listening, non-blocking;
	 * -1 with SERIAL, where the proxy connects to transport_socket).
	 * With the kernel's device only guest_cid may connect there. */
	enum vmapp_vsock_device vsock_device;
	uint32_t vsock_port;
	uint32_t guest_cid;
	int agent_listen_fd;
	int vhost_fd; /* -1 once QEMU has it */
};

/* A struct vmapp_boot that vmapp_boot_start() has not (yet) filled:
 * vmapp_boot_stop() on it does nothing. */
#define VMAPP_BOOT_NONE { .agent_listen_fd = -1, .vhost_fd = -1 }

/*
 * Runs the steps.  0 and the running VM in *ret; else -errno and
 * "STEP: what failed (log: PATH)" in ret_error, and nothing left running.
 * Call before anything reaps children with waitpid(-1).
 */
int vmapp_boot_start(const struct vmapp_boot_config *config, struct vmapp_boot *ret,
		     char *ret_error, size_t error_size);

/* Stops what vmapp_boot_start started (QEMU: SIGTERM, then SIGKILL after
 * grace_s) and removes its sockets and pid file.  Children already reaped
 * by the caller have their pid set to 0. */
void vmapp_boot_stop(struct vmapp_boot *boot, const struct vmapp_vm_paths *paths,
		     double grace_s);

#endif
