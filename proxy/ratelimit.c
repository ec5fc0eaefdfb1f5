/* SPDX-License-Identifier: MIT */
#include <time.h>

#include "ratelimit.h"

#define NSEC_PER_SEC UINT64_C(1000000000)

void vmapp_ratelimit_init(struct vmapp_ratelimit *rl, unsigned burst, unsigned per_second,
		uint64_t now_ns)
{
	if (burst == 0)
		burst = 1;
	if (per_second == 0)
		per_second = 1;
	/* At most 1e9 lines a second and 2^32 of burst: no overflow below. */
	if (per_second > NSEC_PER_SEC)
		per_second = NSEC_PER_SEC;
	rl->cost_ns = NSEC_PER_SEC / per_second;
	rl->depth_ns = rl->cost_ns * burst;
	rl->credit_ns = rl->depth_ns;
	rl->last_ns = now_ns;
	rl->suppressed = 0;
}

bool vmapp_ratelimit_allow(struct vmapp_ratelimit *rl, uint64_t now_ns, uint64_t *ret_suppressed)
{
	if (now_ns > rl->last_ns) {
		uint64_t elapsed = now_ns - rl->last_ns;
		/* Capped first: a long quiet time refills the burst, no more,
		 * and the sum can not wrap. */
		if (elapsed > rl->depth_ns - rl->credit_ns)
			rl->credit_ns = rl->depth_ns;
		else
			rl->credit_ns += elapsed;
		rl->last_ns = now_ns;
	}
	if (rl->credit_ns < rl->cost_ns) {
		/* Saturating: a count that wrapped would claim quiet. */
		if (rl->suppressed < UINT64_MAX)
			rl->suppressed++;
		return false;
	}
	rl->credit_ns -= rl->cost_ns;
	*ret_suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

uint64_t vmapp_ratelimit_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}
