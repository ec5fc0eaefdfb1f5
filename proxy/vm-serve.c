/* SPDX-License-Identifier: MIT */
/*
 * A VM's own proxy (vm.h): boots the VM, then serves its agent's stream
 * through one validating relay and its control socket until the VM stops.
 *
 * Its progress during the start goes to status_fd as lines the client
 * reads (vm-client.c):
 *
 *   step TEXT      what it is doing
 *   ready          the agent is there: commands run from now on
 *   failed TEXT    it could not start: "STEP: why (log: PATH)"
 *   running        another proxy serves this VM already
 *
 * and to its log (stderr: STATE/vmapp/NAME/vm.log), as everything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accept.h"
#include "boot.h"
#include "bridge.h"
#include "export.h"
#include "launch.h"
#include "local.h"
#include "relay.h"
#include "unix.h"
#include "vm-output.h"
#include "vm.h"
#include "vmapp-tables.h"
#include "vmctl.h"
#include "vmdef.h"

/* A TCG boot takes 20-30 s here, a first boot after an image build more:
 * past this, a VM whose agent never came is a failure. */
#define AGENT_WAIT_S 600
/* After the agent's stream ended (the agent restarts in the guest). */
#define RECONNECT_S 1
/* Control clients served at once (relay sources besides the bridge,
 * the control socket and the timer). */
#define MAX_CLIENTS 64
#define STOP_GRACE_S 10.0
/* A stop first has the agent run sync, so that what the apps wrote is on
 * the VM's disk before QEMU goes; at most this long. */
#define SYNC_WAIT_S 10
#define SYNC_RUN_ID UINT32_MAX

struct ctl_client {
	struct serve *s;
	struct ctl_client *next;
	int fd;
	uint32_t run_id;     /* 0: no RUN yet */
	bool sent;           /* its RUN went to the agent */
	char *command;       /* argv[0], for messages */
	char **argv;         /* NULL-terminated, one allocation with the strings */
	bool stop_requested; /* STOP: it waits for the end */
	/* Its command's output its socket did not take yet; with `exited`
	 * its EXIT waits there too, and the client goes once all went. */
	struct vmapp_vm_output output;
	bool exited;
};

struct serve {
	const struct vmapp_vm_options *options;
	char name[80];
	struct vmapp_vmdef *def;
	struct vmapp_vm_paths paths;
	struct vmapp_policy *policy;
	struct vmapp_relay *relay;
	struct vmapp_boot boot;
	struct vmapp_bridge *bridge;
	int status_fd;
	int ctl_fd;
	int timer_fd;    /* reconnecting to the agent's port (serial) */
	int reserve_fd;  /* vsock: dropped to refuse a connection when out of fds */
	int vsockd_fd;   /* a pidfd of vmapp-vsockd: readable once it ended */
	bool listen_watched; /* vsock: the agent's connections are taken */
	int deadline_fd; /* the agent's first answer */
	int lock_fd;
	struct ctl_client *clients;
	unsigned n_clients;
	uint32_t next_run_id;
	bool ready;   /* the agent answered once */
	bool stopping;
	bool terminated; /* QEMU got SIGTERM: SIGKILL when it is still there at the timer */
	time_t boot_started;
	char applications[VMAPP_VM_PATH_MAX];
	/* This program, the Exec of the menu entries: /proc/self/exe once,
	 * "vmapp-proxy" (found in PATH) when it can not be read. */
	char self[PATH_MAX];
};

static void say(struct serve *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of the VM's log, with the time: what took how long. */
static void say(struct serve *s, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32] = "";
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s: ", when, ts.tv_nsec / 1000000, s->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One line to the client that started us, while it listens. */
static void progress(struct serve *s, const char *kind, const char *text)
{
	if (text)
		say(s, "%s", text);
	if (s->status_fd < 0)
		return;
	char line[4200];
	int n = snprintf(line, sizeof(line), "%s%s%s\n", kind, text ? " " : "", text ? text : "");
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(s->status_fd, line, (size_t)n) != n) {
		/* The client went: the VM starts anyway. */
		close(s->status_fd);
		s->status_fd = -1;
	}
}

static void status_done(struct serve *s, const char *kind, const char *text)
{
	progress(s, kind, text);
	if (s->status_fd >= 0)
		close(s->status_fd);
	s->status_fd = -1;
}

static void boot_step(void *data, const char *line)
{
	progress(data, "step", line);
}

/* Arms (seconds > 0) or disarms a timerfd. */
static void arm(int fd, unsigned seconds)
{
	struct itimerspec its = { .it_value = { .tv_sec = seconds } };
	timerfd_settime(fd, 0, &its, NULL);
}

static void arm_timer(struct serve *s, unsigned seconds)
{
	arm(s->timer_fd, seconds);
}

/* --- control clients -------------------------------------------------- */

static void client_answer(struct ctl_client *c, const char *verb, const char *text)
{
	const char *fields[] = { text };
	vmapp_ctl_send(c->fd, verb, fields, text ? 1 : 0);
}

static void client_destroy(struct ctl_client *c)
{
	struct serve *s = c->s;
	for (struct ctl_client **p = &s->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	s->n_clients--;
	vmapp_relay_remove_source(s->relay, c->fd);
	close(c->fd);
	vmapp_vm_output_finish(&c->output);
	free(c->argv);
	free(c);
}

/* The output bytes that went on to the client go back to the guest as
 * credit; while some wait, the client's socket is watched for room. */
static void output_went(struct ctl_client *c, int64_t went)
{
	struct serve *s = c->s;
	if (went > 0 && s->bridge && vmapp_bridge_ready(s->bridge))
		vmapp_bridge_send_output_credit(s->bridge, c->run_id, (uint32_t)went);
	vmapp_relay_source_events(s->relay, c->fd,
				  EPOLLIN | (vmapp_vm_output_pending(&c->output) ? EPOLLOUT : 0));
}

static void send_run(struct ctl_client *c)
{
	struct serve *s = c->s;
	uint32_t argc = 0;
	while (c->argv[argc])
		argc++;
	int r = vmapp_bridge_send_run(s->bridge, c->run_id, (const char *const *)c->argv, argc,
				      NULL, 0);
	if (r < 0) {
		client_answer(c, "ERROR", r == -EMSGSIZE ? "the command line is too long"
							 : "the agent can not take it");
		client_destroy(c);
		return;
	}
	c->sent = true;
	if (s->options->verbose)
		say(s, "run %u: %s", c->run_id, c->argv[0]);
}

static void send_pending(struct serve *s)
{
	struct ctl_client *c = s->clients;
	while (c) {
		struct ctl_client *next = c->next;
		if (c->run_id && !c->sent)
			send_run(c);
		c = next;
	}
}

/* RUN ARG...: the argv kept in one allocation. */
static int take_run(struct ctl_client *c, const struct vmapp_ctl_msg *msg)
{
	size_t bytes = (msg->n_fields + 1) * sizeof(char *);
	for (size_t i = 0; i < msg->n_fields; i++)
		bytes += strlen(msg->fields[i]) + 1;
	c->argv = malloc(bytes);
	if (!c->argv)
		return -ENOMEM;
	char *p = (char *)(c->argv + msg->n_fields + 1);
	for (size_t i = 0; i < msg->n_fields; i++) {
		size_t l = strlen(msg->fields[i]) + 1;
		memcpy(p, msg->fields[i], l);
		c->argv[i] = p;
		p += l;
	}
	c->argv[msg->n_fields] = NULL;
	c->run_id = ++c->s->next_run_id;
	return 0;
}

/* SIGNAL N after RUN: on to the command's process group in the guest,
 * whose EXIT answers as ever.  A RUN still queued (the agent not there
 * yet) never runs: the client hears what a signal that ended it would
 * say. */
static void signal_run(struct ctl_client *c, const char *untrusted_signo)
{
	struct serve *s = c->s;
	char *end;
	errno = 0;
	unsigned long n = strtoul(untrusted_signo, &end, 10);
	/* Digits only (strtoul would take " -1"), and the transport's list:
	 * nothing the agent would refuse, which would cost the stream. */
	if (untrusted_signo[0] < '0' || untrusted_signo[0] > '9' || *end || errno || n > 64 ||
	    !vmapp_transport_signal_ok((uint32_t)n)) {
		client_answer(c, "ERROR", "SIGNAL needs one of 1, 2, 3, 9, 10, 12, 15");
		client_destroy(c);
		return;
	}
	if (!c->sent) {
		char text[16];
		snprintf(text, sizeof(text), "%lu", 128 + n);
		if (s->options->verbose)
			say(s, "run %u: %s dropped before it ran: signal %lu", c->run_id,
			    c->argv[0], n);
		client_answer(c, "EXIT", text);
		client_destroy(c);
		return;
	}
	/* A sent RUN has the bridge it went on (end_stream answers its
	 * clients when the stream ends). */
	int r = s->bridge ? vmapp_bridge_send_signal(s->bridge, c->run_id, (uint32_t)n) : -ENOTCONN;
	if (r < 0)
		say(s, "run %u: can not send signal %lu: %s", c->run_id, n, strerror(-r));
	else if (s->options->verbose)
		say(s, "run %u: signal %lu", c->run_id, n);
}

static void kill_vm(struct serve *s)
{
	if (s->boot.qemu <= 0) {
		vmapp_relay_stop(s->relay);
		return;
	}
	kill(s->boot.qemu, SIGTERM);
	s->terminated = true;
	arm_timer(s, (unsigned)STOP_GRACE_S);
}

static void stop_vm(struct serve *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	say(s, "stopping the VM");
	static const char *const sync_argv[] = { "sync" };
	if (s->bridge && vmapp_bridge_ready(s->bridge) &&
	    vmapp_bridge_send_run(s->bridge, SYNC_RUN_ID, sync_argv, 1, NULL, 0) == 0) {
		arm_timer(s, SYNC_WAIT_S);
		return;
	}
	kill_vm(s);
}

static void dispatch_client(void *data)
{
	struct ctl_client *c = data;
	struct serve *s = c->s;
	static char buf[VMAPP_CTL_MAX + 1];
	struct vmapp_ctl_msg msg;
	if (vmapp_vm_output_pending(&c->output)) {
		int64_t went = vmapp_vm_output_flush(&c->output, c->fd);
		if (c->exited && !vmapp_vm_output_pending(&c->output)) {
			client_destroy(c);
			return;
		}
		/* The run may have ended meanwhile: then no credit is due. */
		if (c->exited)
			went = 0;
		output_went(c, went);
	}
	int r = vmapp_ctl_recv(c->fd, buf, &msg);
	if (r == -EAGAIN)
		return;
	if (r <= 0) {
		/* Gone (its command, if any, runs on in the guest), or not
		 * speaking the protocol. */
		client_destroy(c);
		return;
	}
	if (strcmp(msg.verb, "RUN") == 0 && !c->run_id && !c->stop_requested) {
		if (msg.n_fields == 0 || msg.fields[0][0] == '\0') {
			client_answer(c, "ERROR", "RUN needs a command");
			client_destroy(c);
			return;
		}
		if (s->stopping) {
			client_answer(c, "ERROR", "the VM is stopping");
			client_destroy(c);
			return;
		}
		if (take_run(c, &msg) < 0) {
			client_answer(c, "ERROR", "out of memory");
			client_destroy(c);
			return;
		}
		if (s->bridge && vmapp_bridge_ready(s->bridge))
			send_run(c);
		return;
	}
	if (strcmp(msg.verb, "SIGNAL") == 0 && c->run_id && msg.n_fields == 1) {
		signal_run(c, msg.fields[0]);
		return;
	}
	if (strcmp(msg.verb, "STOP") == 0 && !c->run_id) {
		c->stop_requested = true;
		client_answer(c, "STOPPING", NULL);
		stop_vm(s);
		return;
	}
	client_answer(c, "ERROR", "unknown request");
	client_destroy(c);
}

static void dispatch_ctl(void *data)
{
	struct serve *s = data;
	int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct ctl_client *c = s->n_clients < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		const char *why[] = { "too many requests at once" };
		vmapp_ctl_send(fd, "ERROR", why, 1);
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	if (vmapp_relay_add_source(s->relay, fd, dispatch_client, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->clients;
	s->clients = c;
	s->n_clients++;
}

/* --- the agent's stream ----------------------------------------------- */

static void export_apps(struct serve *s, const struct vmapp_transport_frame *frame)
{
	if (!s->applications[0])
		return;
	struct vmapp_transport_app *apps = calloc(frame->apps.count + 1, sizeof(*apps));
	if (!apps)
		return;
	const char *p = frame->apps.strings;
	for (uint32_t i = 0; i < frame->apps.count; i++) {
		apps[i].id = p;
		p += strlen(p) + 1;
		apps[i].name = p;
		p += strlen(p) + 1;
		apps[i].exec = p;
		p += strlen(p) + 1;
		apps[i].icon = p;
		p += strlen(p) + 1;
		apps[i].categories = p;
		p += strlen(p) + 1;
	}
	char error[512];
	unsigned written = 0;
	int r = vmapp_export_apps(s->applications, s->def->name, s->self, apps, frame->apps.count,
				  error, sizeof(error), &written);
	if (r < 0) {
		say(s, "the application menu: %s", error);
	} else {
		if (r > 0)
			say(s, "the application menu: %d apps left out, the first because: %s", r,
			    error);
		say(s, "the application menu: %u of the guest's %u apps in %s", written,
		    frame->apps.count, s->applications);
	}
	free(apps);
}

/* A command's output, to the client that asked for it, in order and
 * whole (vm-output.h).  Output of the proxy's own sync goes nowhere, and
 * its credit back at once. */
static void forward_output(struct serve *s, const struct vmapp_transport_frame *frame)
{
	for (struct ctl_client *c = s->clients; c; c = c->next) {
		if (c->run_id != frame->output.run_id || !c->sent)
			continue;
		int64_t went = vmapp_vm_output_push(&c->output, c->fd, frame->output.stream,
						    frame->output.data, frame->output.size);
		if (went < 0) {
			say(s, "run %u: out of memory for its output", c->run_id);
			went = frame->output.size;
		}
		output_went(c, went);
		return;
	}
	vmapp_bridge_send_output_credit(s->bridge, frame->output.run_id, frame->output.size);
}

/* EXIT after the output before it: at once when none waits. */
static void client_exit(struct ctl_client *c, const char *status)
{
	const char *fields[] = { status };
	static char message[VMAPP_CTL_MAX]; /* vmapp_ctl_format's size */
	ssize_t size = vmapp_ctl_format(message, "EXIT", fields, 1);
	if (!vmapp_vm_output_pending(&c->output) || size < 0 ||
	    vmapp_vm_output_push_message(&c->output, c->fd, message, (size_t)size) < 0) {
		vmapp_vm_output_flush(&c->output, c->fd);
		client_answer(c, "EXIT", status);
		client_destroy(c);
		return;
	}
	c->exited = true;
	if (!vmapp_vm_output_pending(&c->output)) {
		client_destroy(c);
		return;
	}
	output_went(c, 0);
}

static void control(void *data, struct vmapp_bridge *bridge,
		    const struct vmapp_transport_frame *frame)
{
	struct serve *s = data;
	if (frame->kind == VMAPP_TRANSPORT_APPS) {
		export_apps(s, frame);
		return;
	}
	if (frame->kind == VMAPP_TRANSPORT_OUTPUT) {
		forward_output(s, frame);
		return;
	}
	if (frame->kind != VMAPP_TRANSPORT_EXIT)
		return;
	if (frame->exit.run_id == SYNC_RUN_ID && s->stopping) {
		say(s, "the guest's disk is synced");
		kill_vm(s);
		return;
	}
	for (struct ctl_client *c = s->clients; c; c = c->next) {
		if (c->run_id != frame->exit.run_id || !c->sent)
			continue;
		int status = frame->exit.status >= 0 ? frame->exit.status
						      : 128 - frame->exit.status;
		char text[16];
		snprintf(text, sizeof(text), "%d", status);
		if (s->options->verbose)
			say(s, "run %u: %s exited %d", c->run_id, c->argv[0], status);
		client_exit(c, text);
		return;
	}
}

static int open_channel(void *data, uint32_t channel)
{
	struct serve *s = data;
	return vmapp_relay_add_pair(s->relay);
}

static void start_stream(struct serve *s);
static void dispatch_agent_listen(void *data);
static void watch_agent_listen(struct serve *s, bool on);

static void end_stream(struct serve *s)
{
	bool error = false;
	vmapp_bridge_closed(s->bridge, &error);
	vmapp_relay_remove_source(s->relay, vmapp_bridge_fd(s->bridge));
	vmapp_bridge_destroy(s->bridge);
	s->bridge = NULL;
	say(s, "the agent's stream ended%s", error ? " in an error" : "");
	/* Commands in flight are lost with it: their clients hear so. */
	struct ctl_client *c = s->clients;
	while (c) {
		struct ctl_client *next = c->next;
		if (c->sent) {
			char text[300];
			snprintf(text, sizeof(text), "the agent's stream ended before %.200s did",
				 c->argv[0]);
			client_answer(c, "ERROR", text);
			client_destroy(c);
		}
		c = next;
	}
	watch_agent_listen(s, false);
	if (s->stopping)
		kill_vm(s);
	else
		arm_timer(s, RECONNECT_S);
}

static void dispatch_bridge(void *data)
{
	struct serve *s = data;
	vmapp_bridge_dispatch(s->bridge);
	if (vmapp_bridge_closed(s->bridge, NULL)) {
		end_stream(s);
		return;
	}
	if (!vmapp_bridge_ready(s->bridge))
		return;
	if (!s->ready) {
		s->ready = true;
		char text[64];
		snprintf(text, sizeof(text), "the agent is there after %ld s",
			 (long)(time(NULL) - s->boot_started));
		progress(s, "step", text);
		status_done(s, "ready", NULL);
		arm(s->deadline_fd, 0);
		vmapp_bridge_send_list_apps(s->bridge);
	}
	send_pending(s);
}

/* Serves the agent's stream on fd (the bridge's from now on). */
static void serve_stream(struct serve *s, int fd)
{
	struct vmapp_bridge_config config = {
		.role = VMAPP_TRANSPORT_HOST,
		.name = s->name,
		.verbose = s->options->verbose,
		.open_channel = open_channel,
		.control = control,
		.data = s,
	};
	s->bridge = vmapp_bridge_create(&config, fd);
	if (!s->bridge || vmapp_relay_add_source(s->relay, vmapp_bridge_fd(s->bridge),
						 dispatch_bridge, s) < 0) {
		say(s, "can not serve the agent's stream: out of memory");
		vmapp_bridge_destroy(s->bridge);
		s->bridge = NULL;
		arm_timer(s, RECONNECT_S);
		return;
	}
	dispatch_bridge(s);
}

/* serial: the proxy connects to QEMU's end of the port, again after
 * each stream (the agent is started again in the guest). */
static void start_stream(struct serve *s)
{
	if (s->boot.transport != VMAPP_TRANSPORT_SERIAL)
		return;
	int fd = vmapp_unix_connect(s->paths.transport_socket);
	if (fd < 0) {
		say(s, "can not connect to %s: %s", s->paths.transport_socket, strerror(-fd));
		arm_timer(s, RECONNECT_S);
		return;
	}
	serve_stream(s, fd);
}

/* vsock: after a stream ended the agent's next connection is taken a
 * second later at the earliest, so that a guest that connects and hangs
 * up in a loop costs the host's log a few lines a second, not two lines
 * each time (with serial the proxy connects, on the same timer).  While a
 * stream is served, other connections are refused at once, their lines
 * rate-limited (vmapp_agent_accept). */
static void watch_agent_listen(struct serve *s, bool on)
{
	if (s->boot.agent_listen_fd < 0 || s->listen_watched == on)
		return;
	if (on && vmapp_relay_add_source(s->relay, s->boot.agent_listen_fd,
					 dispatch_agent_listen, s) < 0)
		return;
	if (!on)
		vmapp_relay_remove_source(s->relay, s->boot.agent_listen_fd);
	s->listen_watched = on;
}

/* vmapp-vsockd ended before QEMU: the VM has lost its way to the agent
 * for good, so it is stopped (with its reason in the log) rather than
 * left running with nobody to serve its commands. */
static void dispatch_vsockd(void *data)
{
	struct serve *s = data;
	int status = 0;
	vmapp_relay_remove_source(s->relay, s->vsockd_fd);
	/* It ends by itself when QEMU does. */
	if (vmapp_relay_child_exited(s->relay))
		return;
	if (vmapp_launch_wait(s->boot.vsockd, 0, &status) == 0) {
		s->boot.vsockd = 0;
		say(s, "vmapp-vsockd ended (%s %d): the VM has no transport left; stopping it",
		    WIFEXITED(status) ? "status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	if (!s->stopping && !s->terminated) {
		s->stopping = true;
		kill_vm(s);
	}
}

/* vsock: the agent connects, again after each stream. */
static void dispatch_agent_listen(void *data)
{
	struct serve *s = data;
	bool kernel = s->boot.vsock_device == VMAPP_VSOCK_KERNEL;
	int fd = vmapp_agent_accept(s->boot.agent_listen_fd, &s->reserve_fd,
				    kernel ? &s->boot.guest_cid : NULL, s->bridge != NULL, s->name);
	if (fd < 0)
		return;
	say(s, "the agent connected");
	serve_stream(s, fd);
}

static void dispatch_timer(void *data)
{
	struct serve *s = data;
	uint64_t expirations;
	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	if (s->terminated) {
		say(s, "QEMU did not end %.0f s after SIGTERM: SIGKILL", STOP_GRACE_S);
		kill(s->boot.qemu, SIGKILL);
		return;
	}
	if (s->stopping) {
		say(s, "no answer to sync in %d s", SYNC_WAIT_S);
		kill_vm(s);
		return;
	}
	if (!s->bridge) {
		start_stream(s);
		watch_agent_listen(s, true);
	}
}

static void dispatch_deadline(void *data)
{
	struct serve *s = data;
	uint64_t expirations;
	if (read(s->deadline_fd, &expirations, sizeof(expirations)) < 0 || s->ready)
		return;
	char text[2600];
	snprintf(text, sizeof(text), "agent: no agent answered in %d s (the guest's console: "
		 "%s; log: %s)", AGENT_WAIT_S, s->paths.console_log, s->paths.vm_log);
	status_done(s, "failed", text);
	stop_vm(s);
}

/* --- the start and the end ---------------------------------------------- */

/* Where the builds and images come from: the environment, else this
 * build's (meson sets them). */
static const char *tool_path(const char *env, const char *fallback)
{
	const char *v = getenv(env);
	return v && v[0] ? v : fallback;
}

static int prepare(struct serve *s, char *error, size_t size)
{
	struct vmapp_env env;
	vmapp_env_from_environ(&env);
	int r = vmapp_vm_paths_init(&s->paths, &env, s->options->name, error, size);
	if (r < 0)
		return r;
	if (!s->paths.has_runtime) {
		snprintf(error, size, "runtime: %s", vmapp_vm_paths_runtime_error(&s->paths, &env));
		return -EINVAL;
	}
	r = vmapp_vmdef_load(s->paths.config_file, s->options->name, error, size, &s->def);
	if (r < 0)
		return r;
	if (vmapp_export_dir(&env, s->applications, sizeof(s->applications)) < 0)
		s->applications[0] = '\0';
	if (s->def->policy) {
		r = vmapp_policy_load(s->def->policy, &vmapp_protocols, error, size, &s->policy);
		if (r < 0)
			return r;
	} else {
		s->policy = vmapp_policy_create_default();
		if (!s->policy) {
			snprintf(error, size, "policy: the built-in policy failed to load");
			return -ENOMEM;
		}
	}
	return 0;
}

/* One proxy per VM: the lock in its runtime folder.  1 when another
 * holds it. */
static int take_lock(struct serve *s, char *error, size_t size)
{
	int r = vmapp_make_dirs(s->paths.runtime_dir, 0700);
	if (r < 0) {
		snprintf(error, size, "runtime: can not make %s: %s", s->paths.runtime_dir,
			 strerror(-r));
		return r;
	}
	s->lock_fd = open(s->paths.lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		snprintf(error, size, "runtime: %s: %s", s->paths.lock_file, strerror(errno));
		return -errno;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 1 : -errno;
	return 0;
}

static void cleanup(struct serve *s)
{
	if (s->bridge) {
		vmapp_relay_remove_source(s->relay, vmapp_bridge_fd(s->bridge));
		vmapp_bridge_destroy(s->bridge);
		s->bridge = NULL;
	}
	if (s->relay && vmapp_relay_child_exited(s->relay))
		s->boot.qemu = 0; /* reaped by the relay */
	if (s->relay)
		watch_agent_listen(s, false);
	if (s->reserve_fd >= 0)
		close(s->reserve_fd);
	if (s->vsockd_fd >= 0) {
		vmapp_relay_remove_source(s->relay, s->vsockd_fd);
		close(s->vsockd_fd);
	}
	vmapp_boot_stop(&s->boot, &s->paths, STOP_GRACE_S);
	if (s->ctl_fd >= 0) {
		close(s->ctl_fd);
		unlink(s->paths.control_socket);
	}
	/* Those who asked for STOP or waited for a command hear the end
	 * last: when their connection closes, nothing of the VM is left. */
	while (s->clients) {
		struct ctl_client *c = s->clients;
		if (c->run_id)
			client_answer(c, "ERROR", "the VM stopped");
		client_destroy(c);
	}
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->deadline_fd >= 0)
		close(s->deadline_fd);
	vmapp_relay_destroy(s->relay);
	if (s->lock_fd >= 0) {
		unlink(s->paths.lock_file);
		rmdir(s->paths.runtime_dir);
		close(s->lock_fd);
	}
	vmapp_policy_destroy(s->policy);
	vmapp_vmdef_destroy(s->def);
}

int vmapp_vm_serve(const struct vmapp_vm_options *options)
{
	struct serve s = {
		.options = options, .status_fd = options->status_fd, .ctl_fd = -1,
		.timer_fd = -1, .deadline_fd = -1, .lock_fd = -1, .reserve_fd = -1, .vsockd_fd = -1,
		.boot = VMAPP_BOOT_NONE,
	};
	char error[4096], upstream[PATH_MAX];
	int status = VMAPP_EXIT_FAILURE, r;

	snprintf(s.name, sizeof(s.name), "vmapp-proxy[%s]", options->name);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	r = prepare(&s, error, sizeof(error));
	if (r == 0) {
		r = take_lock(&s, error, sizeof(error));
		if (r == 1) {
			status_done(&s, "running", NULL);
			close(s.lock_fd);
			s.lock_fd = -1;
			cleanup(&s);
			return 0;
		}
	}
	if (r == 0 && vmapp_compositor_find(upstream, sizeof(upstream)) < 0) {
		snprintf(error, sizeof(error), "compositor: no Wayland compositor to show the "
			 "VM's windows on (WAYLAND_DISPLAY)");
		r = -ENOENT;
	}
	if (r == 0) {
		s.ctl_fd = vmapp_ctl_listen(s.paths.control_socket);
		if (s.ctl_fd < 0) {
			snprintf(error, sizeof(error), "control: can not listen on %s: %s",
				 s.paths.control_socket, strerror(-s.ctl_fd));
			r = s.ctl_fd;
		}
	}
	if (r < 0) {
		status_done(&s, "failed", error);
		cleanup(&s);
		return VMAPP_EXIT_FAILURE;
	}

	s.boot_started = time(NULL);
	say(&s, "starting VM %s", options->name);
	ssize_t n = readlink("/proc/self/exe", s.self, sizeof(s.self) - 1);
	if (n > 0)
		s.self[n] = '\0';
	else
		snprintf(s.self, sizeof(s.self), "vmapp-proxy");
	struct vmapp_boot_config boot = {
		.def = s.def,
		.paths = &s.paths,
		.build_image = tool_path("VMAPP_BUILD_IMAGE", VMAPP_BUILD_IMAGE_DEFAULT),
		.agent = tool_path("VMAPP_AGENT", VMAPP_AGENT_DEFAULT),
		.packages = s.def->packages,
		.vsockd = tool_path("VMAPP_VSOCKD", VMAPP_VSOCKD_DEFAULT),
		.step = boot_step,
		.data = &s,
	};
	r = vmapp_boot_start(&boot, &s.boot, error, sizeof(error));
	if (r < 0) {
		status_done(&s, "failed", error);
		cleanup(&s);
		return VMAPP_EXIT_FAILURE;
	}

	s.relay = vmapp_vm_relay_create(upstream, s.policy, s.def->name, options->verbose);
	s.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	s.deadline_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!s.relay || s.timer_fd < 0 || s.deadline_fd < 0 ||
	    vmapp_relay_add_source(s.relay, s.ctl_fd, dispatch_ctl, &s) < 0 ||
	    vmapp_relay_add_source(s.relay, s.timer_fd, dispatch_timer, &s) < 0 ||
	    vmapp_relay_add_source(s.relay, s.deadline_fd, dispatch_deadline, &s) < 0) {
		snprintf(error, sizeof(error), "proxy: can not set up the relay (log: %s)",
			 s.paths.vm_log);
		status_done(&s, "failed", error);
		cleanup(&s);
		return VMAPP_EXIT_FAILURE;
	}
	if (s.boot.agent_listen_fd >= 0) {
		s.reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		watch_agent_listen(&s, true);
		if (!s.listen_watched) {
			snprintf(error, sizeof(error), "proxy: can not wait for the agent (log: %s)",
				 s.paths.vm_log);
			status_done(&s, "failed", error);
			cleanup(&s);
			return VMAPP_EXIT_FAILURE;
		}
	}
	if (s.boot.vsockd > 0) {
#ifdef SYS_pidfd_open
		s.vsockd_fd = (int)syscall(SYS_pidfd_open, s.boot.vsockd, 0);
#endif
		if (s.vsockd_fd >= 0 &&
		    vmapp_relay_add_source(s.relay, s.vsockd_fd, dispatch_vsockd, &s) < 0) {
			close(s.vsockd_fd);
			s.vsockd_fd = -1;
		}
	}
	vmapp_relay_watch_child(s.relay, s.boot.qemu);
	progress(&s, "step", "waiting for the agent");
	arm(s.deadline_fd, AGENT_WAIT_S);
	start_stream(&s);

	r = vmapp_relay_run(s.relay);
	if (vmapp_relay_child_exited(s.relay)) {
		say(&s, "QEMU exited with status %d", r);
		if (!s.ready) {
			snprintf(error, sizeof(error), "qemu: QEMU exited (status %d) before the "
				 "agent answered (log: %s; the guest's console: %s)", r,
				 s.paths.vm_log, s.paths.console_log);
			status_done(&s, "failed", error);
		}
		status = s.ready || s.stopping ? 0 : VMAPP_EXIT_FAILURE;
	} else {
		/* SIGTERM or SIGINT: passed on to QEMU by the relay, which
		 * returns once it exited; or a stop before QEMU ran. */
		status = 0;
	}
	say(&s, "the VM stopped");
	cleanup(&s);
	return status;
}
