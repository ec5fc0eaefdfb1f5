/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "peer-log.h"
#include "ratelimit.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

void vmapp_peer_log(const char *line)
{
	static struct vmapp_ratelimit limit;
	static bool started;
	uint64_t now = now_ns(), held_back = 0;

	if (!started) {
		vmapp_ratelimit_init(&limit, VMAPP_PEER_LOG_BURST, VMAPP_PEER_LOG_PER_SECOND, now);
		started = true;
	}
	if (!vmapp_ratelimit_allow(&limit, now, &held_back))
		return;
	if (held_back)
		fprintf(stderr, "vmapp: %llu log lines held back (more than %u a second)\n",
			(unsigned long long)held_back, VMAPP_PEER_LOG_PER_SECOND);
	fprintf(stderr, "%s\n", line);
}
