/* SPDX-License-Identifier: MIT */
/*
 * Policy: which globals a proxied client may see and bind, at which maximum
 * version, how the clipboard is mediated, and the per-client limits.
 */
#ifndef VMAPP_POLICY_H
#define VMAPP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmapp-protocol.h"

enum vmapp_clipboard_mode {
	VMAPP_CLIPBOARD_OFF = 0,      /* nothing crosses either way */
	VMAPP_CLIPBOARD_GUEST_TO_HOST, /* the guest may set the host selection, never read it */
	VMAPP_CLIPBOARD_BOTH,         /* both ways (host selection offered to the guest on focus) */
};

struct vmapp_limits {
	uint32_t objects;        /* live objects per client */
	uint32_t shm_pools;      /* wl_shm_pool objects per client */
	uint64_t shm_bytes;      /* sum of pool sizes per client */
	uint32_t fds_in_flight;  /* fds queued in either direction per client */
	uint64_t queue_bytes;    /* bytes queued in each direction per client */
	uint32_t title_length;   /* bytes of a sanitised title or app_id, before the label */
	uint32_t message_rate;   /* requests per second per client; more wait their turn */
};

struct vmapp_policy;

/* The shipped default policy (allowlist/default.policy, compiled in). */
struct vmapp_policy *vmapp_policy_create_default(void);

/*
 * Parses policy text.  Returns 0 and a new policy in *ret_policy, or -EINVAL
 * and "FILENAME:LINE: what is wrong" in ret_error (always NUL-terminated).
 * Every interface named must be known to `set`; an always-blocked interface
 * can not be allowed.
 */
int vmapp_policy_parse(const char *text, size_t len, const char *filename,
		       const struct vmapp_protocol_set *set,
		       char *ret_error, size_t error_size,
		       struct vmapp_policy **ret_policy);

/* Reads and parses a file; -errno and a message if it can not be read. */
int vmapp_policy_load(const char *path, const struct vmapp_protocol_set *set,
		      char *ret_error, size_t error_size,
		      struct vmapp_policy **ret_policy);

void vmapp_policy_destroy(struct vmapp_policy *policy); /* accepts NULL */

/* 0 when the interface may not be exposed, else the highest version allowed.
 * Always 0 for an always-blocked interface. */
uint32_t vmapp_policy_version_cap(const struct vmapp_policy *policy,
				  const char *interface);

enum vmapp_clipboard_mode vmapp_policy_clipboard(const struct vmapp_policy *policy);

const struct vmapp_limits *vmapp_policy_limits(const struct vmapp_policy *policy);

/* True for the interfaces no policy can allow (DESIGN.md "Always blocked"). */
bool vmapp_policy_always_blocked(const char *interface);

/* The always-blocked interface names (static, not sorted); their count in
 * *ret_n.  For documentation checks and diagnostics. */
const char *const *vmapp_policy_blocked_list(size_t *ret_n);

/* The text of the compiled-in default policy: static, *ret_len bytes and a
 * terminating NUL.  Parse it with vmapp_policy_parse() to learn why
 * vmapp_policy_create_default() failed. */
const char *vmapp_policy_default_text(size_t *ret_len);

#endif
