/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "msg.h"
#include "shmdiff.h"

static void span_is(const struct vmapp_span *s, uint64_t offset, uint64_t length, int line)
{
	if (s->offset != offset || s->length != length) {
		fprintf(stderr, "line %d: span [%llu, +%llu), want [%llu, +%llu)\n", line,
			(unsigned long long)s->offset, (unsigned long long)s->length,
			(unsigned long long)offset, (unsigned long long)length);
		test_failures++;
	}
}
#define SPAN_IS(s, o, l) span_is(s, o, l, __LINE__)

static void test_shadow(void)
{
	enum { LEN = 1000 };
	uint8_t *cur = calloc(1, LEN), *shadow = calloc(1, LEN);
	struct vmapp_span spans[8];

	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 0, spans, 8) == 0);

	cur[100] = 1;
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 0, spans, 8) == 1);
	SPAN_IS(&spans[0], 64, 64);
	CHECK(memcmp(cur, shadow, LEN) == 0);
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 0, spans, 8) == 0);

	/* the first and the last (short) block */
	cur[0] = 2;
	cur[LEN - 1] = 3;
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 0, spans, 8) == 2);
	SPAN_IS(&spans[0], 0, 64);
	SPAN_IS(&spans[1], 960, 40);
	CHECK(memcmp(cur, shadow, LEN) == 0);

	/* neighbouring blocks run together */
	cur[130] = cur[200] = cur[330] = 4;
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 0, spans, 8) == 2);
	SPAN_IS(&spans[0], 128, 128);
	SPAN_IS(&spans[1], 320, 64);
	/* a gap up to merge_gap is sent along rather than split */
	cur[130] = cur[330] = 6;
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 128, spans, 8) == 1);
	SPAN_IS(&spans[0], 128, 256);
	cur[130] = cur[330] = 8;
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 127, spans, 8) == 2);

	/* out of room: the last span covers the rest, nothing is lost */
	cur[10] = cur[500] = cur[900] = 5;
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 0, spans, 2) == 2);
	SPAN_IS(&spans[0], 0, 64);
	SPAN_IS(&spans[1], 448, 960 - 448);
	CHECK(memcmp(cur, shadow, LEN) == 0);

	memset(cur, 7, LEN);
	CHECK(vmapp_shmdiff_shadow(cur, shadow, LEN, 0, spans, 8) == 1);
	SPAN_IS(&spans[0], 0, LEN);
	free(cur);
	free(shadow);
}

static void test_damage(void)
{
	struct vmapp_span spans[16];
	/* 10x10 pixels of 4 bytes, rows of 48 bytes (8 of padding), at 1000 */
	struct vmapp_rect full = { 0, 0, 10, 10 };
	CHECK(vmapp_shmdiff_damage(1000, 10, 10, 48, 4, &full, 1, spans, 16) == 1);
	SPAN_IS(&spans[0], 1000, 9 * 48 + 40);

	struct vmapp_rect small = { 2, 3, 2, 2 };
	CHECK(vmapp_shmdiff_damage(1000, 10, 10, 48, 4, &small, 1, spans, 16) == 2);
	SPAN_IS(&spans[0], 1000 + 3 * 48 + 8, 8);
	SPAN_IS(&spans[1], 1000 + 4 * 48 + 8, 8);

	/* clipped to the buffer, whatever the client says */
	struct vmapp_rect wild[] = {
		{ -5, -5, 7, 6 },                       /* rows 0, x 0..2 */
		{ 0x7fffffff, 0, 0x7fffffff, 10 },      /* right of the buffer */
		{ 0, 0x7ffffff0, 10, 0x7fffffff },      /* below it */
		{ 3, 9, 100, 0x7fffffff },              /* row 9, x 3..10 */
		{ 1, 1, -3, 4 },                        /* empty */
	};
	CHECK(vmapp_shmdiff_damage(0, 10, 10, 48, 4, wild, 5, spans, 16) == 2);
	SPAN_IS(&spans[0], 0, 8);
	SPAN_IS(&spans[1], 9 * 48 + 12, 28);

	/* two rectangles on one row: one span from the first to the last */
	struct vmapp_rect two[] = { { 1, 0, 1, 1 }, { 8, 0, 1, 1 } };
	CHECK(vmapp_shmdiff_damage(0, 10, 10, 48, 4, two, 2, spans, 16) == 1);
	SPAN_IS(&spans[0], 4, 32);

	/* out of room: the last span reaches the last damaged row */
	CHECK(vmapp_shmdiff_damage(0, 10, 10, 48, 4, &small, 1, spans, 1) == 1);
	SPAN_IS(&spans[0], 3 * 48 + 8, 48 + 8);

	/* nonsense geometry gives nothing */
	CHECK(vmapp_shmdiff_damage(0, 10, 10, 39, 4, &full, 1, spans, 16) == 0);
	CHECK(vmapp_shmdiff_damage(0, -1, 10, 48, 4, &full, 1, spans, 16) == 0);
	CHECK(vmapp_shmdiff_damage(0, 10, 10, 48, 0, &full, 1, spans, 16) == 0);
}

int main(void)
{
	test_shadow();
	test_damage();
	TEST_DONE();
}
