/* SPDX-License-Identifier: MIT */
/*
 * Finding the bytes of a shm buffer that changed since the last commit, so
 * that the guest half sends only those across the VM boundary ("these
 * bytes changed at this offset").  Two ways, measured against each other
 * in bench/bench-shmdiff.c:
 *
 *  - from damage: the rectangles the client declared, turned into byte
 *    spans of the buffer (what the client says changed);
 *  - from a shadow copy: comparing the buffer against what was sent last
 *    time, block by block (what really changed, whatever the client says).
 *
 * Pure: no I/O, no allocation; the caller owns every buffer.
 */
#ifndef VMAPP_SHMDIFF_H
#define VMAPP_SHMDIFF_H

#include <stddef.h>
#include <stdint.h>

struct vmapp_span {
	uint64_t offset;
	uint64_t length;
};

struct vmapp_rect {
	int32_t x, y, width, height;
};

/* Compared in blocks of this many bytes: a changed block is sent whole. */
#define VMAPP_SHMDIFF_BLOCK 64

/*
 * Compares `len` bytes of `current` against `shadow` and copies what
 * differs into `shadow`, so that afterwards they are equal.  Writes the
 * changed spans (block-aligned, clipped to len, spans closer than
 * `merge_gap` bytes merged) to `spans`; returns how many, or, when more
 * than `max_spans` would be needed, max_spans with the last span reaching
 * to the end of what differs (never less than what changed).
 */
size_t vmapp_shmdiff_shadow(const uint8_t *current, uint8_t *shadow, size_t len,
			    size_t merge_gap, struct vmapp_span *spans, size_t max_spans);

/*
 * The byte spans of a buffer (`offset` into the pool, `stride` bytes a row,
 * `height` rows, `bpp` bytes a pixel, `width` pixels a row) covered by the
 * damage rectangles, clipped to the buffer; a rectangle as wide as the
 * buffer covers whole rows and merges with the rows around it.  Returns
 * the number of spans, or max_spans with the last one reaching to the end
 * of the last damaged row (never less than the damage).
 */
size_t vmapp_shmdiff_damage(uint64_t offset, int32_t width, int32_t height, int32_t stride,
			    uint32_t bpp, const struct vmapp_rect *rects, size_t n_rects,
			    struct vmapp_span *spans, size_t max_spans);

/* Bytes per pixel of the single-plane wl_shm formats (drm fourcc codes,
 * and wl_shm's own 0 and 1 for argb8888 and xrgb8888); 0 for the others
 * (planar or unknown). */
uint32_t vmapp_shm_format_bpp(uint32_t format);

#endif
