/* SPDX-License-Identifier: MIT */
/* vmapp-agent, the guest half: serves a Wayland socket in the guest and
 * carries its clients to the host's vmapp-proxy over the transport. */
#ifndef VMAPP_AGENT_H
#define VMAPP_AGENT_H

#include <stdbool.h>

#include "address.h"
#include "shm.h"

struct vmapp_agent_options {
	struct vmapp_address address;
	const char *socket_name;  /* under XDG_RUNTIME_DIR, or an absolute path */
	char *const *command;     /* NULL: serve until the stream ends */
	enum vmapp_shm_diff diff;
	double connect_timeout;   /* seconds to keep trying to connect */
	bool verbose;
};

/* Exit statuses: the command's own; 0 when the stream ended in order, 1 in
 * an error; 125 when the agent can not start, 126/127 for a command that
 * can not run. */
#define VMAPP_AGENT_EXIT_FAILURE 125

int vmapp_agent_run(const struct vmapp_agent_options *options);

#endif
