/* SPDX-License-Identifier: MIT */
/* The agent's control channel: RUN, EXIT and LIST_APPS. */
#ifndef VMAPP_AGENT_CONTROL_H
#define VMAPP_AGENT_CONTROL_H

#include <stdint.h>
#include <sys/types.h>

#include "bridge.h"

#define VMAPP_AGENT_MAX_RUNS 64

struct vmapp_agent_runs {
	const char *display; /* WAYLAND_DISPLAY for the commands */
	struct {
		pid_t pid; /* 0: free */
		uint32_t run_id;
	} runs[VMAPP_AGENT_MAX_RUNS];
};

/* Spawns argv with the agent's environment, `envp` on top and
 * WAYLAND_DISPLAY=display; the pid, or -errno. */
pid_t vmapp_agent_spawn(const char *const *argv, const char *const *envp, size_t envc,
			const char *display);

/* The bridge's control callback; data is a struct vmapp_agent_runs. */
void vmapp_agent_control(void *data, struct vmapp_bridge *bridge,
			 const struct vmapp_transport_frame *frame);

/* A child exited: if it was a RUN's, its EXIT goes to the host; true then. */
bool vmapp_agent_reap(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge, pid_t pid,
		      int status);

#endif
