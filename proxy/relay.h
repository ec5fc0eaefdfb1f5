/* SPDX-License-Identifier: MIT */
/*
 * The relay: one epoll loop, one upstream compositor connection per client,
 * non-blocking sockets and bounded queues in both directions.
 */
#ifndef VMAPP_RELAY_H
#define VMAPP_RELAY_H

#include <stdbool.h>
#include <sys/types.h>

#include "conn.h"

struct vmapp_relay;

struct vmapp_relay_options {
	const char *listen_path;   /* the socket to serve, or NULL; created, removed at exit */
	const char *upstream_path; /* the compositor's socket */
	struct vmapp_conn_config conn;
	bool verbose;
};

struct vmapp_relay *vmapp_relay_create(const struct vmapp_relay_options *options);
void vmapp_relay_destroy(struct vmapp_relay *relay); /* accepts NULL; removes the socket */

/* Proxies one more client on the connected socket fd (owned from now on),
 * with its own connection to the compositor.  0 or -errno. */
int vmapp_relay_add_client(struct vmapp_relay *relay, int fd);

/* A client on a socket pair: the relay serves one end, the caller gets
 * the other (connected, CLOEXEC, non-blocking), or -errno.  How a VM's
 * channels reach the validator. */
int vmapp_relay_add_pair(struct vmapp_relay *relay);
/* Serves fd in the loop too: dispatch(data) runs whenever it is readable
 * (level-triggered).  At most 80; -ENOSPC beyond. */
int vmapp_relay_add_source(struct vmapp_relay *relay, int fd, void (*dispatch)(void *data),
			   void *data);

/* Which of fd's events run its dispatch: EPOLLIN (as added), EPOLLOUT,
 * both.  0, or -ENOENT for an fd that is no source, or -errno. */
int vmapp_relay_source_events(struct vmapp_relay *relay, int fd, uint32_t events);

/* Stops serving fd (before it is closed). */
void vmapp_relay_remove_source(struct vmapp_relay *relay, int fd);

/* vmapp_relay_run returns 0 after the current batch of events. */
void vmapp_relay_stop(struct vmapp_relay *relay);

/* Watches a child: when it exits, vmapp_relay_run returns its status. */
void vmapp_relay_watch_child(struct vmapp_relay *relay, pid_t pid);
/* The watched child exited (and was reaped). */
bool vmapp_relay_child_exited(const struct vmapp_relay *relay);

/*
 * Serves until SIGTERM, SIGINT or SIGHUP (returns 0) or until the watched
 * child exits (returns its exit status, 128 + signal when killed); with a
 * child, those signals are passed on to it instead.  Negative errno when
 * the loop itself fails.
 */
int vmapp_relay_run(struct vmapp_relay *relay);

#endif
