/* SPDX-License-Identifier: MIT */
/* A minimal check harness: every failed check prints where and why, and
 * the test exits 1 if any failed. */
#ifndef VMAPP_TEST_CHECK_H
#define VMAPP_TEST_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

static inline bool check_at(bool ok, const char *file, int line, const char *expr,
			    const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static inline bool check_at(bool ok, const char *file, int line, const char *expr,
			    const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	check_failures++;
	fprintf(stderr, "FAIL %s:%d: %s: ", file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

/* CHECK(condition, "format", ...): the format is required. */
#define CHECK(cond, ...) check_at((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

static inline int check_exit_code(void)
{
	if (check_failures) {
		fprintf(stderr, "%d check(s) failed\n", check_failures);
		return 1;
	}
	return 0;
}

#endif
