// layer: a hostile client that covers the whole output with a
// zwlr_layer_shell_v1 surface on the overlay layer, as a fake lock screen or
// a fake password prompt would.
//
//   layer [--colour RRGGBB] [--hold SECONDS] [--print-name] [--bind-name NAME]
//
// Creates an overlay layer surface anchored to every edge, waits for its
// configure, attaches an opaque shm buffer of the colour (default e01080)
// at the configured size, and waits for the frame callback that says it was
// shown. Prints "configured WxH", then "drawn", then stays mapped for
// SECONDS (default 0) so that a screenshot can see it, and exits 0.
//
// --print-name prints "name NAME" of the layer shell global and exits.
// --bind-name binds that global name whether advertised or not.
//
// Exit status: 0 drawn, 1 usage or local failure, 2 no display or global
// not advertised, 3 connection died, 4 closed or timed out by the compositor.
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>
#include "wlr-layer-shell-unstable-v1-client-protocol.h"

struct state {
	uint32_t layer_shell_name;
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	bool configured;
	uint32_t serial, width, height;
	bool closed;
	bool frame_done;
};

static void handle_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	struct state *state = data;
	if (strcmp(interface, zwlr_layer_shell_v1_interface.name) == 0) {
		state->layer_shell_name = name;
	} else if (strcmp(interface, wl_compositor_interface.name) == 0 && !state->compositor) {
		state->compositor = wl_registry_bind(registry, name, &wl_compositor_interface, 1);
	} else if (strcmp(interface, wl_shm_interface.name) == 0 && !state->shm) {
		state->shm = wl_registry_bind(registry, name, &wl_shm_interface, 1);
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static void handle_configure(void *data, struct zwlr_layer_surface_v1 *surface,
		uint32_t serial, uint32_t width, uint32_t height) {
	struct state *state = data;
	state->configured = true;
	state->serial = serial;
	state->width = width;
	state->height = height;
}

static void handle_closed(void *data, struct zwlr_layer_surface_v1 *surface) {
	struct state *state = data;
	state->closed = true;
}

static const struct zwlr_layer_surface_v1_listener layer_surface_listener = {
	.configure = handle_configure,
	.closed = handle_closed,
};

static void handle_frame_done(void *data, struct wl_callback *callback,
		uint32_t time) {
	struct state *state = data;
	state->frame_done = true;
	wl_callback_destroy(callback);
}

static const struct wl_callback_listener frame_listener = {
	.done = handle_frame_done,
};

static int64_t now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Dispatch events until *flag is set, the deadline passes (returns 0 with
// *flag still false) or the connection dies (returns -1).
static int dispatch_until(struct wl_display *display, bool *flag, int64_t deadline) {
	while (!*flag) {
		while (wl_display_prepare_read(display) != 0) {
			if (wl_display_dispatch_pending(display) < 0) {
				return -1;
			}
		}
		if (*flag) {
			wl_display_cancel_read(display);
			break;
		}
		if (wl_display_flush(display) < 0 && errno != EAGAIN) {
			wl_display_cancel_read(display);
			return -1;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			wl_display_cancel_read(display);
			return 0;
		}
		struct pollfd pfd = { .fd = wl_display_get_fd(display), .events = POLLIN };
		int ret = poll(&pfd, 1, (int)left);
		if (ret <= 0) {
			wl_display_cancel_read(display);
			if (ret < 0 && errno != EINTR) {
				return -1;
			}
			continue;
		}
		if (wl_display_read_events(display) < 0) {
			return -1;
		}
		if (wl_display_dispatch_pending(display) < 0) {
			return -1;
		}
	}
	return 0;
}

static struct wl_buffer *create_buffer(struct wl_shm *shm, uint32_t width,
		uint32_t height, uint32_t xrgb) {
	size_t stride = (size_t)width * 4;
	size_t size = stride * height;
	int fd = memfd_create("vmapp-layer", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		perror("layer: shm");
		return NULL;
	}
	uint32_t *pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (pixels == MAP_FAILED) {
		perror("layer: mmap");
		close(fd);
		return NULL;
	}
	for (size_t i = 0; i < size / 4; i++) {
		pixels[i] = 0xff000000u | xrgb;
	}
	munmap(pixels, size);
	struct wl_shm_pool *pool = wl_shm_create_pool(shm, fd, (int32_t)size);
	struct wl_buffer *buffer = wl_shm_pool_create_buffer(pool, 0,
		(int32_t)width, (int32_t)height, (int32_t)stride, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buffer;
}

static int died(struct wl_display *display, const char *when) {
	fprintf(stderr, "layer: connection died %s (error %d)\n", when,
		wl_display_get_error(display));
	wl_display_disconnect(display);
	return 3;
}

int main(int argc, char *argv[]) {
	uint32_t colour = 0xe01080;
	int hold = 0;
	bool print_name = false;
	uint32_t forced_name = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--colour") == 0 && i + 1 < argc) {
			colour = (uint32_t)strtoul(argv[++i], NULL, 16) & 0xffffff;
		} else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
			hold = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--print-name") == 0) {
			print_name = true;
		} else if (strcmp(argv[i], "--bind-name") == 0 && i + 1 < argc) {
			forced_name = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: layer [--colour RRGGBB] [--hold SECONDS] "
				"[--print-name] [--bind-name NAME]\n");
			return 1;
		}
	}

	struct wl_display *display = wl_display_connect(NULL);
	if (!display) {
		fprintf(stderr, "layer: cannot connect to the Wayland display\n");
		return 2;
	}
	struct state state = {0};
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, &state);
	if (wl_display_roundtrip(display) < 0) {
		return died(display, "reading the registry");
	}

	if (print_name) {
		if (state.layer_shell_name == 0) {
			fprintf(stderr, "layer: zwlr_layer_shell_v1 not advertised\n");
			wl_display_disconnect(display);
			return 2;
		}
		printf("name %u\n", state.layer_shell_name);
		wl_display_disconnect(display);
		return 0;
	}

	uint32_t name = forced_name ? forced_name : state.layer_shell_name;
	if (name == 0) {
		fprintf(stderr, "layer: zwlr_layer_shell_v1 not advertised\n");
		wl_display_disconnect(display);
		return 2;
	}
	if (!state.compositor || !state.shm) {
		fprintf(stderr, "layer: wl_compositor or wl_shm missing\n");
		wl_display_disconnect(display);
		return 2;
	}

	struct zwlr_layer_shell_v1 *layer_shell = wl_registry_bind(registry, name,
		&zwlr_layer_shell_v1_interface, 1);
	struct wl_surface *surface = wl_compositor_create_surface(state.compositor);
	struct zwlr_layer_surface_v1 *layer_surface = zwlr_layer_shell_v1_get_layer_surface(
		layer_shell, surface, NULL, ZWLR_LAYER_SHELL_V1_LAYER_OVERLAY, "vmapp-test");
	zwlr_layer_surface_v1_add_listener(layer_surface, &layer_surface_listener, &state);
	zwlr_layer_surface_v1_set_size(layer_surface, 0, 0);
	zwlr_layer_surface_v1_set_anchor(layer_surface,
		ZWLR_LAYER_SURFACE_V1_ANCHOR_TOP | ZWLR_LAYER_SURFACE_V1_ANCHOR_BOTTOM |
		ZWLR_LAYER_SURFACE_V1_ANCHOR_LEFT | ZWLR_LAYER_SURFACE_V1_ANCHOR_RIGHT);
	zwlr_layer_surface_v1_set_exclusive_zone(layer_surface, -1);
	wl_surface_commit(surface);

	if (dispatch_until(display, &state.configured, now_ms() + 10000) < 0) {
		return died(display, "waiting for configure");
	}
	if (!state.configured || state.closed) {
		fprintf(stderr, "layer: no configure within 10 s\n");
		wl_display_disconnect(display);
		return 4;
	}
	uint32_t width = state.width ? state.width : 640;
	uint32_t height = state.height ? state.height : 480;
	printf("configured %ux%u\n", width, height);
	fflush(stdout);

	zwlr_layer_surface_v1_ack_configure(layer_surface, state.serial);
	struct wl_buffer *buffer = create_buffer(state.shm, width, height, colour);
	if (!buffer) {
		wl_display_disconnect(display);
		return 1;
	}
	wl_surface_attach(surface, buffer, 0, 0);
	wl_surface_damage(surface, 0, 0, (int32_t)width, (int32_t)height);
	struct wl_callback *frame = wl_surface_frame(surface);
	wl_callback_add_listener(frame, &frame_listener, &state);
	wl_surface_commit(surface);

	if (dispatch_until(display, &state.frame_done, now_ms() + 10000) < 0) {
		return died(display, "waiting for the frame");
	}
	if (!state.frame_done || state.closed) {
		fprintf(stderr, "layer: surface not shown within 10 s\n");
		wl_display_disconnect(display);
		return 4;
	}
	printf("drawn\n");
	fflush(stdout);

	// Stay mapped, still answering the compositor, until the hold time ends.
	bool never = false;
	if (dispatch_until(display, &never, now_ms() + (int64_t)hold * 1000) < 0) {
		return died(display, "while shown");
	}

	zwlr_layer_surface_v1_destroy(layer_surface);
	wl_surface_destroy(surface);
	wl_buffer_destroy(buffer);
	wl_display_roundtrip(display);
	wl_registry_destroy(registry);
	wl_display_disconnect(display);
	return 0;
}
