// globals: list a Wayland display's globals, or bind one by name.
//
//   globals
//     prints the globals, one a line as "INTERFACE VERSION NAME", exits 0.
//   globals --bind NAME INTERFACE VERSION
//     binds global NAME as INTERFACE at VERSION whether it was advertised or
//     not, as a hostile client that learnt the compositor's numbering would,
//     then does a roundtrip. Prints "bound" and exits 0 if the connection
//     survived.
//
// Exit status: 0 done, 1 usage, 2 no display, 3 the connection died (for
// instance killed by the proxy).
//
// The integration tests run it directly and through the proxy, to show
// that the compositor offers a dangerous global, that the proxy hides it,
// and that binding it anyway costs the client its connection.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>

static void handle_global(void *data, struct wl_registry *registry,
		uint32_t name, const char *interface, uint32_t version) {
	if (data) {
		printf("%s %u %u\n", interface, version, name);
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
	fprintf(stderr, "globals: connection died %s (error %d)\n", when,
		wl_display_get_error(display));
	wl_display_disconnect(display);
	return 3;
}

int main(int argc, char *argv[]) {
	const char *bind_interface = NULL;
	uint32_t bind_name = 0, bind_version = 0;
	if (argc == 5 && strcmp(argv[1], "--bind") == 0) {
		bind_name = (uint32_t)strtoul(argv[2], NULL, 10);
		bind_interface = argv[3];
		bind_version = (uint32_t)strtoul(argv[4], NULL, 10);
	} else if (argc != 1) {
		fprintf(stderr, "usage: globals [--bind NAME INTERFACE VERSION]\n");
		return 1;
	}

	struct wl_display *display = wl_display_connect(NULL);
	if (!display) {
		fprintf(stderr, "globals: cannot connect to the Wayland display\n");
		return 2;
	}
	struct wl_registry *registry = wl_display_get_registry(display);
	// List only in the listing mode.
	wl_registry_add_listener(registry, &registry_listener,
		bind_interface ? NULL : (void *)1);
	if (wl_display_roundtrip(display) < 0) {
		return died(display, "reading the registry");
	}
	fflush(stdout);

	if (bind_interface) {
		// Only the name travels on the wire with the bind. No request is
		// ever sent on the new object; its events (an output manager sends
		// some at once) are taken with an empty signature, which libwayland
		// accepts, and any objects they create are unknown to it, so it
		// drops what is sent to them.
		static struct wl_message events[64];
		for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
			events[i] = (struct wl_message){ .name = "event", .signature = "" };
		}
		const struct wl_interface interface = {
			.name = bind_interface,
			.version = (int)bind_version,
			.event_count = (int)(sizeof(events) / sizeof(events[0])),
			.events = events,
		};
		struct wl_proxy *object = wl_registry_bind(registry, bind_name,
			&interface, bind_version);
		if (wl_display_roundtrip(display) < 0) {
			return died(display, "after the bind");
		}
		printf("bound\n");
		fflush(stdout);
		wl_proxy_destroy(object);
	}

	wl_registry_destroy(registry);
	wl_display_disconnect(display);
	return 0;
}
