/* SPDX-License-Identifier: MIT */
/*
 * The rate limit on the lines a guest can cause (vsockd/ratelimit.h,
 * vsockd/log.h), on a clock the test drives.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "test-ratelimit: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(1); \
	} \
} while (0)

#define SEC UINT64_C(1000000000)
#define MS UINT64_C(1000000)

/* How many of n lines, one every step ns from *now, are let through;
 * *now ends after the last. */
static unsigned run(struct vmapp_ratelimit *rl, uint64_t *now, unsigned n, uint64_t step)
{
	unsigned allowed = 0;
	uint64_t suppressed;

	for (unsigned i = 0; i < n; i++) {
		if (vmapp_ratelimit_allow(rl, *now, &suppressed))
			allowed++;
		*now += step;
	}
	return allowed;
}

static void test_burst_then_rate(void)
{
	struct vmapp_ratelimit rl;
	uint64_t now = 1000 * SEC, suppressed = 99;

	vmapp_ratelimit_init(&rl, 50, 5, now);
	/* The burst at once, and no more. */
	CHECK(run(&rl, &now, 50, 0) == 50);
	CHECK(!vmapp_ratelimit_allow(&rl, now, &suppressed));
	CHECK(suppressed == 99);	/* left alone when refused */
	CHECK(run(&rl, &now, 1000, 0) == 0);
	CHECK(rl.suppressed == 1001);
	/* A fifth of a second later: one line, which learns what was held
	 * back; the count starts again. */
	now += 200 * MS;
	CHECK(vmapp_ratelimit_allow(&rl, now, &suppressed));
	CHECK(suppressed == 1001);
	CHECK(!vmapp_ratelimit_allow(&rl, now, &suppressed));
	now += 200 * MS;
	CHECK(vmapp_ratelimit_allow(&rl, now, &suppressed));
	CHECK(suppressed == 1);
	/* A flood of a million lines a second for ten seconds: five a
	 * second get through, no more. */
	unsigned n = run(&rl, &now, 10 * 1000 * 1000, 1000);
	CHECK(n >= 49 && n <= 51);
	/* The flood's tail was held back; a line after that says so, and
	 * the next one says 0. */
	now += 10 * SEC;
	CHECK(vmapp_ratelimit_allow(&rl, now, &suppressed));
	CHECK(suppressed > 0 && suppressed < 1000 * 1000);
	CHECK(vmapp_ratelimit_allow(&rl, now, &suppressed) && suppressed == 0);
}

static void test_refill_capped(void)
{
	struct vmapp_ratelimit rl;
	uint64_t now = 0;

	vmapp_ratelimit_init(&rl, 10, 2, now);
	CHECK(run(&rl, &now, 10, 0) == 10);
	/* An hour of quiet refills the burst, not an hour of lines. */
	now += 3600 * SEC;
	CHECK(run(&rl, &now, 100, 0) == 10);
	/* A steady two lines a second always get through. */
	now += 3600 * SEC;
	CHECK(run(&rl, &now, 1000, 500 * MS) == 1000);
	/* Near the end of the clock's range: no wrap. */
	now = UINT64_MAX - SEC;
	CHECK(run(&rl, &now, 100, 0) == 10);
	now = UINT64_MAX;
	CHECK(run(&rl, &now, 1, 0) == 1);
}

static void test_clock_backwards(void)
{
	struct vmapp_ratelimit rl;
	uint64_t now = 500 * SEC;

	vmapp_ratelimit_init(&rl, 3, 1, now);
	CHECK(run(&rl, &now, 3, 0) == 3);
	/* Earlier than the last time seen: no time passed, no credit, and
	 * the next later time is measured from the latest seen. */
	now = 10 * SEC;
	CHECK(run(&rl, &now, 10, 0) == 0);
	now = 500 * SEC + 999 * MS;
	CHECK(run(&rl, &now, 1, 0) == 0);
	now = 501 * SEC;
	CHECK(run(&rl, &now, 2, 0) == 1);
}

static void test_degenerate(void)
{
	struct vmapp_ratelimit rl;
	uint64_t now = 0;

	/* 0 means 1, and absurd rates do not overflow. */
	vmapp_ratelimit_init(&rl, 0, 0, now);
	CHECK(run(&rl, &now, 5, 0) == 1);
	now += SEC;
	CHECK(run(&rl, &now, 5, 0) == 1);
	vmapp_ratelimit_init(&rl, UINT32_MAX, UINT32_MAX, now);
	CHECK(run(&rl, &now, 1000, 0) == 1000);
}

static uint64_t fake_clock(void *data)
{
	return *(uint64_t *)data;
}

static size_t count_lines(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_log(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	CHECK(out);
	uint64_t now = 7 * SEC;
	struct vmapp_log log;

	vmapp_log_init(&log, out, fake_clock, &now);
	for (int i = 0; i < 1000; i++)
		vmapp_log_limited(&log, "guest: bad packet %d", i);
	now += SEC;
	vmapp_log_limited(&log, "guest: after %s", "a second");
	for (int i = 0; i < 10; i++)
		vmapp_log_limited(&log, "guest: more");
	vmapp_log_flush(&log);
	vmapp_log_flush(&log);
	/* NULL: nothing, and no crash. */
	vmapp_log_limited(NULL, "guest: %s", "nothing");
	vmapp_log_flush(NULL);
	CHECK(fclose(out) == 0);

	CHECK(count_lines(text, "vmapp-vsockd: guest: bad packet ") == VMAPP_LOG_BURST);
	CHECK(strstr(text, "vmapp-vsockd: guest: bad packet 0\n"));
	char last[64];
	snprintf(last, sizeof(last), "bad packet %d\n", VMAPP_LOG_BURST - 1);
	CHECK(strstr(text, last));
	snprintf(last, sizeof(last), "bad packet %d\n", VMAPP_LOG_BURST);
	CHECK(!strstr(text, last));
	/* The summary comes right before the line that resumes, once. */
	char want[128];
	snprintf(want, sizeof(want), "vmapp-vsockd: %d lines suppressed (more than %d a second)\n"
			"vmapp-vsockd: guest: after a second\n", 1000 - VMAPP_LOG_BURST,
			VMAPP_LOG_PER_SECOND);
	CHECK(strstr(text, want));
	/* A second's credit is VMAPP_LOG_PER_SECOND lines, one of them
	 * spent above; flush says what was held back at the end, once. */
	CHECK(count_lines(text, "vmapp-vsockd: guest: more\n") == VMAPP_LOG_PER_SECOND - 1);
	snprintf(want, sizeof(want), "vmapp-vsockd: %d lines suppressed (more than %d a second)\n",
			10 - (VMAPP_LOG_PER_SECOND - 1), VMAPP_LOG_PER_SECOND);
	CHECK(count_lines(text, want) == 1);
	CHECK(count_lines(text, "suppressed") == 2);
	CHECK(!strstr(text, "nothing"));
	free(text);
}

int main(void)
{
	test_burst_then_rate();
	test_refill_capped();
	test_clock_backwards();
	test_degenerate();
	test_log();
	fprintf(stderr, "test-ratelimit: all passed\n");
	return 0;
}
