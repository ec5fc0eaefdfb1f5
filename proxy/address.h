/* SPDX-License-Identifier: MIT */
/*
 * Where the transport stream runs: the TRANSPORT arguments of
 * vmapp-proxy --accept and vmapp-agent --connect.
 *
 *   unix:PATH           a unix stream socket (tests; VMMs whose vsock ends
 *                       on a host unix socket)
 *   vsock:PORT          host: listen on this vsock port
 *   vsock:CID:PORT      guest: connect to CID (2, the host) at PORT
 *   serial:PATH         host: QEMU's virtio-serial chardev socket at PATH
 *                       (QEMU listens, the proxy connects); guest: the port
 *                       device, /dev/virtio-ports/NAME
 */
#ifndef VMAPP_ADDRESS_H
#define VMAPP_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vmapp_address_kind {
	VMAPP_ADDRESS_UNIX,
	VMAPP_ADDRESS_VSOCK,
	VMAPP_ADDRESS_SERIAL,
};

struct vmapp_address {
	enum vmapp_address_kind kind;
	char path[108]; /* UNIX, SERIAL */
	bool has_cid;
	uint32_t cid;   /* VSOCK */
	uint32_t port;  /* VSOCK */
};

/* Parses TRANSPORT; on error writes a message to `error` and returns -EINVAL. */
int vmapp_address_parse(const char *text, struct vmapp_address *ret, char *error, size_t size);

/* The text form, for log lines. */
void vmapp_address_format(const struct vmapp_address *a, char *buf, size_t size);

/* The host side: a listening socket for UNIX and VSOCK (non-blocking);
 * for SERIAL, -EOPNOTSUPP (connect instead).  -errno. */
int vmapp_address_listen(const struct vmapp_address *a);

/* A connected stream: UNIX and VSOCK connect, SERIAL connects to the
 * chardev socket (host) or opens the port device (guest, a character
 * device).  -errno. */
int vmapp_address_connect(const struct vmapp_address *a);

#endif
