/* SPDX-License-Identifier: MIT */
/*
 * The control socket of a running VM: RUNTIME/vmapp/NAME/control.sock,
 * served by the VM's proxy (`vmapp-proxy --vm NAME`, proxy/vm-serve.c),
 * used by `vmapp-proxy --vm NAME COMMAND` and `vmapp-vm stop`.
 *
 * Both ends are the same user's programs on the host (the socket's folder
 * is mode 0700); the guest never reaches it.  A SOCK_SEQPACKET socket: one
 * message is one request or answer, a verb and its fields, each
 * NUL-terminated, at most VMAPP_CTL_MAX bytes together:
 *
 *   RUN ARG0 ARG1 ...   run a command in the guest (as the agent's RUN)
 *   SIGNAL N            after RUN, on the same connection, any number of
 *                       times: signal N (decimal, Linux's number: 1 HUP,
 *                       2 INT, 3 QUIT, 9 KILL, 10 USR1, 12 USR2, 15 TERM)
 *                       to the command's process group in the guest (as
 *                       the transport's SIGNAL); no answer of its own, the
 *                       EXIT follows as ever.  Before the RUN reached the
 *                       guest it is dropped, and EXIT says 128 + N at once
 *   STOP                stop the VM
 *
 * and back:
 *
 *   OUTPUT N BYTES      after RUN, any number of times before its EXIT:
 *                       what the command wrote on its stdout (N 1) or
 *                       stderr (N 2); the bytes follow N as they are,
 *                       their NULs splitting them into fields (so the
 *                       fields after N joined with NULs are the bytes);
 *                       all of it comes before the EXIT, none is dropped:
 *                       a client that reads slowly slows the command
 *   EXIT STATUS         the command ended: 0..255, 128 + signal
 *   ERROR TEXT          the request failed, and why
 *   STOPPING            the VM is being stopped
 */
#ifndef VMAPP_VMCTL_H
#define VMAPP_VMCTL_H

#include <stddef.h>
#include <sys/types.h>

#define VMAPP_CTL_MAX 65536u
#define VMAPP_CTL_MAX_FIELDS 256u

struct vmapp_ctl_msg {
	const char *verb;
	size_t n_fields;
	const char *fields[VMAPP_CTL_MAX_FIELDS + 1]; /* NULL-terminated */
};

/* A listening (non-blocking, CLOEXEC) or connected (CLOEXEC) socket: the
 * fd or -errno.  Listening replaces a stale socket nobody serves and
 * makes it mode 0600. */
int vmapp_ctl_listen(const char *path);
int vmapp_ctl_connect(const char *path);

/* verb and its n fields as one message in buf (VMAPP_CTL_MAX bytes):
 * its size, or -EMSGSIZE when they do not fit. */
ssize_t vmapp_ctl_format(char *buf, const char *verb, const char *const *fields, size_t n);

/* Sends verb and its n fields as one message: 0, -EMSGSIZE when they do
 * not fit, or -errno. */
int vmapp_ctl_send(int fd, const char *verb, const char *const *fields, size_t n);

/* One OUTPUT message of stream's bytes (stream 1 or 2, len > 0) in buf
 * (VMAPP_CTL_MAX bytes): its size, and in *ret_used how many of the
 * bytes it holds (all, or fewer: one message's size and field limits;
 * the rest goes in the next). */
size_t vmapp_ctl_output_message(unsigned stream, const void *data, size_t len, char *buf,
				size_t *ret_used);

/* The bytes of an OUTPUT message (its fields after the stream joined
 * with NULs) into out, which has room for VMAPP_CTL_MAX bytes; their
 * number. */
size_t vmapp_ctl_output_bytes(const struct vmapp_ctl_msg *msg, char *out);

/* Receives one message into buf (VMAPP_CTL_MAX + 1 bytes) and splits it:
 * 1, 0 at the end of the connection, -EAGAIN, -EBADMSG for a message that
 * is not well formed (empty, no final NUL, too many fields), or -errno. */
int vmapp_ctl_recv(int fd, char *buf, struct vmapp_ctl_msg *msg);

#endif
