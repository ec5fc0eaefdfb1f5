/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "shmdiff.h"

/* Appends [start, end) to spans, merging with the last one when the gap is
 * below merge_gap; when out of room, the last span grows to cover it. */
static size_t add_span(struct vmapp_span *spans, size_t n, size_t max_spans,
		       uint64_t start, uint64_t end, size_t merge_gap)
{
	if (n > 0) {
		struct vmapp_span *last = &spans[n - 1];
		uint64_t last_end = last->offset + last->length;
		if (start <= last_end + merge_gap || n == max_spans) {
			if (end > last_end)
				last->length = end - last->offset;
			return n;
		}
	}
	if (max_spans == 0)
		return 0;
	spans[n].offset = start;
	spans[n].length = end - start;
	return n + 1;
}

size_t vmapp_shmdiff_shadow(const uint8_t *current, uint8_t *shadow, size_t len,
			    size_t merge_gap, struct vmapp_span *spans, size_t max_spans)
{
	size_t n = 0;

	for (size_t at = 0; at < len; at += VMAPP_SHMDIFF_BLOCK) {
		size_t block = len - at < VMAPP_SHMDIFF_BLOCK ? len - at : VMAPP_SHMDIFF_BLOCK;
		if (memcmp(current + at, shadow + at, block) == 0)
			continue;
		/* Extend over the following changed blocks in one go. */
		size_t end = at + block;
		while (end < len) {
			size_t next = len - end < VMAPP_SHMDIFF_BLOCK ? len - end : VMAPP_SHMDIFF_BLOCK;
			if (memcmp(current + end, shadow + end, next) == 0)
				break;
			end += next;
		}
		memcpy(shadow + at, current + at, end - at);
		n = add_span(spans, n, max_spans, at, end, merge_gap);
		at = end - VMAPP_SHMDIFF_BLOCK; /* the loop's step lands on end */
		if (end == len)
			break;
	}
	return n;
}

size_t vmapp_shmdiff_damage(uint64_t offset, int32_t width, int32_t height, int32_t stride,
			    uint32_t bpp, const struct vmapp_rect *rects, size_t n_rects,
			    struct vmapp_span *spans, size_t max_spans)
{
	size_t n = 0;

	if (width <= 0 || height <= 0 || stride <= 0 || bpp == 0 ||
	    (uint64_t)stride < (uint64_t)width * bpp)
		return 0;
	/* Rows in order, so that spans come sorted: one pass per row range
	 * would be faster for many rectangles; clients send few. */
	for (int32_t row = 0; row < height; row++) {
		int64_t lo = INT64_MAX, hi = -1;
		for (size_t i = 0; i < n_rects; i++) {
			const struct vmapp_rect *r = &rects[i];
			if (r->width <= 0 || r->height <= 0)
				continue;
			if ((int64_t)row < r->y || (int64_t)row >= (int64_t)r->y + r->height)
				continue;
			int64_t x0 = r->x < 0 ? 0 : r->x;
			int64_t x1 = (int64_t)r->x + r->width;
			if (x1 > width)
				x1 = width;
			if (x0 >= x1)
				continue;
			if (x0 < lo)
				lo = x0;
			if (x1 > hi)
				hi = x1;
		}
		if (hi < 0)
			continue;
		uint64_t row_start = offset + (uint64_t)row * (uint64_t)stride;
		uint64_t start = row_start + (uint64_t)lo * bpp;
		uint64_t end = row_start + (uint64_t)hi * bpp;
		/* A whole-width row joins the next row across the stride padding. */
		size_t gap = lo == 0 && hi == width ? (size_t)((uint64_t)stride - (uint64_t)width * bpp) : 0;
		n = add_span(spans, n, max_spans, start, end, gap);
	}
	return n;
}

#define FOURCC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

uint32_t vmapp_shm_format_bpp(uint32_t format)
{
	switch (format) {
	case 0: /* argb8888 */
	case 1: /* xrgb8888 */
	case FOURCC('A', 'R', '2', '4'): case FOURCC('X', 'R', '2', '4'):
	case FOURCC('A', 'B', '2', '4'): case FOURCC('X', 'B', '2', '4'):
	case FOURCC('R', 'A', '2', '4'): case FOURCC('R', 'X', '2', '4'):
	case FOURCC('B', 'A', '2', '4'): case FOURCC('B', 'X', '2', '4'):
	case FOURCC('A', 'R', '3', '0'): case FOURCC('X', 'R', '3', '0'):
	case FOURCC('A', 'B', '3', '0'): case FOURCC('X', 'B', '3', '0'):
	case FOURCC('R', 'A', '3', '0'): case FOURCC('R', 'X', '3', '0'):
	case FOURCC('B', 'A', '3', '0'): case FOURCC('B', 'X', '3', '0'):
		return 4;
	case FOURCC('R', 'G', '2', '4'): case FOURCC('B', 'G', '2', '4'):
		return 3;
	case FOURCC('R', 'G', '1', '6'): case FOURCC('B', 'G', '1', '6'):
	case FOURCC('A', 'R', '1', '5'): case FOURCC('X', 'R', '1', '5'):
	case FOURCC('A', 'B', '1', '5'): case FOURCC('X', 'B', '1', '5'):
	case FOURCC('R', 'A', '1', '5'): case FOURCC('R', 'X', '1', '5'):
	case FOURCC('B', 'A', '1', '5'): case FOURCC('B', 'X', '1', '5'):
	case FOURCC('A', 'R', '1', '2'): case FOURCC('X', 'R', '1', '2'):
	case FOURCC('A', 'B', '1', '2'): case FOURCC('X', 'B', '1', '2'):
	case FOURCC('R', 'A', '1', '2'): case FOURCC('R', 'X', '1', '2'):
	case FOURCC('B', 'A', '1', '2'): case FOURCC('B', 'X', '1', '2'):
		return 2;
	case FOURCC('C', '8', ' ', ' '): case FOURCC('R', '8', ' ', ' '):
		return 1;
	case FOURCC('A', 'B', '4', 'H'): case FOURCC('X', 'B', '4', 'H'):
	case FOURCC('A', 'R', '4', 'H'): case FOURCC('X', 'R', '4', 'H'):
	case FOURCC('A', 'B', '4', '8'): case FOURCC('X', 'B', '4', '8'):
	case FOURCC('A', 'R', '4', '8'): case FOURCC('X', 'R', '4', '8'):
		return 8;
	default:
		return 0;
	}
}
