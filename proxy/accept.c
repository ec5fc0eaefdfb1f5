/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "accept.h"
#include "ratelimit.h"
#include "bridge.h"
#include "local.h"
#include "relay.h"
#include "unix.h"
#include "vmapp-tables.h"

struct acceptor {
	const struct vmapp_accept_options *options;
	struct vmapp_relay *relay;
	int listen_fd;
	int reserve_fd; /* closed to accept and drop a connection when out of fds */
	struct vmapp_bridge *bridge;
	char name[64];
	int status;
	bool run_sent, run_done;
};

#define RUN_ID 1

/* The command's EXIT ends the proxy, with the command's status. */
static void control(void *data, struct vmapp_bridge *bridge,
		    const struct vmapp_transport_frame *frame)
{
	struct acceptor *a = data;
	if (frame->kind != VMAPP_TRANSPORT_EXIT || frame->exit.run_id != RUN_ID)
		return;
	a->run_done = true;
	a->status = frame->exit.status >= 0 ? frame->exit.status : 128 - frame->exit.status;
	if (a->options->verbose)
		fprintf(stderr, "%s: %s exited %d in the guest\n", a->name,
			a->options->command[0], frame->exit.status);
	vmapp_relay_stop(a->relay);
}

/* Once the handshake is done: the command goes to the agent. */
static void send_command(struct acceptor *a)
{
	char *const *argv = a->options->command;
	uint32_t argc = 0;
	while (argv[argc])
		argc++;
	int r = vmapp_bridge_send_run(a->bridge, RUN_ID, (const char *const *)argv, argc, NULL, 0);
	a->run_sent = true;
	if (r < 0) {
		fprintf(stderr, "%s: can not ask the guest to run %s: %s\n", a->name, argv[0],
			r == -EMSGSIZE ? "the command line is too long" : strerror(-r));
		a->status = VMAPP_EXIT_FAILURE;
		vmapp_relay_stop(a->relay);
	}
}

/* A channel opened: its Wayland side is one end of a socket pair whose
 * other end the relay serves as a client. */
static int open_channel(void *data, uint32_t channel)
{
	struct acceptor *a = data;
	return vmapp_relay_add_pair(a->relay);
}

static void end_stream(struct acceptor *a)
{
	bool error = false;
	vmapp_bridge_closed(a->bridge, &error);
	int fd = vmapp_bridge_fd(a->bridge);
	vmapp_relay_remove_source(a->relay, fd);
	vmapp_bridge_destroy(a->bridge);
	a->bridge = NULL;
	if (a->options->verbose || error)
		fprintf(stderr, "%s: the agent's stream ended%s\n", a->name,
			error ? " in an error" : "");
	a->status = error ? 1 : 0;
	if (a->options->command && !a->run_done) {
		fprintf(stderr, "%s: the agent's stream ended before %s did\n", a->name,
			a->options->command[0]);
		a->status = VMAPP_EXIT_FAILURE;
		vmapp_relay_stop(a->relay);
		return;
	}
	/* A serial port is the VM's for its whole life: when its stream
	 * ends, so does the VM. */
	if (a->options->once || a->options->address.kind == VMAPP_ADDRESS_SERIAL)
		vmapp_relay_stop(a->relay);
}

static void dispatch_bridge(void *data)
{
	struct acceptor *a = data;
	vmapp_bridge_dispatch(a->bridge);
	if (vmapp_bridge_closed(a->bridge, NULL)) {
		end_stream(a);
		return;
	}
	if (a->options->command && !a->run_sent && vmapp_bridge_ready(a->bridge))
		send_command(a);
}

static int start_stream(struct acceptor *a, int fd)
{
	struct vmapp_bridge_config config = {
		.role = VMAPP_TRANSPORT_HOST,
		.name = a->name,
		.verbose = a->options->verbose,
		.open_channel = open_channel,
		.control = control,
		.data = a,
	};
	a->bridge = vmapp_bridge_create(&config, fd);
	if (!a->bridge)
		return -ENOMEM;
	int r = vmapp_relay_add_source(a->relay, vmapp_bridge_fd(a->bridge), dispatch_bridge, a);
	if (r < 0) {
		vmapp_bridge_destroy(a->bridge);
		a->bridge = NULL;
		return r;
	}
	if (a->options->verbose)
		fprintf(stderr, "%s: an agent connected\n", a->name);
	/* HELLO goes out at once, and the agent's may be here already. */
	dispatch_bridge(a);
	return 0;
}

/* A refusal's line: 10 at once, then one a second (with how many were
 * not said): the peers are the guests, which may connect in a loop. */
#define REFUSED_BURST 10
#define REFUSED_PER_SECOND 1

static void say_refused(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say_refused(const char *name, const char *fmt, ...)
{
	static struct vmapp_ratelimit limit;
	static bool started;
	uint64_t now = vmapp_ratelimit_now_ns(), unsaid = 0;

	if (!started) {
		vmapp_ratelimit_init(&limit, REFUSED_BURST, REFUSED_PER_SECOND, now);
		started = true;
	}
	if (!vmapp_ratelimit_allow(&limit, now, &unsaid))
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (unsaid)
		fprintf(stderr, " (%llu more refused and not said before this)",
			(unsigned long long)unsaid);
	fputc('\n', stderr);
}

int vmapp_agent_accept(int listen_fd, int *reserve_fd, const uint32_t *cid, bool busy,
		       const char *name)
{
	union {
		struct sockaddr sa;
		struct sockaddr_vm vm;
		char buf[128];
	} peer;
	socklen_t len = sizeof(peer);
	int fd = accept4(listen_fd, &peer.sa, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && *reserve_fd >= 0) {
		/* Out of fds: take the connection off the queue and drop it,
		 * or the listening socket stays readable for ever. */
		close(*reserve_fd);
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		*reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		say_refused(name, "refused a connection: out of file descriptors");
		return -1;
	}
	if (fd < 0)
		return -1;
	if (cid && (peer.sa.sa_family != AF_VSOCK || peer.vm.svm_cid != *cid)) {
		say_refused(name, "refused a vsock connection from CID %u (expected %u)",
			    peer.sa.sa_family == AF_VSOCK ? peer.vm.svm_cid : 0, *cid);
		close(fd);
		return -1;
	}
	if (busy) {
		say_refused(name, "refused a second agent connection while one is served");
		close(fd);
		return -1;
	}
	return fd;
}

static void dispatch_listen(void *data)
{
	struct acceptor *a = data;
	bool check_cid = a->options->address.kind == VMAPP_ADDRESS_VSOCK && a->options->has_cid;
	int fd = vmapp_agent_accept(a->listen_fd, &a->reserve_fd,
				    check_cid ? &a->options->cid : NULL, a->bridge != NULL, a->name);
	if (fd >= 0 && start_stream(a, fd) < 0)
		fprintf(stderr, "%s: can not serve the agent: out of memory\n", a->name);
}

struct vmapp_relay *vmapp_vm_relay_create(const char *upstream, const struct vmapp_policy *policy,
					  const char *label, bool verbose)
{
	struct vmapp_relay_options relay_options = {
		.upstream_path = upstream,
		.conn = {
			.protocols = &vmapp_protocols,
			.policy = policy,
			.label = label,
			/* Every fd a channel passes was made here: sealed
			 * memfds and pipes, checked like a local client's. */
			.pass_fds = true,
		},
		.verbose = verbose,
	};
	return vmapp_relay_create(&relay_options);
}

int vmapp_accept_run(const struct vmapp_accept_options *options)
{
	char upstream[PATH_MAX], where[160];
	struct acceptor a = { .options = options, .listen_fd = -1 };
	int r;

	/* A peer gone mid-write must cost a channel, not the proxy. */
	signal(SIGPIPE, SIG_IGN);
	/* Every pool and pipe of a VM is an fd here: the soft limit goes up
	 * to the hard one (the bridge budgets within it). */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	a.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	snprintf(a.name, sizeof(a.name), "vmapp-proxy[%s]", options->label);
	vmapp_address_format(&options->address, where, sizeof(where));
	if (vmapp_compositor_find(upstream, sizeof(upstream)) < 0)
		return VMAPP_EXIT_FAILURE;

	a.relay = vmapp_vm_relay_create(upstream, options->policy, options->label,
					 options->verbose);
	if (!a.relay)
		return VMAPP_EXIT_FAILURE;

	if (options->address.kind == VMAPP_ADDRESS_SERIAL) {
		int fd = vmapp_address_connect(&options->address);
		if (fd < 0) {
			fprintf(stderr, "vmapp-proxy: can not open %s: %s\n", where, strerror(-fd));
			vmapp_relay_destroy(a.relay);
			return VMAPP_EXIT_FAILURE;
		}
		r = start_stream(&a, fd);
	} else {
		a.listen_fd = vmapp_address_listen(&options->address);
		if (a.listen_fd < 0) {
			fprintf(stderr, "vmapp-proxy: can not listen on %s: %s\n", where,
				strerror(-a.listen_fd));
			vmapp_relay_destroy(a.relay);
			return VMAPP_EXIT_FAILURE;
		}
		r = vmapp_relay_add_source(a.relay, a.listen_fd, dispatch_listen, &a);
		if (options->verbose)
			fprintf(stderr, "%s: waiting for the agent on %s\n", a.name, where);
	}
	if (options->command)
		a.status = VMAPP_EXIT_FAILURE; /* unless its EXIT comes */
	if (r == 0)
		r = vmapp_relay_run(a.relay);
	if (a.bridge) {
		vmapp_relay_remove_source(a.relay, vmapp_bridge_fd(a.bridge));
		vmapp_bridge_destroy(a.bridge);
	}
	vmapp_relay_destroy(a.relay);
	if (a.reserve_fd >= 0)
		close(a.reserve_fd);
	if (a.listen_fd >= 0) {
		close(a.listen_fd);
		if (options->address.kind == VMAPP_ADDRESS_UNIX)
			unlink(options->address.path);
	}
	if (r < 0) {
		fprintf(stderr, "vmapp-proxy: %s\n", strerror(-r));
		return VMAPP_EXIT_FAILURE;
	}
	return a.status;
}
