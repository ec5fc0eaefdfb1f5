/* SPDX-License-Identifier: MIT */
/*
 * A token bucket for log lines: a burst, then a steady rate, and a count
 * of what was held back so that one summary line can say so.  Pure: the
 * caller passes the time, so that tests drive the clock
 * (vmapp_ratelimit_now_ns() is the real one).
 */
#ifndef VMAPP_RATELIMIT_H
#define VMAPP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct vmapp_ratelimit {
	uint64_t cost_ns;	/* one line: one second over the rate */
	uint64_t depth_ns;	/* the burst: burst lines' cost */
	uint64_t credit_ns;	/* what may be spent now */
	uint64_t last_ns;	/* the time credit_ns was last brought up to */
	uint64_t suppressed;	/* lines refused since the last one let through */
};

/* burst lines at once, then per_second lines a second (both at least 1).
 * The bucket starts full at time now_ns. */
void vmapp_ratelimit_init(struct vmapp_ratelimit *rl, unsigned burst, unsigned per_second,
		uint64_t now_ns);

/*
 * Whether a line may be written at time now_ns (a monotonic clock; a time
 * before the last one counts as no time passed).  When it may,
 * *ret_suppressed is the number of lines refused since the last one let
 * through, and the count starts again at 0; when not, the line is counted
 * and *ret_suppressed is left alone.
 */
bool vmapp_ratelimit_allow(struct vmapp_ratelimit *rl, uint64_t now_ns, uint64_t *ret_suppressed);

/* CLOCK_MONOTONIC in nanoseconds, the time to pass outside tests; 0 if
 * the clock fails (then no time passes: the limiter holds). */
uint64_t vmapp_ratelimit_now_ns(void);

#endif
