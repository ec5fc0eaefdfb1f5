// vpointer: a hostile client that drives the seat's pointer through
// zwlr_virtual_pointer_manager_v1, as an attacker would to click on other
// applications' windows.
//
//   vpointer [--print-name] [--bind-name NAME] [--repeat N] [--at X Y] [--no-click]
//
// Binds the manager, creates a virtual pointer, prints "bound", then N times
// (default 10, 100 ms apart, so that a client that only learns of the new
// pointer capability late still sees some) moves the pointer to X,Y
// (thousandths of the layout's width and height, default 500 500: the
// middle; every other round 10 further right, so that each is a real
// motion) and clicks the left button (unless --no-click). Prints "done" and
// exits 0.
//
// --print-name prints "name NAME" of the manager global and exits.
// --bind-name binds that global name whether advertised or not, as a
// hostile client that learnt the compositor's numbering elsewhere would.
//
// Exit status: 0 done, 1 usage, 2 no display or global not advertised,
// 3 connection died (for instance killed by the proxy).
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wayland-client.h>
#include "wlr-virtual-pointer-unstable-v1-client-protocol.h"

#define BTN_LEFT 0x110

static uint32_t manager_name;
static uint32_t seat_name;

static void handle_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	if (strcmp(interface, zwlr_virtual_pointer_manager_v1_interface.name) == 0) {
		manager_name = name;
	} else if (strcmp(interface, wl_seat_interface.name) == 0 && seat_name == 0) {
		seat_name = name;
	}
}

static void handle_global_remove(void *data, struct wl_registry *registry,
		uint32_t name) {
}

static const struct wl_registry_listener registry_listener = {
	.global = handle_global,
	.global_remove = handle_global_remove,
};

static int died(struct wl_display *display, const char *when) {
	fprintf(stderr, "vpointer: connection died %s (error %d)\n", when,
		wl_display_get_error(display));
	wl_display_disconnect(display);
	return 3;
}

static uint32_t now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void sleep_ms(long ms) {
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

int main(int argc, char *argv[]) {
	bool print_name = false;
	uint32_t forced_name = 0;
	int repeat = 10;
	uint32_t at_x = 500, at_y = 500;
	bool click = true;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--print-name") == 0) {
			print_name = true;
		} else if (strcmp(argv[i], "--bind-name") == 0 && i + 1 < argc) {
			forced_name = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
			repeat = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--at") == 0 && i + 2 < argc) {
			at_x = (uint32_t)strtoul(argv[++i], NULL, 10);
			at_y = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--no-click") == 0) {
			click = false;
		} else {
			fprintf(stderr, "usage: vpointer [--print-name] [--bind-name NAME] "
				"[--repeat N] [--at X Y] [--no-click]\n");
			return 1;
		}
	}

	struct wl_display *display = wl_display_connect(NULL);
	if (!display) {
		fprintf(stderr, "vpointer: cannot connect to the Wayland display\n");
		return 2;
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	wl_registry_add_listener(registry, &registry_listener, NULL);
	if (wl_display_roundtrip(display) < 0) {
		return died(display, "reading the registry");
	}

	if (print_name) {
		if (manager_name == 0) {
			fprintf(stderr, "vpointer: zwlr_virtual_pointer_manager_v1 not advertised\n");
			wl_display_disconnect(display);
			return 2;
		}
		printf("name %u\n", manager_name);
		wl_display_disconnect(display);
		return 0;
	}

	uint32_t name = forced_name ? forced_name : manager_name;
	if (name == 0) {
		fprintf(stderr, "vpointer: zwlr_virtual_pointer_manager_v1 not advertised\n");
		wl_display_disconnect(display);
		return 2;
	}

	struct zwlr_virtual_pointer_manager_v1 *manager = wl_registry_bind(registry,
		name, &zwlr_virtual_pointer_manager_v1_interface, 1);
	struct wl_seat *seat = NULL;
	if (seat_name != 0) {
		seat = wl_registry_bind(registry, seat_name, &wl_seat_interface, 1);
	}
	struct zwlr_virtual_pointer_v1 *pointer =
		zwlr_virtual_pointer_manager_v1_create_virtual_pointer(manager, seat);
	if (wl_display_roundtrip(display) < 0) {
		return died(display, "after binding");
	}
	printf("bound\n");
	fflush(stdout);

	for (int i = 0; i < repeat; i++) {
		// Absolute coordinates in a 1000x1000 frame over the whole layout.
		zwlr_virtual_pointer_v1_motion_absolute(pointer, now_ms(),
			at_x + (uint32_t)(i % 2) * 10, at_y, 1000, 1000);
		zwlr_virtual_pointer_v1_frame(pointer);
		if (click) {
			zwlr_virtual_pointer_v1_button(pointer, now_ms(), BTN_LEFT,
				WL_POINTER_BUTTON_STATE_PRESSED);
			zwlr_virtual_pointer_v1_frame(pointer);
			zwlr_virtual_pointer_v1_button(pointer, now_ms(), BTN_LEFT,
				WL_POINTER_BUTTON_STATE_RELEASED);
			zwlr_virtual_pointer_v1_frame(pointer);
		}
		if (wl_display_roundtrip(display) < 0) {
			return died(display, "while moving");
		}
		sleep_ms(100);
	}
	printf("done\n");
	fflush(stdout);

	zwlr_virtual_pointer_v1_destroy(pointer);
	zwlr_virtual_pointer_manager_v1_destroy(manager);
	if (seat) {
		wl_seat_destroy(seat);
	}
	if (wl_display_roundtrip(display) < 0) {
		return died(display, "at the end");
	}
	wl_registry_destroy(registry);
	wl_display_disconnect(display);
	return 0;
}
