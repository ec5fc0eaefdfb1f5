/* SPDX-License-Identifier: MIT */
/*
 * The peer log's rate limit (proxy/peer-log.h) with the real clock: a
 * flood of lines writes the burst and then the rate, not every line; the
 * first line after held-back ones says how many; each line is whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "peer-log.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	char path[] = "/tmp/vmapp-test-peer-log-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || !freopen(path, "w", stderr))
		return 99;
	close(fd);
	setvbuf(stderr, NULL, _IONBF, 0);

	double start = now();
	for (int i = 0; i < 20000; i++) {
		char line[64];
		snprintf(line, sizeof(line), "client %d: a rule broken", i);
		vmapp_peer_log(line);
	}
	double flood = now() - start;
	/* Quiet for a moment: the next line comes with the count. */
	usleep(200 * 1000);
	vmapp_peer_log("after the flood");

	FILE *f = fopen(path, "r");
	char line[256];
	unsigned written = 0, summaries = 0;
	unsigned long long held = 0;
	bool last_is_after = false;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long n;
		if (sscanf(line, "vmapp: %llu log lines held back", &n) == 1) {
			summaries++;
			held += n;
			continue;
		}
		last_is_after = strcmp(line, "after the flood\n") == 0;
		CHECK(last_is_after || strncmp(line, "client ", 7) == 0, "a cut line: '%s'", line);
		written++;
	}
	if (f)
		fclose(f);
	unlink(path);
	double allowed = VMAPP_PEER_LOG_BURST + VMAPP_PEER_LOG_PER_SECOND * (flood + 0.3) + 2;
	CHECK(written >= VMAPP_PEER_LOG_BURST && written <= allowed,
	      "%u lines of 20001 written in %.2f s (at most %.0f)", written, flood, allowed);
	CHECK(last_is_after, "the line after the flood is missing");
	CHECK(summaries >= 1 && written + held == 20001,
	      "%u summaries counting %llu held back, %u written: not all 20001 accounted for",
	      summaries, held, written);
	return check_exit_code();
}
