/* SPDX-License-Identifier: MIT */
/*
 * bench-validate: validated messages per second through vmapp_conn_handle,
 * the proxy's real per-message path (decoder, validator, hooks, object
 * tracking), with the shipped default policy and the label "bench".
 *
 * Setup (not timed): the registry and its globals, binds, a seat with a
 * pointer and a keyboard (keymap fd), a toplevel with title and app_id, an
 * shm pool on a memfd and two buffers, as a GTK or foot client does.
 *
 * Then one second of a typical client, 60 frames, is recorded as wire bytes
 * (a request stream, an event stream, and the order they interleave in) and
 * played through vmapp_conn_handle over and over:
 *   every frame:  wl_surface.attach, damage_buffer, frame, commit;
 *                 wl_buffer.release, wl_callback.done, wl_display.delete_id;
 *                 2 x (wl_pointer.motion + wl_pointer.frame)
 *   every 4th:    wl_keyboard.key (press), modifiers, key (release)
 *   once:         xdg_toplevel.configure + xdg_surface.configure, then
 *                 ack_configure + set_window_geometry (a resize); a
 *                 set_title (rewritten by the label hook); xdg_wm_base
 *                 ping + pong
 *
 * Usage:
 *   bench-validate [--runs R] [--cycles C]   timed: R runs of C recordings,
 *                                            prints the median
 *   bench-validate --iterations N            untimed: N recordings, for
 *                                            valgrind --tool=callgrind
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "policy.h"
#include "vmapp-tables.h"

#define FRAMES_PER_RECORDING 60
#define WIDTH 800
#define HEIGHT 600
#define STRIDE (WIDTH * 4)

/* A byte stream for one direction. */
struct stream {
	uint8_t *data;
	size_t len, cap;
	size_t start; /* of the message being built */
};

/* The recording: both streams and the order their messages come in. */
struct recording {
	struct stream dir[2]; /* indexed by enum vmapp_direction */
	uint8_t *order;
	size_t n, cap;
};

static void die(const char *what)
{
	fprintf(stderr, "bench-validate: %s\n", what);
	exit(1);
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	p = realloc(p, n * elem);
	if (!p)
		die("out of memory");
	*cap = n;
	return p;
}

static struct stream *cur; /* the stream of the message being built */

static void put(const void *bytes, size_t n)
{
	cur->data = grow(cur->data, &cur->cap, cur->len + n, 1);
	memcpy(cur->data + cur->len, bytes, n);
	cur->len += n;
}

static void u32(uint32_t v) { put(&v, 4); }
static void i32(int32_t v) { put(&v, 4); }
static void fixed(double v) { i32((int32_t)(v * 256.0)); }

static void blob(const void *bytes, size_t n)
{
	static const uint8_t zero[4];
	u32((uint32_t)n);
	put(bytes, n);
	put(zero, (4 - n % 4) % 4);
}

static void str(const char *s) { blob(s, strlen(s) + 1); }

static void begin(struct recording *rec, enum vmapp_direction d, uint32_t id, uint32_t opcode)
{
	cur = &rec->dir[d];
	cur->start = cur->len;
	u32(id);
	u32(opcode);
	rec->order = grow(rec->order, &rec->cap, rec->n + 1, 1);
	rec->order[rec->n++] = (uint8_t)d;
}

static void end(void)
{
	uint32_t word;
	memcpy(&word, cur->data + cur->start + 4, 4);
	word |= (uint32_t)(cur->len - cur->start) << 16;
	memcpy(cur->data + cur->start + 4, &word, 4);
}

static void reset(struct recording *rec)
{
	rec->dir[0].len = rec->dir[1].len = 0;
	rec->n = 0;
}

static struct vmapp_conn conn;
static struct vmapp_buf out;

/* Plays a recording once; every message must be valid and forwarded
 * (filtered globals aside).  The fds go with the message that takes them. */
static size_t play(const struct recording *rec, const int *fds, size_t n_fds, bool setup)
{
	size_t off[2] = { 0, 0 };
	for (size_t i = 0; i < rec->n; i++) {
		enum vmapp_direction d = rec->order[i];
		const struct stream *s = &rec->dir[d];
		struct vmapp_verdict v = vmapp_conn_handle(&conn, d, s->data + off[d],
							   s->len - off[d], fds, n_fds, &out);
		if (v.rule != VMAPP_RULE_OK || (!v.forward && !setup)) {
			fprintf(stderr, "bench-validate: %s.%s@%u: %s%s\n", v.interface_name,
				v.message_name, v.object_id, vmapp_rule_name(v.rule),
				v.forward ? "" : " (dropped)");
			exit(1);
		}
		fds += v.n_fds;
		n_fds -= v.n_fds;
		off[d] += v.size;
	}
	out.start = out.len = 0;
	return rec->n;
}

/* Client ids, in the order libwayland hands them out. */
enum {
	ID_DISPLAY = 1, ID_REGISTRY, ID_COMPOSITOR, ID_SHM, ID_SEAT, ID_WM_BASE, ID_OUTPUT,
	ID_POINTER, ID_KEYBOARD, ID_SURFACE, ID_XDG_SURFACE, ID_TOPLEVEL, ID_POOL,
	ID_BUFFER0, ID_BUFFER1, ID_CALLBACK,
};

static int memfd(const char *name, size_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		die("memfd");
	return fd;
}

static void setup(void)
{
	struct recording rec = { 0 };
	const enum vmapp_direction R = VMAPP_REQUEST, E = VMAPP_EVENT;
	static const struct { const char *name; uint32_t version; } globals[] = {
		/* What headless sway 1.7 (pixman) advertises, in its order. */
		{ "wl_shm", 1 }, { "wl_compositor", 4 }, { "wl_subcompositor", 1 },
		{ "wl_data_device_manager", 3 }, { "zwlr_gamma_control_manager_v1", 1 },
		{ "zxdg_output_manager_v1", 3 }, { "org_kde_kwin_idle", 1 },
		{ "zwp_idle_inhibit_manager_v1", 1 }, { "zwlr_layer_shell_v1", 4 },
		{ "xdg_wm_base", 2 }, { "zwp_tablet_manager_v2", 1 },
		{ "org_kde_kwin_server_decoration_manager", 1 },
		{ "zxdg_decoration_manager_v1", 1 }, { "zwp_relative_pointer_manager_v1", 1 },
		{ "zwp_pointer_constraints_v1", 1 }, { "wp_presentation", 1 },
		{ "zwlr_output_manager_v1", 2 }, { "zwlr_output_power_manager_v1", 1 },
		{ "zwp_input_method_manager_v2", 1 }, { "zwp_text_input_manager_v3", 1 },
		{ "zwlr_foreign_toplevel_manager_v1", 3 }, { "zwlr_export_dmabuf_manager_v1", 1 },
		{ "zwlr_screencopy_manager_v1", 3 }, { "zwlr_data_control_manager_v1", 2 },
		{ "zwp_primary_selection_device_manager_v1", 1 }, { "wp_viewporter", 1 },
		{ "zxdg_exporter_v1", 1 }, { "zxdg_importer_v1", 1 },
		{ "zxdg_exporter_v2", 1 }, { "zxdg_importer_v2", 1 },
		{ "xdg_activation_v1", 1 }, { "zwp_virtual_keyboard_manager_v1", 1 },
		{ "zwlr_virtual_pointer_manager_v1", 2 }, { "zwlr_input_inhibit_manager_v1", 1 },
		{ "zwp_keyboard_shortcuts_inhibit_manager_v1", 1 }, { "wl_seat", 7 },
		{ "zwp_pointer_gestures_v1", 3 }, { "wl_output", 4 },
	};
	uint32_t name_of[ID_CALLBACK] = { 0 };

	begin(&rec, R, ID_DISPLAY, VMAPP_REQ_WL_DISPLAY_GET_REGISTRY);
	u32(ID_REGISTRY);
	end();
	for (uint32_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
		begin(&rec, E, ID_REGISTRY, VMAPP_EVT_WL_REGISTRY_GLOBAL);
		u32(i + 1);
		str(globals[i].name);
		u32(globals[i].version);
		end();
		const char *n = globals[i].name;
		uint32_t id = !strcmp(n, "wl_compositor") ? ID_COMPOSITOR
			    : !strcmp(n, "wl_shm")        ? ID_SHM
			    : !strcmp(n, "wl_seat")       ? ID_SEAT
			    : !strcmp(n, "xdg_wm_base")   ? ID_WM_BASE
			    : !strcmp(n, "wl_output")     ? ID_OUTPUT
							  : 0;
		if (id)
			name_of[id] = i + 1;
	}
	/* Binds, after the globals, at the versions the proxy passed on. */
	static const struct { uint32_t id; const char *name; uint32_t version; } binds[] = {
		{ ID_COMPOSITOR, "wl_compositor", 4 }, { ID_SHM, "wl_shm", 1 },
		{ ID_SEAT, "wl_seat", 7 }, { ID_WM_BASE, "xdg_wm_base", 2 },
		{ ID_OUTPUT, "wl_output", 4 },
	};
	for (size_t i = 0; i < sizeof(binds) / sizeof(binds[0]); i++) {
		begin(&rec, R, ID_REGISTRY, VMAPP_REQ_WL_REGISTRY_BIND);
		u32(name_of[binds[i].id]);
		str(binds[i].name);
		u32(binds[i].version);
		u32(binds[i].id);
		end();
	}
	for (uint32_t f = 0; f < 2; f++) { /* argb8888, xrgb8888 */
		begin(&rec, E, ID_SHM, VMAPP_EVT_WL_SHM_FORMAT);
		u32(f);
		end();
	}
	begin(&rec, E, ID_SEAT, VMAPP_EVT_WL_SEAT_CAPABILITIES);
	u32(3); /* pointer | keyboard */
	end();
	begin(&rec, E, ID_SEAT, VMAPP_EVT_WL_SEAT_NAME);
	str("seat0");
	end();
	begin(&rec, E, ID_OUTPUT, VMAPP_EVT_WL_OUTPUT_GEOMETRY);
	i32(0); i32(0); i32(0); i32(0); i32(0);
	str("headless"); str("headless");
	i32(0);
	end();
	begin(&rec, E, ID_OUTPUT, VMAPP_EVT_WL_OUTPUT_MODE);
	u32(3); i32(WIDTH); i32(HEIGHT); i32(60000);
	end();
	begin(&rec, E, ID_OUTPUT, VMAPP_EVT_WL_OUTPUT_DONE);
	end();
	begin(&rec, R, ID_SEAT, VMAPP_REQ_WL_SEAT_GET_POINTER);
	u32(ID_POINTER);
	end();
	begin(&rec, R, ID_SEAT, VMAPP_REQ_WL_SEAT_GET_KEYBOARD);
	u32(ID_KEYBOARD);
	end();
	begin(&rec, E, ID_KEYBOARD, VMAPP_EVT_WL_KEYBOARD_KEYMAP);
	u32(1); /* xkb_v1, fd */
	u32(48 * 1024);
	end();
	begin(&rec, E, ID_KEYBOARD, VMAPP_EVT_WL_KEYBOARD_REPEAT_INFO);
	i32(25); i32(600);
	end();

	begin(&rec, R, ID_COMPOSITOR, VMAPP_REQ_WL_COMPOSITOR_CREATE_SURFACE);
	u32(ID_SURFACE);
	end();
	begin(&rec, R, ID_WM_BASE, VMAPP_REQ_XDG_WM_BASE_GET_XDG_SURFACE);
	u32(ID_XDG_SURFACE);
	u32(ID_SURFACE);
	end();
	begin(&rec, R, ID_XDG_SURFACE, VMAPP_REQ_XDG_SURFACE_GET_TOPLEVEL);
	u32(ID_TOPLEVEL);
	end();
	begin(&rec, R, ID_TOPLEVEL, VMAPP_REQ_XDG_TOPLEVEL_SET_TITLE);
	str("foot");
	end();
	begin(&rec, R, ID_TOPLEVEL, VMAPP_REQ_XDG_TOPLEVEL_SET_APP_ID);
	str("foot");
	end();
	begin(&rec, R, ID_SURFACE, VMAPP_REQ_WL_SURFACE_COMMIT);
	end();
	begin(&rec, E, ID_TOPLEVEL, VMAPP_EVT_XDG_TOPLEVEL_CONFIGURE);
	i32(0); i32(0);
	blob(NULL, 0);
	end();
	begin(&rec, E, ID_XDG_SURFACE, VMAPP_EVT_XDG_SURFACE_CONFIGURE);
	u32(1);
	end();
	begin(&rec, R, ID_XDG_SURFACE, VMAPP_REQ_XDG_SURFACE_ACK_CONFIGURE);
	u32(1);
	end();

	begin(&rec, R, ID_SHM, VMAPP_REQ_WL_SHM_CREATE_POOL);
	u32(ID_POOL);
	i32(2 * STRIDE * HEIGHT);
	end();
	for (uint32_t b = 0; b < 2; b++) {
		begin(&rec, R, ID_POOL, VMAPP_REQ_WL_SHM_POOL_CREATE_BUFFER);
		u32(ID_BUFFER0 + b);
		i32((int32_t)(b * STRIDE * HEIGHT));
		i32(WIDTH); i32(HEIGHT); i32(STRIDE);
		u32(1); /* xrgb8888 */
		end();
	}
	/* The window is mapped: focus and the pointer arrive. */
	begin(&rec, E, ID_KEYBOARD, VMAPP_EVT_WL_KEYBOARD_ENTER);
	u32(10); u32(ID_SURFACE);
	blob(NULL, 0);
	end();
	begin(&rec, E, ID_KEYBOARD, VMAPP_EVT_WL_KEYBOARD_MODIFIERS);
	u32(11); u32(0); u32(0); u32(0); u32(0);
	end();
	begin(&rec, E, ID_POINTER, VMAPP_EVT_WL_POINTER_ENTER);
	u32(12); u32(ID_SURFACE); fixed(400); fixed(300);
	end();
	begin(&rec, E, ID_POINTER, VMAPP_EVT_WL_POINTER_FRAME);
	end();

	int fds[2] = { memfd("keymap", 48 * 1024), memfd("pool", 2 * STRIDE * HEIGHT) };
	play(&rec, fds, 2, true);
	close(fds[0]);
	close(fds[1]); /* the proxy keeps its own duplicate */
	for (int d = 0; d < 2; d++)
		free(rec.dir[d].data);
	free(rec.order);
}

/* One second of a foot-like client at 60 Hz. */
static void record_frames(struct recording *rec)
{
	const enum vmapp_direction R = VMAPP_REQUEST, E = VMAPP_EVENT;
	uint32_t serial = 100, time_ms = 1000;
	double x = 400, y = 300;

	reset(rec);
	for (uint32_t f = 0; f < FRAMES_PER_RECORDING; f++, time_ms += 16) {
		/* Input that arrived since the last frame. */
		for (int m = 0; m < 2; m++) {
			x += 1.5;
			y -= 0.75;
			begin(rec, E, ID_POINTER, VMAPP_EVT_WL_POINTER_MOTION);
			u32(time_ms + (uint32_t)m * 8); fixed(x); fixed(y);
			end();
			begin(rec, E, ID_POINTER, VMAPP_EVT_WL_POINTER_FRAME);
			end();
		}
		if (f % 4 == 1) {
			begin(rec, E, ID_KEYBOARD, VMAPP_EVT_WL_KEYBOARD_KEY);
			u32(serial++); u32(time_ms); u32(30 + f % 20); u32(1);
			end();
			begin(rec, E, ID_KEYBOARD, VMAPP_EVT_WL_KEYBOARD_MODIFIERS);
			u32(serial++); u32(0); u32(0); u32(f % 8 == 1 ? 2 : 0); u32(0);
			end();
			begin(rec, E, ID_KEYBOARD, VMAPP_EVT_WL_KEYBOARD_KEY);
			u32(serial++); u32(time_ms + 4); u32(30 + f % 20); u32(0);
			end();
		}
		if (f == 20) {
			uint32_t states[] = { 4 /* activated */ };
			begin(rec, E, ID_TOPLEVEL, VMAPP_EVT_XDG_TOPLEVEL_CONFIGURE);
			i32(WIDTH); i32(HEIGHT);
			blob(states, sizeof(states));
			end();
			begin(rec, E, ID_XDG_SURFACE, VMAPP_EVT_XDG_SURFACE_CONFIGURE);
			u32(serial);
			end();
			begin(rec, R, ID_XDG_SURFACE, VMAPP_REQ_XDG_SURFACE_ACK_CONFIGURE);
			u32(serial++);
			end();
			begin(rec, R, ID_XDG_SURFACE, VMAPP_REQ_XDG_SURFACE_SET_WINDOW_GEOMETRY);
			i32(0); i32(0); i32(WIDTH); i32(HEIGHT);
			end();
		}
		if (f == 40) {
			begin(rec, R, ID_TOPLEVEL, VMAPP_REQ_XDG_TOPLEVEL_SET_TITLE);
			str("user@host: ~/src/vmapp — vim proxy/conn.c");
			end();
		}
		if (f == 50) {
			begin(rec, E, ID_WM_BASE, VMAPP_EVT_XDG_WM_BASE_PING);
			u32(serial);
			end();
			begin(rec, R, ID_WM_BASE, VMAPP_REQ_XDG_WM_BASE_PONG);
			u32(serial++);
			end();
		}
		/* The frame. */
		begin(rec, R, ID_SURFACE, VMAPP_REQ_WL_SURFACE_ATTACH);
		u32(ID_BUFFER0 + f % 2); i32(0); i32(0);
		end();
		begin(rec, R, ID_SURFACE, VMAPP_REQ_WL_SURFACE_DAMAGE_BUFFER);
		i32(0); i32(0); i32(WIDTH); i32(HEIGHT);
		end();
		begin(rec, R, ID_SURFACE, VMAPP_REQ_WL_SURFACE_FRAME);
		u32(ID_CALLBACK);
		end();
		begin(rec, R, ID_SURFACE, VMAPP_REQ_WL_SURFACE_COMMIT);
		end();
		/* The compositor's answer, a vblank later. */
		begin(rec, E, ID_BUFFER0 + (f + 1) % 2, VMAPP_EVT_WL_BUFFER_RELEASE);
		end();
		begin(rec, E, ID_CALLBACK, VMAPP_EVT_WL_CALLBACK_DONE);
		u32(time_ms + 16);
		end();
		begin(rec, E, ID_DISPLAY, VMAPP_EVT_WL_DISPLAY_DELETE_ID);
		u32(ID_CALLBACK);
		end();
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char *argv[])
{
	enum { OPT_RUNS = 256, OPT_CYCLES, OPT_ITERATIONS };
	static const struct option longopts[] = {
		{ "runs", required_argument, NULL, OPT_RUNS },
		{ "cycles", required_argument, NULL, OPT_CYCLES },
		{ "iterations", required_argument, NULL, OPT_ITERATIONS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long runs = 11, cycles = 2000, iterations = -1;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RUNS: runs = strtol(optarg, NULL, 10); break;
		case OPT_CYCLES: cycles = strtol(optarg, NULL, 10); break;
		case OPT_ITERATIONS: iterations = strtol(optarg, NULL, 10); break;
		case 'h':
			printf("Usage: bench-validate [--runs R] [--cycles C] | --iterations N\n");
			return 0;
		default:
			return 2;
		}
	}
	if (runs < 1 || cycles < 1 || (iterations < 0 && iterations != -1))
		die("counts must be positive");

	struct vmapp_policy *policy = vmapp_policy_create_default();
	if (!policy)
		die("the default policy does not load");
	const struct vmapp_conn_config config = {
		.protocols = &vmapp_protocols,
		.policy = policy,
		.label = "bench",
		.pass_fds = true,
	};
	if (vmapp_conn_init(&conn, &config) < 0)
		die("vmapp_conn_init");
	setup();

	struct recording rec = { 0 };
	record_frames(&rec);

	if (iterations >= 0) {
		size_t messages = 0;
		for (long i = 0; i < iterations; i++)
			messages += play(&rec, NULL, 0, false);
		printf("iterations %ld messages %zu per-recording %zu\n", iterations, messages,
		       rec.n);
	} else {
		double *rate = calloc((size_t)runs, sizeof(*rate));
		if (!rate)
			die("out of memory");
		for (long i = 0; i < 50; i++) /* warm up caches and the out buffer */
			play(&rec, NULL, 0, false);
		for (long r = 0; r < runs; r++) {
			size_t messages = 0;
			double t0 = now();
			for (long i = 0; i < cycles; i++)
				messages += play(&rec, NULL, 0, false);
			rate[r] = (double)messages / (now() - t0);
		}
		qsort(rate, (size_t)runs, sizeof(*rate), cmp_double);
		double median = rate[runs / 2];
		if (runs % 2 == 0)
			median = (rate[runs / 2 - 1] + rate[runs / 2]) / 2;
		size_t bytes = rec.dir[0].len + rec.dir[1].len;
		printf("recording: %d frames, %zu messages (%zu request bytes, %zu event bytes)\n",
		       FRAMES_PER_RECORDING, rec.n, rec.dir[VMAPP_REQUEST].len,
		       rec.dir[VMAPP_EVENT].len);
		printf("runs %ld x %zu messages: min %.0f median %.0f max %.0f messages/s\n", runs,
		       (size_t)cycles * rec.n, rate[0], median, rate[runs - 1]);
		printf("messages_per_s %.0f\n", median);
		printf("ns_per_message %.1f\n", 1e9 / median);
		printf("mb_per_s %.1f\n", median * (double)bytes / (double)rec.n / 1e6);
		free(rate);
	}

	for (int d = 0; d < 2; d++)
		free(rec.dir[d].data);
	free(rec.order);
	vmapp_buf_finish(&out);
	vmapp_conn_finish(&conn);
	vmapp_policy_destroy(policy);
	return 0;
}
