/* SPDX-License-Identifier: MIT */
/*
 * bench-client: a libwayland client that measures what an app sees, run
 * against a compositor directly or through vmapp-proxy.
 *
 *   bench-client sync N
 *       N wl_display.sync round trips, one at a time; prints the median
 *       and p90 latency in microseconds.
 *   bench-client frames N WxH [gradient|noise]
 *       an xdg_toplevel drawn from two wl_shm buffers, used in turn: every
 *       frame writes a moving gradient (or, with "noise", new pseudo-random
 *       pixels that no compressor can shrink) over the whole of the other
 *       buffer (waiting for its wl_buffer.release if the compositor still
 *       holds it), attaches it with full-surface damage, asks for a frame
 *       callback and commits, then waits for the callback.  Every pixel
 *       changes every frame.  Prints frames/s and this process's CPU time
 *       per frame (getrusage, user + system).
 *
 *   ... --marks OUT IN  (after either mode)
 *       around the measured part, write "start PID\n" and later "end PID\n"
 *       to the FIFO OUT and wait each time for a line on the FIFO IN, so a
 *       script can read the CPU time of every process in the path over
 *       exactly the measured interval (run-transport-benchmarks.sh).
 *
 * Output ends with "key value" lines for scripts.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

static void die(const char *what)
{
	fprintf(stderr, "bench-client: %s\n", what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* The --marks FIFOs, or NULL. */
static FILE *mark_out, *mark_in;

static void open_marks(const char *out, const char *in)
{
	mark_out = fopen(out, "we");
	if (!mark_out)
		die("can not open the --marks output FIFO");
	mark_in = fopen(in, "re");
	if (!mark_in)
		die("can not open the --marks input FIFO");
}

/* Tell the script where we are, and wait until it has read its counters. */
static void mark(const char *what)
{
	if (!mark_out)
		return;
	char line[64];
	if (fprintf(mark_out, "%s %ld\n", what, (long)getpid()) < 0 || fflush(mark_out) != 0)
		die("can not write to the --marks FIFO");
	if (!fgets(line, sizeof(line), mark_in))
		die("the --marks FIFO closed");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The value below which a fraction q of the sorted samples lie (nearest rank). */
static double quantile(const double *sorted, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return sorted[i - 1];
}

struct app {
	struct wl_display *display;
	struct wl_registry *registry;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm_base;
	struct wl_surface *surface;
	struct xdg_surface *xdg_surface;
	struct xdg_toplevel *toplevel;
	bool configured, closed, frame_done;
	bool xrgb;
	struct buffer {
		struct wl_buffer *buffer;
		uint32_t *pixels;
		bool busy;
	} buffers[2];
};

static void registry_global(void *data, struct wl_registry *registry, uint32_t name,
			    const char *interface, uint32_t version)
{
	struct app *app = data;
	if (!strcmp(interface, wl_compositor_interface.name))
		app->compositor = wl_registry_bind(registry, name, &wl_compositor_interface,
						   version < 4 ? version : 4);
	else if (!strcmp(interface, wl_shm_interface.name))
		app->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	else if (!strcmp(interface, xdg_wm_base_interface.name))
		app->wm_base = wl_registry_bind(registry, name, &xdg_wm_base_interface, 1);
}

static void registry_global_remove(void *data, struct wl_registry *registry, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {
	.global = registry_global,
	.global_remove = registry_global_remove,
};

static void shm_format(void *data, struct wl_shm *shm, uint32_t format)
{
	struct app *app = data;
	if (format == WL_SHM_FORMAT_XRGB8888)
		app->xrgb = true;
}

static const struct wl_shm_listener shm_listener = { .format = shm_format };

static void wm_base_ping(void *data, struct xdg_wm_base *wm_base, uint32_t serial)
{
	xdg_wm_base_pong(wm_base, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = { .ping = wm_base_ping };

static void xdg_surface_configure(void *data, struct xdg_surface *xdg_surface, uint32_t serial)
{
	struct app *app = data;
	xdg_surface_ack_configure(xdg_surface, serial);
	app->configured = true;
}

static const struct xdg_surface_listener xdg_surface_listener = {
	.configure = xdg_surface_configure,
};

static void toplevel_configure(void *data, struct xdg_toplevel *toplevel, int32_t width,
			       int32_t height, struct wl_array *states)
{
	/* The buffer size stays what was asked for: the benchmark draws a
	 * fixed amount every frame. */
}

static void toplevel_close(void *data, struct xdg_toplevel *toplevel)
{
	struct app *app = data;
	app->closed = true;
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void buffer_release(void *data, struct wl_buffer *wl_buffer)
{
	struct buffer *b = data;
	b->busy = false;
}

static const struct wl_buffer_listener buffer_listener = { .release = buffer_release };

static void frame_done(void *data, struct wl_callback *callback, uint32_t time)
{
	struct app *app = data;
	app->frame_done = true;
	wl_callback_destroy(callback);
}

static const struct wl_callback_listener frame_listener = { .done = frame_done };

static void dispatch(struct app *app)
{
	if (wl_display_dispatch(app->display) < 0)
		die("the connection failed");
}

static struct wl_display *connect_display(void)
{
	struct wl_display *display = wl_display_connect(NULL);
	if (!display)
		die("can not connect to $WAYLAND_DISPLAY");
	return display;
}

static int run_sync(long n)
{
	struct wl_display *display = connect_display();
	double *lat = calloc((size_t)n, sizeof(*lat));
	if (!lat)
		die("out of memory");

	/* A few unmeasured round trips: the connection is set up. */
	for (int i = 0; i < 10; i++)
		if (wl_display_roundtrip(display) < 0)
			die("the connection failed");

	mark("start");
	double t_all = now();
	for (long i = 0; i < n; i++) {
		double t0 = now();
		if (wl_display_roundtrip(display) < 0)
			die("the connection failed");
		lat[i] = (now() - t0) * 1e6;
	}
	t_all = now() - t_all;
	mark("end");
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("sync: %ld round trips in %.3f s: min %.1f median %.1f p90 %.1f max %.1f us\n", n,
	       t_all, lat[0], quantile(lat, (size_t)n, 0.5), quantile(lat, (size_t)n, 0.9),
	       lat[n - 1]);
	printf("sync_median_us %.2f\n", quantile(lat, (size_t)n, 0.5));
	printf("sync_p90_us %.2f\n", quantile(lat, (size_t)n, 0.9));
	free(lat);
	wl_display_disconnect(display);
	return 0;
}

static void draw(uint32_t *pixels, int w, int h, long frame)
{
	/* A diagonal gradient that moves: every pixel changes every frame. */
	for (int y = 0; y < h; y++) {
		uint32_t *row = pixels + (size_t)y * (size_t)w;
		uint32_t base = (uint32_t)(y + frame * 3);
		for (int x = 0; x < w; x++) {
			uint32_t v = base + (uint32_t)x;
			row[x] = 0xff000000u | (v & 0xff) << 16 | ((v >> 1) & 0xff) << 8 |
				 ((uint32_t)frame & 0xff);
		}
	}
}

/* Pseudo-random pixels, new every frame (xorshift64, two pixels a step):
 * the worst case for a transport that compresses. */
static void draw_noise(uint32_t *pixels, int w, int h, long frame)
{
	size_t n = (size_t)w * (size_t)h;
	uint64_t x = 0x9e3779b97f4a7c15u * (uint64_t)(frame + 2);
	for (size_t i = 0; i < n; i += 2) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pixels[i] = (uint32_t)x;
		if (i + 1 < n)
			pixels[i + 1] = (uint32_t)(x >> 32);
	}
}

static int run_frames(long n, int w, int h, bool noise)
{
	struct app app = { 0 };
	app.display = connect_display();
	app.registry = wl_display_get_registry(app.display);
	wl_registry_add_listener(app.registry, &registry_listener, &app);
	if (wl_display_roundtrip(app.display) < 0)
		die("the connection failed");
	if (!app.compositor || !app.shm || !app.wm_base)
		die("the compositor lacks wl_compositor, wl_shm or xdg_wm_base");
	wl_shm_add_listener(app.shm, &shm_listener, &app);
	xdg_wm_base_add_listener(app.wm_base, &wm_base_listener, &app);
	if (wl_display_roundtrip(app.display) < 0)
		die("the connection failed");
	if (!app.xrgb)
		die("no xrgb8888");

	app.surface = wl_compositor_create_surface(app.compositor);
	app.xdg_surface = xdg_wm_base_get_xdg_surface(app.wm_base, app.surface);
	xdg_surface_add_listener(app.xdg_surface, &xdg_surface_listener, &app);
	app.toplevel = xdg_surface_get_toplevel(app.xdg_surface);
	xdg_toplevel_add_listener(app.toplevel, &toplevel_listener, &app);
	xdg_toplevel_set_title(app.toplevel, "bench-client frames");
	xdg_toplevel_set_app_id(app.toplevel, "bench-client");
	wl_surface_commit(app.surface);
	while (!app.configured)
		dispatch(&app);

	int stride = w * 4;
	size_t size = (size_t)stride * (size_t)h;
	int fd = memfd_create("bench-client", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)(2 * size)) < 0)
		die("memfd");
	uint8_t *map = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	struct wl_shm_pool *pool = wl_shm_create_pool(app.shm, fd, (int32_t)(2 * size));
	for (int i = 0; i < 2; i++) {
		struct buffer *b = &app.buffers[i];
		b->pixels = (uint32_t *)(map + (size_t)i * size);
		b->buffer = wl_shm_pool_create_buffer(pool, (int32_t)((size_t)i * size), w, h,
						      stride, WL_SHM_FORMAT_XRGB8888);
		wl_buffer_add_listener(b->buffer, &buffer_listener, b);
	}
	wl_shm_pool_destroy(pool);
	close(fd);

	/* One unmeasured frame maps the window. */
	double t0 = 0, cpu0 = 0;
	long waits = 0;
	int next = 0;
	for (long frame = -1; frame < n && !app.closed; frame++) {
		if (frame == 0) {
			mark("start");
			t0 = now();
			cpu0 = cpu_seconds();
		}
		/* The buffers take turns, as a double-buffered toolkit's do: a
		 * transport that keeps a copy of each buffer sees every one
		 * change, not just the same one again. */
		struct buffer *b = &app.buffers[next];
		next = (next + 1) % 2;
		while (b->busy && !app.closed) {
			waits++;
			dispatch(&app);
		}
		if (noise)
			draw_noise(b->pixels, w, h, frame);
		else
			draw(b->pixels, w, h, frame);
		wl_surface_attach(app.surface, b->buffer, 0, 0);
		wl_surface_damage_buffer(app.surface, 0, 0, w, h);
		struct wl_callback *cb = wl_surface_frame(app.surface);
		wl_callback_add_listener(cb, &frame_listener, &app);
		app.frame_done = false;
		b->busy = true;
		wl_surface_commit(app.surface);
		while (!app.frame_done && !app.closed)
			dispatch(&app);
	}
	double wall = now() - t0;
	double cpu = cpu_seconds() - cpu0;
	if (app.closed)
		die("the window was closed");
	mark("end");

	printf("frames: %ld frames of %dx%d in %.3f s: %.2f frames/s, %.1f us CPU/frame "
	       "(%ld waits for a buffer)\n",
	       n, w, h, wall, (double)n / wall, cpu / (double)n * 1e6, waits);
	printf("frames_per_s %.3f\n", (double)n / wall);
	printf("cpu_us_per_frame %.2f\n", cpu / (double)n * 1e6);

	for (int i = 0; i < 2; i++)
		wl_buffer_destroy(app.buffers[i].buffer);
	munmap(map, 2 * size);
	xdg_toplevel_destroy(app.toplevel);
	xdg_surface_destroy(app.xdg_surface);
	wl_surface_destroy(app.surface);
	xdg_wm_base_destroy(app.wm_base);
	wl_shm_destroy(app.shm);
	wl_compositor_destroy(app.compositor);
	wl_registry_destroy(app.registry);
	wl_display_roundtrip(app.display);
	wl_display_disconnect(app.display);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage: bench-client sync N [--marks OUT IN]\n"
			"       bench-client frames N WxH [gradient|noise] [--marks OUT IN]\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	/* An optional "--marks OUT IN" ends the command line. */
	if (argc >= 5 && !strcmp(argv[argc - 3], "--marks")) {
		open_marks(argv[argc - 2], argv[argc - 1]);
		argc -= 3;
	}
	if (argc == 3 && !strcmp(argv[1], "sync")) {
		long n = strtol(argv[2], NULL, 10);
		if (n < 1)
			usage();
		return run_sync(n);
	}
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "frames")) {
		long n = strtol(argv[2], NULL, 10);
		int w = 0, h = 0;
		if (n < 1 || sscanf(argv[3], "%dx%d", &w, &h) != 2 || w < 1 || h < 1 ||
		    w > 8192 || h > 8192)
			usage();
		bool noise = argc == 5 && !strcmp(argv[4], "noise");
		if (argc == 5 && !noise && strcmp(argv[4], "gradient"))
			usage();
		return run_frames(n, w, h, noise);
	}
	usage();
	return 2;
}
