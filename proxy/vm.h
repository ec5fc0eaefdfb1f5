/* SPDX-License-Identifier: MIT */
/*
 * `vmapp-proxy --vm NAME [COMMAND...]`: the main job.
 *
 * Each running VM has one long-lived proxy of its own (vm-serve.c): it
 * started the VM's QEMU (vmspawn/boot.c), holds the agent's stream, runs
 * every app of the VM through one validating relay, and serves the VM's
 * control socket (vmspawn/vmctl.h).  `vmapp-proxy --vm NAME COMMAND`
 * (vm-client.c) starts that proxy when the VM is not running, showing its
 * steps, then asks it to RUN the command and exits with its status.
 */
#ifndef VMAPP_VM_H
#define VMAPP_VM_H

#include <stdbool.h>

struct vmapp_vm_options {
	const char *name;
	char *const *command; /* NULL: start the VM (if needed) and return */
	bool verbose;
	/* The VM's proxy: the fd its startup progress goes to, -1 none. */
	int status_fd;
};

/* The client: the command's status, 125 when the VM or its proxy fail
 * (what failed is said on stderr), 2 for a VM that does not exist. */
int vmapp_vm_client_run(const struct vmapp_vm_options *options);

/* The VM's own proxy (`--vm-serve NAME`): 0 after the VM stopped, 125
 * when it could not start. */
int vmapp_vm_serve(const struct vmapp_vm_options *options);

#endif
