/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "bridge.h"
#include "control.h"
#include "unix.h"

/* epoll data: these, or WATCH_OUTPUT + the index of a run's output. */
enum { WATCH_BRIDGE = 1, WATCH_LISTEN, WATCH_SIGNAL, WATCH_OUTPUT = 16 };

struct agent {
	const struct vmapp_agent_options *options;
	struct vmapp_bridge *bridge;
	struct vmapp_agent_runs runs;
	char socket_path[PATH_MAX];
	int epoll_fd, listen_fd, signal_fd;
	bool listening;
	pid_t command;
	int command_status;
	bool command_done;
	bool stop;
};

/* ---- the shm mirroring behind the bridge ---- */

static enum vmapp_shm_diff shm_diff_mode;

static void *shm_create(void)
{
	struct vmapp_shm_tracker *t = calloc(1, sizeof(*t));
	if (t)
		vmapp_shm_tracker_init(t, shm_diff_mode);
	return t;
}

static void shm_destroy(void *shm)
{
	vmapp_shm_tracker_finish(shm);
	free(shm);
}

static int shm_request(void *shm, struct vmapp_bridge_channel *ch,
		       const struct vmapp_message_view *view, const int *fds, uint32_t *refs)
{
	static const enum vmapp_bridge_shm_kind kinds[] = {
		[VMAPP_SHM_OP_CREATE] = VMAPP_BRIDGE_SHM_CREATE,
		[VMAPP_SHM_OP_RESIZE] = VMAPP_BRIDGE_SHM_RESIZE,
		[VMAPP_SHM_OP_UPDATE] = VMAPP_BRIDGE_SHM_UPDATE,
		[VMAPP_SHM_OP_DESTROY] = VMAPP_BRIDGE_SHM_DESTROY,
	};
	struct vmapp_shm_ops ops = { 0 };
	uint32_t ref = 0;
	int r = vmapp_shm_request(shm, view, fds, &ops, &ref);
	for (size_t i = 0; r == 0 && i < ops.n; i++)
		r = vmapp_bridge_queue_shm(ch, kinds[ops.ops[i].kind], ops.ops[i].ref,
					   ops.ops[i].offset, ops.ops[i].size);
	free(ops.ops);
	if (r == 0 && ref) {
		/* The pool's fd is the message's only one. */
		for (uint32_t i = 0; i < view->n_fds; i++)
			refs[i] = ref;
	}
	return r;
}

static const uint8_t *shm_data(void *shm, uint32_t ref, uint64_t offset, uint64_t size)
{
	return vmapp_shm_data(shm, ref, offset, size);
}

static void shm_release(void *shm, uint32_t ref)
{
	vmapp_shm_release(shm, ref);
}

static const struct vmapp_bridge_guest_ops guest_ops = {
	.create = shm_create,
	.destroy = shm_destroy,
	.request = shm_request,
	.data = shm_data,
	.release = shm_release,
};

/* ---- the loop ---- */

static int watch(struct agent *a, int fd, uint64_t what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = what };
	return epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * A virtio-serial port opens whether or not the host listens; until it
 * does, poll says POLLHUP and a read is an end of file.  Wait for the
 * host's first bytes (its HELLO, sent as it connects) rather than take
 * that for the end of a stream.  0, or -ETIMEDOUT.
 */
static int wait_for_host(int fd, const struct timespec *start, double timeout)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, 250);
		if (n > 0 && (p.revents & POLLIN))
			return 0;
		if (seconds_since(start) >= timeout)
			return -ETIMEDOUT;
		if (n > 0)
			usleep(250 * 1000); /* POLLHUP: nobody there yet */
	}
}

static int connect_stream(const struct vmapp_agent_options *o)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int fd = vmapp_address_connect(&o->address);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)) {
			int r = wait_for_host(fd, &start, o->connect_timeout);
			if (r < 0) {
				close(fd);
				return r;
			}
		}
		if (fd >= 0)
			return fd;
		double waited = seconds_since(&start);
		if ((fd != -ENOENT && fd != -ECONNREFUSED && fd != -ENODEV &&
		     fd != -ECONNRESET && fd != -ETIMEDOUT) || waited >= o->connect_timeout)
			return fd;
		usleep(100 * 1000);
	}
}

/* The socket the guest's clients connect to. */
static int socket_path(const char *name, char *buf, size_t size)
{
	if (name[0] == '/')
		return (size_t)snprintf(buf, size, "%s", name) < size ? 0 : -ENAMETOOLONG;
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (!runtime || !*runtime)
		return -ENOENT;
	return (size_t)snprintf(buf, size, "%s/%s", runtime, name) < size ? 0 : -ENAMETOOLONG;
}

/* Once both HELLOs went: clients may come, and the command starts. */
static int start_serving(struct agent *a)
{
	int r = watch(a, a->listen_fd, WATCH_LISTEN);
	if (r < 0)
		return r;
	a->listening = true;
	if (a->options->command) {
		pid_t pid = vmapp_agent_spawn((const char *const *)a->options->command, NULL, 0,
					      a->socket_path, NULL);
		if (pid < 0) {
			fprintf(stderr, "vmapp-agent: %s: %s\n", a->options->command[0],
				strerror((int)-pid));
			a->command_status = pid == -ENOENT ? 127 : 126;
			a->command_done = true;
			return 0;
		}
		a->command = pid;
	}
	return 0;
}

static void handle_signals(struct agent *a)
{
	struct signalfd_siginfo si;
	while (read(a->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			if (a->command > 0 && !a->command_done)
				kill(a->command, (int)si.ssi_signo);
			else
				a->stop = true;
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == a->command) {
				a->command_done = true;
				a->command_status = WIFEXITED(status) ? WEXITSTATUS(status)
								      : 128 + WTERMSIG(status);
			} else {
				vmapp_agent_reap(&a->runs, a->bridge, pid, status);
			}
		}
	}
}

static void handle_listen(struct agent *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	int r = vmapp_bridge_open_channel(a->bridge, fd);
	if (r < 0)
		fprintf(stderr, "vmapp-agent: a client refused: %s\n",
			r == -EBUSY ? "no free channel" : strerror(-r));
	else if (a->options->verbose)
		fprintf(stderr, "vmapp-agent: client on channel %d\n", r);
}

/* With a command: once it exited and its clients are gone (their last
 * bytes on their way), the agent is done. */
static bool command_finished(struct agent *a)
{
	return a->options->command && a->command_done && vmapp_bridge_n_channels(a->bridge) == 0;
}

int vmapp_agent_run(const struct vmapp_agent_options *options)
{
	struct agent a = { .options = options, .epoll_fd = -1, .listen_fd = -1, .signal_fd = -1 };
	char where[160];
	int status = VMAPP_AGENT_EXIT_FAILURE;
	sigset_t mask, old_mask;

	shm_diff_mode = options->diff;
	vmapp_address_format(&options->address, where, sizeof(where));
	int r = socket_path(options->socket_name, a.socket_path, sizeof(a.socket_path));
	if (r < 0) {
		fprintf(stderr, "vmapp-agent: the socket %s: %s\n", options->socket_name,
			r == -ENOENT ? "XDG_RUNTIME_DIR is not set" : strerror(-r));
		return VMAPP_AGENT_EXIT_FAILURE;
	}
	a.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	vmapp_agent_runs_init(&a.runs, a.socket_path, a.epoll_fd, WATCH_OUTPUT);

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	signal(SIGPIPE, SIG_IGN);

	a.listen_fd = vmapp_unix_listen(a.socket_path);
	if (a.listen_fd < 0) {
		fprintf(stderr, "vmapp-agent: can not listen on %s: %s\n", a.socket_path,
			strerror(-a.listen_fd));
		goto out;
	}
	int stream = connect_stream(options);
	if (stream < 0) {
		fprintf(stderr, "vmapp-agent: can not connect to %s: %s\n", where,
			strerror(-stream));
		goto out;
	}
	struct vmapp_bridge_config config = {
		.role = VMAPP_TRANSPORT_GUEST,
		.name = "vmapp-agent",
		.verbose = options->verbose,
		.guest = &guest_ops,
		.control = vmapp_agent_control,
		.data = &a.runs,
	};
	a.bridge = vmapp_bridge_create(&config, stream);
	a.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!a.bridge || a.signal_fd < 0 || a.epoll_fd < 0 ||
	    watch(&a, vmapp_bridge_fd(a.bridge), WATCH_BRIDGE) < 0 ||
	    watch(&a, a.signal_fd, WATCH_SIGNAL) < 0) {
		fprintf(stderr, "vmapp-agent: can not start: %s\n", strerror(errno));
		goto out;
	}
	if (options->verbose)
		fprintf(stderr, "vmapp-agent: connected to %s, serving %s\n", where,
			a.socket_path);
	vmapp_bridge_dispatch(a.bridge);

	bool error = false;
	for (;;) {
		if (vmapp_bridge_closed(a.bridge, &error))
			break;
		if (!a.listening && vmapp_bridge_ready(a.bridge) && start_serving(&a) < 0)
			break;
		if (a.stop || command_finished(&a))
			break;
		struct epoll_event events[16];
		int n = epoll_wait(a.epoll_fd, events, 16, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t what = events[i].data.u64;
			if (what >= WATCH_OUTPUT) {
				vmapp_agent_output_ready(&a.runs, a.bridge, what - WATCH_OUTPUT);
				continue;
			}
			switch (what) {
			case WATCH_BRIDGE:
				vmapp_bridge_dispatch(a.bridge);
				/* Written out: room for output again. */
				vmapp_agent_output_update(&a.runs, a.bridge);
				break;
			case WATCH_LISTEN:
				handle_listen(&a);
				break;
			case WATCH_SIGNAL:
				handle_signals(&a);
				break;
			}
		}
	}
	if (options->command) {
		if (!a.command_done && a.command > 0) {
			/* The host went away: the command has no display left. */
			kill(a.command, SIGTERM);
			int st;
			if (waitpid(a.command, &st, 0) == a.command)
				a.command_status = WIFEXITED(st) ? WEXITSTATUS(st)
								 : 128 + WTERMSIG(st);
			else
				a.command_status = VMAPP_AGENT_EXIT_FAILURE;
		}
		status = a.command > 0 || a.command_done ? a.command_status
							 : VMAPP_AGENT_EXIT_FAILURE;
	} else {
		status = error ? 1 : 0;
	}
out:
	vmapp_agent_runs_finish(&a.runs);
	vmapp_bridge_destroy(a.bridge);
	if (a.listen_fd >= 0) {
		close(a.listen_fd);
		unlink(a.socket_path);
	}
	if (a.signal_fd >= 0)
		close(a.signal_fd);
	if (a.epoll_fd >= 0)
		close(a.epoll_fd);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return status;
}
