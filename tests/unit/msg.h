/* SPDX-License-Identifier: MIT */
/* A tiny message builder and check macros for the unit tests. */
#ifndef VMAPP_TEST_MSG_H
#define VMAPP_TEST_MSG_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"

struct msg {
	uint8_t data[8192];
	size_t len;
	size_t start;
};

static inline void msg_begin(struct msg *m, uint32_t id, uint32_t opcode)
{
	m->start = m->len;
	memcpy(m->data + m->len, &id, 4);
	memcpy(m->data + m->len + 4, &opcode, 4);
	m->len += 8;
}

static inline void msg_u32(struct msg *m, uint32_t v)
{
	memcpy(m->data + m->len, &v, 4);
	m->len += 4;
}

/* A counted blob with an explicit length word, then `n` bytes, padded. */
static inline void msg_blob(struct msg *m, uint32_t len_word, const void *bytes, size_t n)
{
	msg_u32(m, len_word);
	memcpy(m->data + m->len, bytes, n);
	m->len += n;
	while (m->len % 4)
		m->data[m->len++] = 0;
}

static inline void msg_str(struct msg *m, const char *s)
{
	msg_blob(m, (uint32_t)strlen(s) + 1, s, strlen(s) + 1);
}

/* Writes the size into the header of the message begun last. */
static inline void msg_end(struct msg *m)
{
	uint32_t word;
	memcpy(&word, m->data + m->start + 4, 4);
	word = (uint32_t)(m->len - m->start) << 16 | (word & 0xffff);
	memcpy(m->data + m->start + 4, &word, 4);
}

static inline void msg_reset(struct msg *m)
{
	m->len = m->start = 0;
}

static int test_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		test_failures++; \
	} \
} while (0)

#define CHECK_RULE(got, want) do { \
	enum vmapp_rule got_ = (got), want_ = (want); \
	if (got_ != want_) { \
		fprintf(stderr, "%s:%d: %s: got rule %s, want %s\n", __FILE__, __LINE__, \
			#got, vmapp_rule_name(got_), vmapp_rule_name(want_)); \
		test_failures++; \
	} \
} while (0)

#define TEST_DONE() do { \
	if (test_failures) \
		fprintf(stderr, "%d check(s) failed\n", test_failures); \
	return test_failures ? 1 : 0; \
} while (0)

#endif
