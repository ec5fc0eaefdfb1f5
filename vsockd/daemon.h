/* SPDX-License-Identifier: MIT */
/*
 * The back-end process: the listening socket, the one front-end
 * connection, and the event loop over it, the kick eventfds and the
 * guest's connections.  One thread.
 */
#ifndef VMAPP_VSOCKD_DAEMON_H
#define VMAPP_VSOCKD_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsock.h"

struct vmapp_vsockd_options {
	const char *socket_path;
	uint64_t guest_cid;
	const struct vmapp_vsock_forward *forwards;
	size_t n_forwards;
	bool verbose;
};

/* Listens on socket_path, serves one front-end until it hangs up: once
 * it is accepted, under the seccomp filter of sandbox.h, for good.
 * Returns 0 then, -errno on failure (logged). */
int vmapp_vsockd_run(const struct vmapp_vsockd_options *options);

#endif
