/* SPDX-License-Identifier: MIT */
/*
 * Which bytes of a 1920x1080 shm buffer to send across the VM boundary
 * before a commit: the damage the client declares, a comparison against a
 * shadow copy, or the comparison limited to the damage.  For each way and
 * each kind of frame, the time to find the bytes and copy them into a
 * send buffer (what building the SHM_UPDATE frames costs), and how many
 * bytes go.
 *
 *   bench-shmdiff [--frames N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shmdiff.h"

#define W 1920
#define H 1080
#define BPP 4
#define STRIDE (W * BPP)
#define SIZE ((size_t)STRIDE * H)
#define MAX_SPANS 4096
#define SQUARE 200

static uint8_t *pool, *shadow, *sendbuf;
static struct vmapp_span spans[MAX_SPANS], dspans[MAX_SPANS];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t send_spans(const struct vmapp_span *s, size_t n)
{
	uint64_t sent = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(sendbuf + sent, pool + s[i].offset, s[i].length);
		sent += s[i].length;
	}
	return sent;
}

enum scene { FULL, SQUARE_EXACT, SQUARE_FULL_DAMAGE, N_SCENES };
static const char *scene_names[] = {
	"every pixel changes, full damage",
	"a 200x200 square moves, its damage declared",
	"a 200x200 square moves, full damage declared",
};
enum method { DAMAGE, SHADOW, SHADOW_IN_DAMAGE, N_METHODS };
static const char *method_names[] = { "damage", "shadow", "shadow within damage" };

/* Draws frame f of a scene; returns the damage the client would declare. */
static size_t draw(enum scene scene, int f, struct vmapp_rect *rects)
{
	if (scene == FULL) {
		uint32_t v = (uint32_t)f * 2654435761u;
		for (size_t i = 0; i < SIZE; i += 4)
			memcpy(pool + i, &v, 4), v += 0x01010101;
		rects[0] = (struct vmapp_rect){ 0, 0, W, H };
		return 1;
	}
	int x0 = (f * 7) % (W - SQUARE - 8), y0 = (f * 5) % (H - SQUARE - 8);
	/* the old square goes back to the background, the new one is drawn */
	for (int y = 0; y < SQUARE + 8; y++)
		memset(pool + (size_t)(y0 + y) * STRIDE + (size_t)x0 * BPP, 0,
		       (size_t)(SQUARE + 8) * BPP);
	for (int y = 0; y < SQUARE; y++)
		memset(pool + (size_t)(y0 + 4 + y) * STRIDE + (size_t)(x0 + 4) * BPP, 0x80 + f % 64,
		       (size_t)SQUARE * BPP);
	if (scene == SQUARE_FULL_DAMAGE) {
		rects[0] = (struct vmapp_rect){ 0, 0, W, H };
		return 1;
	}
	rects[0] = (struct vmapp_rect){ x0 - 7, y0 - 5, SQUARE + 16, SQUARE + 16 };
	return 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char *argv[])
{
	int frames = argc == 3 && strcmp(argv[1], "--frames") == 0 ? atoi(argv[2]) : 60;
	pool = calloc(1, SIZE);
	shadow = calloc(1, SIZE);
	sendbuf = malloc(SIZE);
	double *t = calloc((size_t)frames, sizeof(double));
	if (!pool || !shadow || !sendbuf || !t || frames < 3)
		return 2;

	printf("| frame | method | median ms/frame | MB sent/frame |\n|---|---|---|---|\n");
	for (int scene = 0; scene < N_SCENES; scene++) {
		for (int method = 0; method < N_METHODS; method++) {
			memset(pool, 0, SIZE);
			memset(shadow, 0, SIZE);
			uint64_t sent_total = 0;
			for (int f = 0; f < frames; f++) {
				struct vmapp_rect rects[1];
				size_t n_rects = draw(scene, f, rects);
				double start = now();
				uint64_t sent = 0;
				if (method == DAMAGE) {
					size_t n = vmapp_shmdiff_damage(0, W, H, STRIDE, BPP, rects, n_rects,
									spans, MAX_SPANS);
					sent = send_spans(spans, n);
				} else if (method == SHADOW) {
					size_t n = vmapp_shmdiff_shadow(pool, shadow, SIZE, 256, spans,
									MAX_SPANS);
					sent = send_spans(spans, n);
				} else {
					size_t nd = vmapp_shmdiff_damage(0, W, H, STRIDE, BPP, rects,
									 n_rects, dspans, MAX_SPANS);
					for (size_t i = 0; i < nd; i++) {
						size_t n = vmapp_shmdiff_shadow(
							pool + dspans[i].offset, shadow + dspans[i].offset,
							dspans[i].length, 256, spans, MAX_SPANS);
						for (size_t k = 0; k < n; k++)
							spans[k].offset += dspans[i].offset;
						sent += send_spans(spans, n);
					}
				}
				t[f] = (now() - start) * 1e3;
				sent_total += sent;
			}
			qsort(t, (size_t)frames, sizeof(double), cmp_double);
			printf("| %s | %s | %.2f | %.2f |\n", scene_names[scene], method_names[method],
			       t[frames / 2], (double)sent_total / frames / 1e6);
		}
	}
	free(pool);
	free(shadow);
	free(sendbuf);
	free(t);
	return 0;
}
