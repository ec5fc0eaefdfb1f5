/* SPDX-License-Identifier: MIT */
/*
 * The QEMU command line of a VM: a pure function of its definition and of
 * what was found out about the host (vmapp-vm(5) "THE VIRTUAL MACHINE").
 * No I/O, no logging, no globals: golden-tested in tests/vmspawn/.
 *
 * The result is an argv for execve(): nothing goes through a shell.
 * Values are escaped for QEMU's option syntax (a comma is doubled) or
 * refused (a control character, a relative path).
 */
#ifndef VMAPP_QEMU_ARGV_H
#define VMAPP_QEMU_ARGV_H

#include <stddef.h>
#include <stdint.h>

#include "vmdef.h"

enum vmapp_root_format {
	VMAPP_ROOT_RAW = 0,
	VMAPP_ROOT_QCOW2, /* e.g. a per-VM overlay on a shared base image */
};

/* Which device carries a vsock transport. */
enum vmapp_vsock_device {
	VMAPP_VSOCK_KERNEL = 0, /* vhost-vsock-pci: the host kernel's /dev/vhost-vsock */
	VMAPP_VSOCK_USER,       /* vhost-user-vsock-pci: vmapp-vsockd(8), guest RAM shared */
};

/*
 * What the VM's start found out and decided; every path absolute.
 * The auto settings of the definition are resolved here: accel,
 * transport and share_mode are never AUTO.
 */
struct vmapp_qemu_facts {
	const char *qemu; /* may be NULL: "qemu-system-x86_64" (argv[0]) */
	enum vmapp_accel accel;         /* KVM or TCG */
	enum vmapp_transport transport; /* VSOCK or SERIAL */
	enum vmapp_vsock_device vsock_device; /* VSOCK */
	uint32_t guest_cid;             /* VSOCK, KERNEL: 3 .. 0xfffffffe */
	int vsock_vhostfd;              /* VSOCK, KERNEL: an open /dev/vhost-vsock QEMU
					 * inherits (vhostfd=); 0: QEMU opens it */
	const char *vsock_socket;       /* VSOCK, USER: vmapp-vsockd's vhost-user socket */
	uint32_t vsock_port;            /* VSOCK: the host's port the agent connects to,
					 * on the kernel command line (vmapp.vsock_port=) */
	const char *transport_socket;   /* SERIAL: the chardev socket QEMU listens on */
	enum vmapp_share_mode share_mode; /* VIRTIOFS or 9P, when the definition shares */
	const char *virtiofs_socket;    /* VIRTIOFS: virtiofsd's vhost-user socket */
	const char *kernel;
	const char *initrd;
	const char *root;               /* the root disk image */
	enum vmapp_root_format root_format;
	const char *console_log;        /* the guest's serial console is written here */
	const char *qmp_socket;         /* may be NULL: no QMP monitor */
	const char *audio_wav;          /* audio_backend wav: the file written */
	const char *audio_server;       /* may be NULL: pulseaudio/pipewire server (QEMU's server=) */
};

/*
 * Builds the argv (NULL-terminated, every string and the array heap
 * allocated; free with vmapp_argv_free()).  Returns 0, -EINVAL with
 * "what: why" in ret_error (always NUL-terminated) for a value that can
 * not be passed or facts that do not fit the definition, or -ENOMEM.
 */
int vmapp_qemu_argv(const struct vmapp_vmdef *def, const struct vmapp_qemu_facts *facts,
		    char *ret_error, size_t error_size, char ***ret_argv);

void vmapp_argv_free(char **argv); /* accepts NULL */

/*
 * value escaped for one value of a QEMU "key=value,..." option: each
 * comma doubled.  NULL with errno EINVAL for a control character (QEMU
 * would take a newline as part of a path; a log would show it as two
 * lines), ENOMEM.  Caller frees.
 */
char *vmapp_qemu_escape(const char *value);

/*
 * argv as one line a POSIX shell would read back as the same words:
 * each word bare when it has only [A-Za-z0-9_@%+=:,./-], else in single
 * quotes (' as '\''), or as $'...' with \xHH escapes when it has a
 * control character, so the line stays one line.  For logs only: vmapp
 * never runs it.  NULL when out of memory.  Caller frees.
 */
char *vmapp_argv_quoted(char *const *argv);

#endif
