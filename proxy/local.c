/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "relay.h"
#include "unix.h"
#include "vmapp-tables.h"

extern char **environ;

static int spawn_command(char *const *command, const char *display, const sigset_t *mask,
			 pid_t *ret_pid)
{
	posix_spawnattr_t attr;
	int r;

	if (setenv("WAYLAND_DISPLAY", display, 1) < 0)
		return -errno;
	/* An inherited socket fd would bypass the proxy entirely. */
	unsetenv("WAYLAND_SOCKET");

	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, mask);
	sigset_t pipe_signal;
	sigemptyset(&pipe_signal);
	sigaddset(&pipe_signal, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &pipe_signal);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(ret_pid, command[0], NULL, &attr, command, environ);
	posix_spawnattr_destroy(&attr);
	return -r;
}

int vmapp_local_run(const struct vmapp_local_options *options)
{
	char upstream[PATH_MAX], listen_path[PATH_MAX], display[64];
	int r;

	if (vmapp_compositor_find(upstream, sizeof(upstream)) < 0)
		return VMAPP_EXIT_FAILURE;

	if (options->listen_path) {
		if ((size_t)snprintf(listen_path, sizeof(listen_path), "%s",
				     options->listen_path) >= sizeof(listen_path))
			return VMAPP_EXIT_FAILURE;
	} else {
		const char *runtime = getenv("XDG_RUNTIME_DIR");
		if (!runtime || !*runtime) {
			fprintf(stderr, "vmapp-proxy: XDG_RUNTIME_DIR is not set\n");
			return VMAPP_EXIT_FAILURE;
		}
		snprintf(display, sizeof(display), "vmapp-%s-%ld", options->label,
			 (long)getpid());
		if ((size_t)snprintf(listen_path, sizeof(listen_path), "%s/%s", runtime,
				     display) >= sizeof(listen_path))
			return VMAPP_EXIT_FAILURE;
		unlink(listen_path); /* a stale one of a dead proxy with our pid */
	}

	struct vmapp_relay_options relay_options = {
		.listen_path = listen_path,
		.upstream_path = upstream,
		.conn = {
			.protocols = &vmapp_protocols,
			.policy = options->policy,
			.label = options->label,
			.pass_fds = true,
		},
		.verbose = options->verbose,
	};
	struct vmapp_relay *relay = vmapp_relay_create(&relay_options);
	if (!relay)
		return VMAPP_EXIT_FAILURE;

	if (options->command) {
		sigset_t empty;
		pid_t pid;
		sigemptyset(&empty);
		r = spawn_command(options->command, options->listen_path ? listen_path : display,
				  &empty, &pid);
		if (r < 0) {
			fprintf(stderr, "vmapp-proxy: %s: %s\n", options->command[0], strerror(-r));
			vmapp_relay_destroy(relay);
			return r == -ENOENT ? VMAPP_EXIT_NOT_FOUND : VMAPP_EXIT_CANNOT_RUN;
		}
		vmapp_relay_watch_child(relay, pid);
	} else if (options->verbose) {
		fprintf(stderr, "vmapp-proxy[%s]: serving %s for %s\n", options->label,
			listen_path, upstream);
	}

	r = vmapp_relay_run(relay);
	vmapp_relay_destroy(relay);
	if (r < 0) {
		fprintf(stderr, "vmapp-proxy: %s\n", strerror(-r));
		return VMAPP_EXIT_FAILURE;
	}
	return r;
}
