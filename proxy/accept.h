/* SPDX-License-Identifier: MIT */
/*
 * VM mode, the host half: `vmapp-proxy --accept TRANSPORT`.  One agent
 * stream at a time; each of its channels becomes a client of the
 * validating relay, with its own connection to the compositor.
 */
#ifndef VMAPP_ACCEPT_H
#define VMAPP_ACCEPT_H

#include <stdbool.h>
#include <stdint.h>

#include "address.h"
#include "policy.h"
#include "relay.h"

struct vmapp_accept_options {
	struct vmapp_address address;
	bool has_cid;
	uint32_t cid; /* vsock: the only guest CID accepted */
	const char *label;
	const struct vmapp_policy *policy;
	bool once; /* exit when the first stream ends */
	/* When set: run it in the guest (RUN) once the agent is there, exit
	 * with its status when it ends. */
	char *const *command;
	bool verbose;
};

/* The relay a VM's channels become clients of (vmapp_relay_add_pair):
 * to the compositor at upstream, with policy and label, fds passed (the
 * bridge made every one).  Also the VM's own proxy's (vm-serve.c).  NULL
 * when it can not be made. */
struct vmapp_relay *vmapp_vm_relay_create(const char *upstream, const struct vmapp_policy *policy,
					  const char *label, bool verbose);

/*
 * Takes one connection off listen_fd for an agent's stream: its fd
 * (non-blocking, CLOEXEC), or -1 when there was none or it was refused,
 * which is said on stderr after name: a peer other than vsock CID *cid
 * (cid may be NULL: any peer), or any peer while busy (a stream is
 * served).  Out of fds, reserve_fd (an fd kept open for this) is closed
 * to drop the connection and opened again.
 */
int vmapp_agent_accept(int listen_fd, int *reserve_fd, const uint32_t *cid, bool busy,
		       const char *name);

/* Serves until SIGTERM or SIGINT (0), or with `once` until the stream ends
 * (0, or 1 when it ended in an error); with a command, until the command
 * ends (its status: 0..255, 128 + the signal that killed it), or 125 when
 * the stream or the proxy ends first; 125 when it can not start. */
int vmapp_accept_run(const struct vmapp_accept_options *options);

#endif
