/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdio.h>

#include "peer-log.h"
#include "ratelimit.h"

void vmapp_peer_log(const char *line)
{
	static struct vmapp_ratelimit limit;
	static bool started;
	uint64_t now = vmapp_ratelimit_now_ns(), held_back = 0;

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
