/* SPDX-License-Identifier: MIT */
/*
 * Prints the QEMU argv of a VM definition, one word a line, for the golden
 * tests (check-argv.py).  The definition starts from every default; the
 * facts start from a fixed set of test paths (below), resolved to tcg,
 * serial and 9p.
 *
 *	print-argv [--quoted] [KEY=VALUE]... [fact.FACT=VALUE]...
 *
 * KEY is a key of vmapp-vm(5), set as a line of the file would set it.
 * FACT is one of: qemu, accel, transport, cid, vsock_device (kernel, user),
 * vhostfd, vsock_port, vsock_socket, share_mode, virtiofs,
 * transport_socket, kernel, initrd, root, root_format, console_log, qmp,
 * wav, audio_server; "-" for a path fact means none (NULL).  A value may
 * hold \n, \r, \t, \\ and \xHH escapes, so that tests can pass control
 * characters through a meson argument list.
 *
 * --quoted prints vmapp_argv_quoted() instead.  Errors go to stderr as
 * "error: MESSAGE", exit status 1; a bad usage exits 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-argv.h"
#include "vmdef.h"

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Undoes \n, \r, \t, \\ and \xHH in place. */
static char *unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (*p != '\\' || !p[1]) {
			*o++ = *p;
			continue;
		}
		p++;
		if (*p == 'n')
			*o++ = '\n';
		else if (*p == 't')
			*o++ = '\t';
		else if (*p == 'r')
			*o++ = '\r';
		else if (*p == 'x' && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
			*o++ = (char)(hex(p[1]) * 16 + hex(p[2]));
			p += 2;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return s;
}

static const char *path_fact(const char *value)
{
	return strcmp(value, "-") == 0 ? NULL : value;
}

static int set_fact(struct vmapp_qemu_facts *f, const char *name, const char *value)
{
	if (strcmp(name, "qemu") == 0)
		f->qemu = path_fact(value);
	else if (strcmp(name, "accel") == 0)
		f->accel = strcmp(value, "kvm") == 0 ? VMAPP_ACCEL_KVM :
			   strcmp(value, "tcg") == 0 ? VMAPP_ACCEL_TCG : VMAPP_ACCEL_AUTO;
	else if (strcmp(name, "transport") == 0)
		f->transport = strcmp(value, "vsock") == 0 ? VMAPP_TRANSPORT_VSOCK :
			       strcmp(value, "serial") == 0 ? VMAPP_TRANSPORT_SERIAL :
			       VMAPP_TRANSPORT_AUTO;
	else if (strcmp(name, "cid") == 0)
		f->guest_cid = (uint32_t)strtoul(value, NULL, 10);
	else if (strcmp(name, "vsock_device") == 0)
		f->vsock_device = strcmp(value, "user") == 0 ? VMAPP_VSOCK_USER :
				  strcmp(value, "kernel") == 0 ? VMAPP_VSOCK_KERNEL :
				  (enum vmapp_vsock_device)99;
	else if (strcmp(name, "vhostfd") == 0)
		f->vsock_vhostfd = (int)strtol(value, NULL, 10);
	else if (strcmp(name, "vsock_port") == 0)
		f->vsock_port = (uint32_t)strtoul(value, NULL, 10);
	else if (strcmp(name, "vsock_socket") == 0)
		f->vsock_socket = path_fact(value);
	else if (strcmp(name, "share_mode") == 0)
		f->share_mode = strcmp(value, "virtiofs") == 0 ? VMAPP_SHARE_VIRTIOFS :
				strcmp(value, "9p") == 0 ? VMAPP_SHARE_9P : VMAPP_SHARE_AUTO;
	else if (strcmp(name, "virtiofs") == 0)
		f->virtiofs_socket = path_fact(value);
	else if (strcmp(name, "transport_socket") == 0)
		f->transport_socket = path_fact(value);
	else if (strcmp(name, "kernel") == 0)
		f->kernel = path_fact(value);
	else if (strcmp(name, "initrd") == 0)
		f->initrd = path_fact(value);
	else if (strcmp(name, "root") == 0)
		f->root = path_fact(value);
	else if (strcmp(name, "root_format") == 0)
		f->root_format = strcmp(value, "qcow2") == 0 ? VMAPP_ROOT_QCOW2 : VMAPP_ROOT_RAW;
	else if (strcmp(name, "console_log") == 0)
		f->console_log = path_fact(value);
	else if (strcmp(name, "qmp") == 0)
		f->qmp_socket = path_fact(value);
	else if (strcmp(name, "wav") == 0)
		f->audio_wav = path_fact(value);
	else if (strcmp(name, "audio_server") == 0)
		f->audio_server = path_fact(value);
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct vmapp_qemu_facts facts = {
		.accel = VMAPP_ACCEL_TCG,
		.transport = VMAPP_TRANSPORT_SERIAL,
		.guest_cid = 3,
		.vsock_port = 5000,
		.vsock_socket = "/run/user/1000/vmapp/test/vsock.sock",
		.transport_socket = "/run/user/1000/vmapp/test/transport.sock",
		.share_mode = VMAPP_SHARE_9P,
		.virtiofs_socket = "/run/user/1000/vmapp/test/virtiofs.sock",
		.kernel = "/home/user/.local/share/vmapp/images/default/kernel",
		.initrd = "/home/user/.local/share/vmapp/images/default/initrd",
		.root = "/home/user/.local/state/vmapp/test/root.img",
		.root_format = VMAPP_ROOT_RAW,
		.console_log = "/home/user/.local/state/vmapp/test/console.log",
		.audio_wav = "/home/user/.local/state/vmapp/test/audio.wav",
	};
	struct vmapp_vmdef *def = vmapp_vmdef_create("test");
	char error[512], **qemu_argv;
	bool quoted = false;
	int r;

	if (!def)
		return 2;
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (strcmp(argv[i], "--quoted") == 0) {
			quoted = true;
			continue;
		}
		if (!eq) {
			fprintf(stderr, "usage: print-argv [--quoted] [KEY=VALUE]... [fact.FACT=VALUE]...\n");
			return 2;
		}
		*eq = '\0';
		unescape(eq + 1);
		if (strncmp(argv[i], "fact.", 5) == 0) {
			if (set_fact(&facts, argv[i] + 5, eq + 1) < 0) {
				fprintf(stderr, "print-argv: unknown fact '%s'\n", argv[i] + 5);
				return 2;
			}
			continue;
		}
		r = vmapp_vmdef_set(def, argv[i], eq + 1, error, sizeof(error));
		if (r < 0) {
			fprintf(stderr, "error: %s\n", error);
			vmapp_vmdef_destroy(def);
			return 1;
		}
	}
	r = vmapp_qemu_argv(def, &facts, error, sizeof(error), &qemu_argv);
	vmapp_vmdef_destroy(def);
	if (r < 0) {
		fprintf(stderr, "error: %s\n", error);
		return 1;
	}
	if (quoted) {
		char *line = vmapp_argv_quoted(qemu_argv);

		if (!line)
			return 2;
		printf("%s\n", line);
		free(line);
	} else {
		for (char **p = qemu_argv; *p; p++)
			printf("%s\n", *p);
	}
	vmapp_argv_free(qemu_argv);
	return 0;
}
