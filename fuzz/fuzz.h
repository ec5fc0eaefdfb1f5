/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets and the replay driver.  Each target defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer (clang,
 * -Dfuzz=true) or with replay.c (any compiler, the 'fuzz' test suite).
 */
#ifndef VMAPP_FUZZ_H
#define VMAPP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The build hides symbols by default; libFuzzer looks this one up. */
__attribute__((visibility("default")))
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant of the code under test.  abort() rather than assert(): it
 * must hold in release builds too, and libFuzzer and the replay tests both
 * treat SIGABRT as a crash.
 */
#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* VMAPP_FUZZ_TRACE=1 prints every verdict to stderr: to see where a seed
 * or a crash input stops, not for fuzzing runs. */
static inline bool fuzz_trace(void)
{
	static int trace = -1;
	if (trace < 0) {
		const char *e = getenv("VMAPP_FUZZ_TRACE");
		trace = e && *e && *e != '0';
	}
	return trace;
}

static inline uint32_t fuzz_u32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

#endif
