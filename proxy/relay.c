/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peer-log.h"
#include "relay.h"
#include "side.h"
#include "unix.h"

/* A libwayland sender never has more fds ahead of their messages than
 * one flush's worth; more is an attempt to hoard our fd table. */
#define FDS_AHEAD_MAX VMAPP_SIDE_FDS_PER_SENDMSG
/* The message rate is budgeted per tenth of a second. */
#define RATE_WINDOW_NS UINT64_C(100000000)

enum source_kind {
	SOURCE_LISTEN, SOURCE_SIGNAL, SOURCE_TIMER, SOURCE_CLIENT, SOURCE_SERVER, SOURCE_EXTERNAL,
};

/* An fd of another part of the program (the transport bridge) served by
 * this loop: dispatch is called when it is readable. */
struct external {
	struct vmapp_source source;
	int fd;
	void (*dispatch)(void *data); /* NULL: a free slot */
	void *data;
};
/* The transport bridge, and a VM's proxy: its control socket, one per
 * control client, a timer. */
#define RELAY_EXTERNALS_MAX 80


struct client {
	struct vmapp_relay *relay;
	unsigned int number;
	struct vmapp_conn conn;
	struct vmapp_side app;      /* the proxied client */
	struct vmapp_side upstream; /* our own connection to the compositor */
	struct client *next;
	bool dead; /* closed, freed at the end of the epoll batch */
	/* The message rate: requests counted per window of RATE_WINDOW_NS;
	 * past the budget, nothing is read until throttled_until. */
	uint64_t window_start;
	uint32_t window_count;
	uint64_t throttled_until; /* 0 when not throttled */
};

struct vmapp_relay {
	struct vmapp_relay_options options;
	int epoll_fd;
	int listen_fd;
	int signal_fd;
	int timer_fd;
	uint64_t timer_at; /* when timer_fd fires, 0 when disarmed */
	sigset_t old_mask;
	pid_t child;
	int child_status;
	bool child_done;
	bool stop;
	struct client *clients;
	struct client *dead;
	unsigned int next_number;
	struct vmapp_source listen_source;
	struct vmapp_source signal_source;
	struct vmapp_source timer_source;
	struct external externals[RELAY_EXTERNALS_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Arms the timer for `at` unless it fires earlier already. */
static void timer_arm(struct vmapp_relay *relay, uint64_t at)
{
	if (relay->timer_at != 0 && relay->timer_at <= at)
		return;
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(at / 1000000000u),
			      .tv_nsec = (long)(at % 1000000000u) },
	};
	if (timerfd_settime(relay->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		relay->timer_at = at;
}

static void client_log(const struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void client_log(const struct client *c, const char *fmt, ...)
{
	char text[1024], line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "vmapp-proxy[%s]: client %u: %s",
		 c->relay->options.conn.label, c->number, text);
	vmapp_peer_log(line);
}

static const struct vmapp_limits *relay_limits(const struct vmapp_relay *relay)
{
	return vmapp_policy_limits(relay->options.conn.policy);
}

static void client_free(struct client *c)
{
	vmapp_side_finish(&c->app);
	vmapp_side_finish(&c->upstream);
	vmapp_conn_finish(&c->conn);
	free(c);
}

/*
 * Closes the client's sockets now; its memory goes at the end of the
 * epoll batch, which may still hold events that point into it.
 */
static void client_destroy(struct client *c)
{
	struct vmapp_relay *relay = c->relay;
	struct client **p = &relay->clients;

	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
	if (relay->options.verbose)
		client_log(c, "disconnected");
	vmapp_side_finish(&c->app);
	vmapp_side_finish(&c->upstream);
	c->dead = true;
	c->next = relay->dead;
	relay->dead = c;
}

static void free_dead(struct vmapp_relay *relay)
{
	while (relay->dead) {
		struct client *c = relay->dead;
		relay->dead = c->next;
		client_free(c);
	}
}

static void violation(struct client *c, const struct vmapp_verdict *v)
{
	client_log(c, "%s.%s@%u: %s", v->interface_name, v->message_name, v->object_id,
		   vmapp_rule_name(v->rule));
	if (v->rule != VMAPP_RULE_SERVER_PROTOCOL) {
		char text[128];
		snprintf(text, sizeof(text), "vmapp: %s.%s: %s", v->interface_name,
			 v->message_name, vmapp_rule_name(v->rule));
		uint32_t code = v->rule == VMAPP_RULE_NO_MEMORY ? 2 /* no_memory */
			      : v->rule == VMAPP_RULE_OBJECT_UNKNOWN ? 0 /* invalid_object */
			      : 1 /* invalid_method */;
		/* Best effort: the client is cut off whether or not it reads this. */
		struct vmapp_buf *out = &c->app.out;
		out->start = out->len = 0;
		vmapp_fdq_finish(&c->app.out_fds);
		if (vmapp_conn_write_error(out, v->object_id ? v->object_id : 1, code, text) == 0)
			vmapp_side_flush(&c->app);
	}
	client_destroy(c);
}

static void simple_violation(struct client *c, enum vmapp_rule rule)
{
	struct vmapp_verdict v = {
		.rule = rule, .interface_name = "?", .message_name = "?", .object_id = 0,
	};
	violation(c, &v);
}

/* Runs every whole message of one direction through the validator.
 * false when the client was destroyed. */
static bool pump(struct client *c, enum vmapp_direction direction)
{
	struct vmapp_side *from = direction == VMAPP_REQUEST ? &c->app : &c->upstream;
	struct vmapp_side *to = direction == VMAPP_REQUEST ? &c->upstream : &c->app;
	const struct vmapp_limits *limits = relay_limits(c->relay);
	uint32_t budget = limits->message_rate / 10 ? limits->message_rate / 10 : 1;

	if (direction == VMAPP_REQUEST && c->throttled_until)
		return true;
	if (direction == VMAPP_REQUEST && vmapp_buf_size(&from->in) > 0) {
		uint64_t now = now_ns();
		if (now - c->window_start >= RATE_WINDOW_NS) {
			c->window_start = now;
			c->window_count = 0;
		}
	}

	while (vmapp_buf_size(&from->in) > 0) {
		/* Back-pressure: the reader of `to` is behind; wait for it. */
		if (vmapp_buf_size(&to->out) >= limits->queue_bytes)
			break;
		if (direction == VMAPP_REQUEST && c->window_count >= budget) {
			c->throttled_until = c->window_start + RATE_WINDOW_NS;
			timer_arm(c->relay, c->throttled_until);
			break;
		}
		uint64_t at = to->out_base + vmapp_buf_size(&to->out);
		struct vmapp_verdict v = vmapp_conn_handle(&c->conn, direction,
							   vmapp_buf_head(&from->in),
							   vmapp_buf_size(&from->in),
							   from->in_fds.fds, from->in_fds.n, &to->out);
		if (v.rule == VMAPP_RULE_HEADER_TRUNCATED || v.rule == VMAPP_RULE_MESSAGE_TRUNCATED)
			break;
		if (v.rule != VMAPP_RULE_OK) {
			violation(c, &v);
			return false;
		}
		if (v.forward && v.n_fds > 0) {
			size_t first = to->out_fds.n;
			if (vmapp_fdq_move(&from->in_fds, &to->out_fds, v.n_fds) < 0) {
				simple_violation(c, VMAPP_RULE_LIMIT_FDS);
				return false;
			}
			for (size_t i = first; i < to->out_fds.n; i++)
				to->out_fd_at[i] = at;
		} else {
			vmapp_fdq_drop(&from->in_fds, v.n_fds);
		}
		vmapp_buf_consume(&from->in, v.size);
		if (direction == VMAPP_REQUEST)
			c->window_count++;
	}

	if (direction == VMAPP_REQUEST &&
	    (from->in_fds.n + to->out_fds.n > limits->fds_in_flight ||
	     (vmapp_buf_size(&from->in) == 0 && from->in_fds.n > FDS_AHEAD_MAX))) {
		struct vmapp_verdict v = {
			.rule = vmapp_buf_size(&from->in) == 0 ? VMAPP_RULE_FD_EXTRA
							       : VMAPP_RULE_LIMIT_FDS,
			.interface_name = "?", .message_name = "?",
		};
		violation(c, &v);
		return false;
	}
	return true;
}

static bool client_update(struct client *c)
{
	const struct vmapp_limits *limits = relay_limits(c->relay);
	/* Read from one side only while the other's queue has room. */
	bool read_app = vmapp_buf_size(&c->upstream.out) < limits->queue_bytes &&
			vmapp_buf_size(&c->app.in) < limits->queue_bytes && !c->throttled_until;
	bool read_upstream = vmapp_buf_size(&c->app.out) < limits->queue_bytes &&
			     vmapp_buf_size(&c->upstream.in) < limits->queue_bytes;

	if (vmapp_side_flush(&c->upstream) < 0 || vmapp_side_flush(&c->app) < 0) {
		client_destroy(c);
		return false;
	}
	/* The compositor hung up (it may have killed this client) or the
	 * app did: once what is queued for the app is out, we are done. */
	if (c->app.eof || (c->upstream.eof && !vmapp_side_pending(&c->app))) {
		client_destroy(c);
		return false;
	}
	if (vmapp_side_update(c->relay->epoll_fd, &c->app, read_app) < 0 ||
	    vmapp_side_update(c->relay->epoll_fd, &c->upstream, read_upstream) < 0) {
		client_destroy(c);
		return false;
	}
	return true;
}

static void handle_side(struct client *c, struct vmapp_side *s, uint32_t events)
{
	enum vmapp_direction direction = s == &c->app ? VMAPP_REQUEST : VMAPP_EVENT;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		int r = vmapp_side_read(s);
		if (r == -EMFILE) {
			if (direction == VMAPP_REQUEST) {
				simple_violation(c, VMAPP_RULE_LIMIT_FDS);
				return;
			}
			client_destroy(c);
			return;
		}
		if (r != 0) {
			s->eof = true;
			if (r < 0 && c->relay->options.verbose)
				client_log(c, "%s: %s", s == &c->app ? "app" : "compositor",
					   strerror(-r));
		}
		if (!pump(c, direction))
			return;
	}
	/* Room may have opened up for the other direction too. */
	if (!pump(c, direction == VMAPP_REQUEST ? VMAPP_EVENT : VMAPP_REQUEST))
		return;
	client_update(c);
}

static int connect_upstream(const char *path)
{
	int fd = vmapp_unix_connect(path);
	if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int vmapp_relay_add_client(struct vmapp_relay *relay, int fd)
{
	int up = connect_upstream(relay->options.upstream_path);
	if (up < 0) {
		fprintf(stderr, "vmapp-proxy[%s]: can not reach the compositor at %s: %s\n",
			relay->options.conn.label, relay->options.upstream_path, strerror(-up));
		close(fd);
		return up;
	}

	struct client *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		close(up);
		return -ENOMEM;
	}
	c->relay = relay;
	c->number = ++relay->next_number;
	vmapp_side_init(&c->app, fd, SOURCE_CLIENT, c);
	vmapp_side_init(&c->upstream, up, SOURCE_SERVER, c);
	if (vmapp_conn_init(&c->conn, &relay->options.conn) < 0)
		goto fail;

	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &c->app.source };
	if (epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	c->app.events = EPOLLIN;
	ev.data.ptr = &c->upstream.source;
	if (epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, up, &ev) < 0)
		goto fail;
	c->upstream.events = EPOLLIN;

	c->next = relay->clients;
	relay->clients = c;
	if (relay->options.verbose)
		client_log(c, "connected");
	return 0;
fail:
	vmapp_side_finish(&c->app);
	vmapp_side_finish(&c->upstream);
	vmapp_conn_finish(&c->conn);
	free(c);
	return -EIO;
}

static void accept_client(struct vmapp_relay *relay)
{
	int fd = accept4(relay->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		vmapp_relay_add_client(relay, fd);
}

int vmapp_relay_add_pair(struct vmapp_relay *relay)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	int r = vmapp_relay_add_client(relay, sv[0]);
	if (r < 0) {
		close(sv[1]);
		return r;
	}
	return sv[1];
}

int vmapp_relay_add_source(struct vmapp_relay *relay, int fd, void (*dispatch)(void *data),
			   void *data)
{
	struct external *x = NULL;
	for (unsigned int i = 0; i < RELAY_EXTERNALS_MAX && !x; i++)
		if (!relay->externals[i].dispatch)
			x = &relay->externals[i];
	if (!x)
		return -ENOSPC;
	x->fd = fd;
	x->source.kind = SOURCE_EXTERNAL;
	x->source.data = x;
	x->dispatch = dispatch;
	x->data = data;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &x->source };
	if (epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		x->dispatch = NULL;
		return -errno;
	}
	return 0;
}

void vmapp_relay_remove_source(struct vmapp_relay *relay, int fd)
{
	for (unsigned int i = 0; i < RELAY_EXTERNALS_MAX; i++) {
		struct external *x = &relay->externals[i];
		if (x->dispatch && x->fd == fd) {
			epoll_ctl(relay->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
			x->dispatch = NULL;
		}
	}
}

int vmapp_relay_source_events(struct vmapp_relay *relay, int fd, uint32_t events)
{
	for (unsigned int i = 0; i < RELAY_EXTERNALS_MAX; i++) {
		struct external *x = &relay->externals[i];
		if (!x->dispatch || x->fd != fd)
			continue;
		struct epoll_event ev = { .events = events, .data.ptr = &x->source };
		return epoll_ctl(relay->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
	}
	return -ENOENT;
}

void vmapp_relay_stop(struct vmapp_relay *relay)
{
	relay->stop = true;
}

/* The end of a rate window: throttled clients may go on. */
static void handle_timer(struct vmapp_relay *relay)
{
	uint64_t expirations;
	if (read(relay->timer_fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;
	relay->timer_at = 0;

	uint64_t now = now_ns(), next = 0;
	struct client *c = relay->clients;
	while (c) {
		struct client *following = c->next;
		if (c->throttled_until && c->throttled_until <= now) {
			c->throttled_until = 0;
			if (pump(c, VMAPP_REQUEST))
				client_update(c);
		}
		if (!c->dead && c->throttled_until && (!next || c->throttled_until < next))
			next = c->throttled_until;
		c = following;
	}
	if (next)
		timer_arm(relay, next);
}

static void handle_signal(struct vmapp_relay *relay)
{
	struct signalfd_siginfo si;

	while (read(relay->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			int status;
			pid_t pid;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				if (pid != relay->child)
					continue;
				relay->child_done = true;
				relay->child_status = WIFEXITED(status) ? WEXITSTATUS(status)
								       : 128 + WTERMSIG(status);
			}
		} else if (relay->child > 0 && !relay->child_done) {
			/* The command decides when it is done: pass the signal
			 * on and wait for its exit status, as env(1) would. */
			kill(relay->child, (int)si.ssi_signo);
		} else {
			relay->stop = true;
		}
	}
}

struct vmapp_relay *vmapp_relay_create(const struct vmapp_relay_options *options)
{
	struct vmapp_relay *relay = calloc(1, sizeof(*relay));
	if (!relay)
		return NULL;
	relay->options = *options;
	relay->epoll_fd = relay->listen_fd = relay->signal_fd = relay->timer_fd = -1;
	relay->listen_source.kind = SOURCE_LISTEN;
	relay->signal_source.kind = SOURCE_SIGNAL;
	relay->timer_source.kind = SOURCE_TIMER;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, &relay->old_mask) < 0)
		goto fail;
	relay->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	relay->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	relay->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (relay->signal_fd < 0 || relay->epoll_fd < 0 || relay->timer_fd < 0)
		goto fail;

	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &relay->listen_source };
	if (options->listen_path) {
		int fd = vmapp_unix_listen(options->listen_path);
		if (fd < 0) {
			fprintf(stderr, "vmapp-proxy: can not listen on %s: %s\n",
				options->listen_path, strerror(-fd));
			goto fail;
		}
		relay->listen_fd = fd;
		if (epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, relay->listen_fd, &ev) < 0)
			goto fail;
	}
	ev.data.ptr = &relay->signal_source;
	if (epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, relay->signal_fd, &ev) < 0)
		goto fail;
	ev.data.ptr = &relay->timer_source;
	if (epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, relay->timer_fd, &ev) < 0)
		goto fail;
	return relay;
fail:
	vmapp_relay_destroy(relay);
	return NULL;
}

void vmapp_relay_destroy(struct vmapp_relay *relay)
{
	if (!relay)
		return;
	while (relay->clients)
		client_destroy(relay->clients);
	free_dead(relay);
	if (relay->listen_fd >= 0) {
		close(relay->listen_fd);
		unlink(relay->options.listen_path);
	}
	if (relay->signal_fd >= 0)
		close(relay->signal_fd);
	if (relay->timer_fd >= 0)
		close(relay->timer_fd);
	if (relay->epoll_fd >= 0)
		close(relay->epoll_fd);
	sigprocmask(SIG_SETMASK, &relay->old_mask, NULL);
	free(relay);
}

void vmapp_relay_watch_child(struct vmapp_relay *relay, pid_t pid)
{
	relay->child = pid;
}

bool vmapp_relay_child_exited(const struct vmapp_relay *relay)
{
	return relay->child_done;
}

int vmapp_relay_run(struct vmapp_relay *relay)
{
	struct epoll_event events[64];

	/* A child that died before the loop started still left a SIGCHLD. */
	handle_signal(relay);
	while (!relay->stop && !relay->child_done) {
		int n = epoll_wait(relay->epoll_fd, events, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct vmapp_source *src = events[i].data.ptr;
			switch (src->kind) {
			case SOURCE_LISTEN:
				accept_client(relay);
				break;
			case SOURCE_SIGNAL:
				handle_signal(relay);
				break;
			case SOURCE_TIMER:
				handle_timer(relay);
				break;
			case SOURCE_EXTERNAL: {
				struct external *x = src->data;
				if (x->dispatch)
					x->dispatch(x->data);
				break;
			}
			case SOURCE_CLIENT:
			case SOURCE_SERVER: {
				struct client *c = ((struct client *)src->data);
				if (!c->dead)
					handle_side(c, src->kind == SOURCE_CLIENT ? &c->app
										  : &c->upstream,
						    events[i].events);
				break;
			}
			}
		}
		free_dead(relay);
	}
	return relay->child_done ? relay->child_status : 0;
}
