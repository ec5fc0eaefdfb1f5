/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>

#include "log.h"

static uint64_t monotonic_ns(void *data)
{
	return vmapp_ratelimit_now_ns();
}

void vmapp_log_init(struct vmapp_log *log, FILE *out, uint64_t (*clock)(void *data),
		void *clock_data)
{
	*log = (struct vmapp_log){
		.out = out,
		.clock = clock ? clock : monotonic_ns,
		.clock_data = clock_data,
	};
	vmapp_ratelimit_init(&log->limit, VMAPP_LOG_BURST, VMAPP_LOG_PER_SECOND,
			log->clock(log->clock_data));
}

static void write_suppressed(struct vmapp_log *log, uint64_t n)
{
	fprintf(log->out, "vmapp-vsockd: %" PRIu64 " line%s suppressed (more than %d a second)\n",
			n, n == 1 ? "" : "s", VMAPP_LOG_PER_SECOND);
}

void vmapp_log_limited(struct vmapp_log *log, const char *fmt, ...)
{
	uint64_t suppressed;
	char line[512];
	va_list ap;

	if (!log || !vmapp_ratelimit_allow(&log->limit, log->clock(log->clock_data), &suppressed))
		return;
	if (suppressed > 0)
		write_suppressed(log, suppressed);
	/* One line, one write: stderr is unbuffered.  Longer lines are cut;
	 * none of ours comes near, but a path could. */
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(log->out, "vmapp-vsockd: %s\n", line);
}

void vmapp_log_flush(struct vmapp_log *log)
{
	if (!log || log->limit.suppressed == 0)
		return;
	write_suppressed(log, log->limit.suppressed);
	log->limit.suppressed = 0;
}
