/* SPDX-License-Identifier: MIT */
/*
 * The lines the guest can cause: its protocol violations, its
 * connections, and what the front-end does when the guest resets its
 * device.  The guest can cause them as fast as it writes its rings, and
 * they go to the VM's log file on the host's disk: so they are
 * rate-limited, and when lines resume after some were held back, one line
 * says how many.
 *
 * Lines that end the process (a malformed front-end message, a failed
 * epoll, out of memory at start) are written directly: they come once.
 */
#ifndef VMAPP_VSOCKD_LOG_H
#define VMAPP_VSOCKD_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "ratelimit.h"

/* A burst that covers a whole connection's verbose log, then a trickle:
 * a flood writes at most one line and one summary a fifth of a second. */
#define VMAPP_LOG_BURST 50
#define VMAPP_LOG_PER_SECOND 5

struct vmapp_log {
	FILE *out;	/* borrowed */
	/* A monotonic clock in nanoseconds; NULL: CLOCK_MONOTONIC. */
	uint64_t (*clock)(void *data);
	void *clock_data;
	struct vmapp_ratelimit limit;
};

/* To out (borrowed), VMAPP_LOG_BURST then VMAPP_LOG_PER_SECOND; clock
 * may be NULL (CLOCK_MONOTONIC). */
void vmapp_log_init(struct vmapp_log *log, FILE *out, uint64_t (*clock)(void *data),
		void *clock_data);

/* Writes "vmapp-vsockd: " fmt "\n" unless the rate is spent; log may be
 * NULL: nothing is written (the fuzz target, at full speed). */
__attribute__((format(printf, 2, 3)))
void vmapp_log_limited(struct vmapp_log *log, const char *fmt, ...);

/* Says how many lines were held back since the last one written, if
 * any: at exit, when no line will come to carry it.  NULL allowed. */
void vmapp_log_flush(struct vmapp_log *log);

#endif
