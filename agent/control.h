/* SPDX-License-Identifier: MIT */
/* The agent's control channel: RUN, EXIT and LIST_APPS. */
#ifndef VMAPP_AGENT_CONTROL_H
#define VMAPP_AGENT_CONTROL_H

#include <stdint.h>
#include <sys/types.h>

#include "bridge.h"

#define VMAPP_AGENT_MAX_RUNS 64
/* A run's stdout and stderr, and the ends of ended runs whose children
 * still hold them. */
#define VMAPP_AGENT_MAX_OUTPUTS (2 * VMAPP_AGENT_MAX_RUNS + 32)

/* The read end of a pipe a run's command writes its stdout or stderr to:
 * while the run lasts, OUTPUT to the host within the run's credit; once
 * its EXIT went, what its children still write goes to the agent's own
 * stderr (the guest's journal), until they close it. */
struct vmapp_agent_output {
	int fd;          /* -1: free */
	uint32_t run_id;
	uint32_t stream; /* 1 stdout, 2 stderr */
	bool ended;      /* the run's EXIT went */
	bool watched;    /* in the epoll set for input */
};

struct vmapp_agent_runs {
	const char *display; /* WAYLAND_DISPLAY for the commands */
	struct {
		pid_t pid; /* 0: free; kept until the EXIT went */
		uint32_t run_id;
		bool exited; /* reaped: its EXIT waits for its output to go */
		int32_t code;
	} runs[VMAPP_AGENT_MAX_RUNS];
	/* The output pipes join this epoll set, data.u64 = output_tag + index. */
	int epoll_fd;
	uint64_t output_tag;
	struct vmapp_agent_output outputs[VMAPP_AGENT_MAX_OUTPUTS];
};

/* Before use: no runs, no outputs. */
void vmapp_agent_runs_init(struct vmapp_agent_runs *runs, const char *display, int epoll_fd,
			   uint64_t output_tag);
void vmapp_agent_runs_finish(struct vmapp_agent_runs *runs);

/* Spawns argv with the agent's environment, `envp` on top and
 * WAYLAND_DISPLAY=display; stdout and stderr out_fds[0] and out_fds[1]
 * when out_fds is not NULL (else the agent's); the pid, or -errno. */
pid_t vmapp_agent_spawn(const char *const *argv, const char *const *envp, size_t envc,
			const char *display, const int *out_fds);

/* Output index is readable (or hung up). */
void vmapp_agent_output_ready(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge,
			      size_t index);

/* Watches the output pipes of the runs that have credit, while the
 * stream has room: call after each dispatch of the bridge, and after an
 * OUTPUT_CREDIT. */
void vmapp_agent_output_update(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge);

/* The bridge's control callback; data is a struct vmapp_agent_runs. */
void vmapp_agent_control(void *data, struct vmapp_bridge *bridge,
			 const struct vmapp_transport_frame *frame);

/* A child exited: if it was a RUN's, its EXIT goes to the host; true then. */
bool vmapp_agent_reap(struct vmapp_agent_runs *runs, struct vmapp_bridge *bridge, pid_t pid,
		      int status);

#endif
