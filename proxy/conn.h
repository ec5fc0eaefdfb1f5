/* SPDX-License-Identifier: MIT */
/*
 * One proxied client: its object map, what the registry advertised to it,
 * its shm pools, and the hooks that check and rewrite the few messages that
 * need state.  Takes whole messages and their fds, appends what is to be
 * forwarded to an output buffer.  No sockets and no logging here: the relay
 * does the I/O and writes the log line.
 */
#ifndef VMAPP_CONN_H
#define VMAPP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"
#include "objmap.h"
#include "policy.h"
#include "rules.h"
#include "wire.h"

struct vmapp_conn_config {
	const struct vmapp_protocol_set *protocols;
	const struct vmapp_policy *policy;
	const char *label; /* valid per vmapp_label_valid */
	/* Local mode: client fds are passed on after their type is checked.
	 * Without it, any client fd is refused. */
	bool pass_fds;
};

struct vmapp_global {
	uint32_t name;
	uint32_t version; /* as advertised to the client, after clamping */
	const struct vmapp_interface *interface;
	bool removed;
};

struct vmapp_pool {
	uint32_t id;
	int fd; /* our own duplicate, to check the size on resize */
	uint64_t size;
};

/* Configure serials sent to one xdg_surface and not yet acknowledged. */
#define VMAPP_PENDING_SERIALS 16
struct vmapp_configures {
	uint32_t xdg_surface;
	uint32_t n;
	uint32_t serials[VMAPP_PENDING_SERIALS]; /* oldest first */
};

struct vmapp_conn {
	const struct vmapp_conn_config *config;
	struct vmapp_objmap objects;
	struct vmapp_global *globals;
	uint32_t n_globals, cap_globals;
	struct vmapp_pool *pools;
	uint32_t n_pools, cap_pools;
	uint64_t shm_bytes;
	struct vmapp_configures *configures;
	uint32_t n_configures, cap_configures;
	uint32_t formats[64];
	uint32_t n_formats;
};

/* What happened to one message. */
struct vmapp_verdict {
	enum vmapp_rule rule;
	uint32_t size;      /* bytes it took from the input */
	uint32_t n_fds;     /* fds it took from the input */
	bool forward;       /* its bytes were appended to out; move its fds on */
	/* For the log line "interface.message@id: rule". */
	const char *interface_name; /* "?" when unknown */
	const char *message_name;   /* "?" when unknown */
	uint32_t object_id;
};

int vmapp_conn_init(struct vmapp_conn *conn, const struct vmapp_conn_config *config);
void vmapp_conn_finish(struct vmapp_conn *conn);

/*
 * Handles the first message in `data` (a request when direction is
 * VMAPP_REQUEST, an event otherwise), whose fds are the first of `fds`.
 * HEADER_TRUNCATED or MESSAGE_TRUNCATED: wait for more bytes.  Any other
 * rule but OK is a violation (from the compositor: SERVER_PROTOCOL).
 */
struct vmapp_verdict vmapp_conn_handle(struct vmapp_conn *conn, enum vmapp_direction direction,
				       const uint8_t *untrusted_data, size_t len,
				       const int *fds, size_t n_fds, struct vmapp_buf *out);

/* Appends a wl_display.error event for the client. */
int vmapp_conn_write_error(struct vmapp_buf *out, uint32_t object_id, uint32_t code,
			   const char *text);

#endif
