/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the pure wire validator, vmapp_wire_decode, against an object map
 * that looks like a client some way into a session.
 *
 * Input: VERSION_BYTES bytes choosing the versions of the bound globals,
 * then records of
 *   flags: bit 0 direction (0 request, 1 event), bits 1-3 the number of
 *          fds that came with the bytes (0..7)
 *   the message: as many bytes as its header says
 * decoded in turn until the input ends or a message breaks a rule.  Each
 * accepted message creates and destroys objects as it would in the proxy,
 * so later records see the map it leaves.
 *
 * What is checked is what a hook or the relay relies on when the verdict
 * is OK: the size, every string and array inside the message, every string
 * NUL-terminated, every object and new_id what the table asks for, no more
 * fds than arrived; and that the verdict never depends on a byte past the
 * message's own size.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "objmap.h"
#include "vmapp-tables.h"
#include "wire.h"

#define VERSION_BYTES 8
/* The default policy's "limit objects". */
#define MAX_OBJECTS 10000

struct fixed_object {
	uint32_t id;
	const struct vmapp_interface *interface; /* NULL: a freed id, a hole */
	int version_byte;                        /* -1: version 1 */
	bool zombie;                             /* destroyed, delete_id pending */
};

/* Ids as a client would have them after binding its globals, creating a
 * window and a buffer, with a hole (21) and a zombie (14) for the id rules
 * and two compositor-created offers for the server range. */
static const struct fixed_object fixed_objects[] = {
	{ 1, &vmapp_iface_wl_display, -1, false },
	{ 2, &vmapp_iface_wl_registry, -1, false },
	{ 3, &vmapp_iface_wl_compositor, 0, false },
	{ 4, &vmapp_iface_wl_surface, 0, false },
	{ 5, &vmapp_iface_wl_shm, 1, false },
	{ 6, &vmapp_iface_wl_shm_pool, 1, false },
	{ 7, &vmapp_iface_xdg_wm_base, 2, false },
	{ 8, &vmapp_iface_xdg_surface, 2, false },
	{ 9, &vmapp_iface_xdg_toplevel, 2, false },
	{ 10, &vmapp_iface_wl_seat, 3, false },
	{ 11, &vmapp_iface_wl_pointer, 3, false },
	{ 12, &vmapp_iface_wl_keyboard, 3, false },
	{ 13, &vmapp_iface_wl_buffer, -1, false },
	{ 14, &vmapp_iface_wl_callback, -1, true },
	{ 15, &vmapp_iface_wl_region, 0, false },
	{ 16, &vmapp_iface_wl_data_device_manager, 4, false },
	{ 17, &vmapp_iface_wl_data_device, 4, false },
	{ 18, &vmapp_iface_wl_data_source, 4, false },
	{ 19, &vmapp_iface_xdg_positioner, 2, false },
	{ 20, &vmapp_iface_wl_output, 5, false },
	{ 21, NULL, -1, false },
	{ 22, &vmapp_iface_wp_viewporter, 6, false },
	{ 23, &vmapp_iface_zwp_linux_dmabuf_v1, 7, false },
	{ 24, &vmapp_iface_zwp_linux_buffer_params_v1, 7, false },
	{ 25, &vmapp_iface_wl_subcompositor, -1, false },
	{ 26, &vmapp_iface_xdg_popup, 2, false },
	{ 27, &vmapp_iface_zwp_text_input_manager_v3, -1, false },
	{ 28, &vmapp_iface_zwp_primary_selection_device_manager_v1, -1, false },
	{ VMAPP_SERVER_ID_START, &vmapp_iface_wl_data_offer, 4, false },
	{ VMAPP_SERVER_ID_START + 1, &vmapp_iface_zwp_primary_selection_offer_v1, -1, false },
};

static void build_map(struct vmapp_objmap *map, const uint8_t *version_bytes)
{
	vmapp_objmap_init(map, MAX_OBJECTS);
	for (size_t i = 0; i < sizeof(fixed_objects) / sizeof(fixed_objects[0]); i++) {
		const struct fixed_object *f = &fixed_objects[i];
		const struct vmapp_interface *iface = f->interface ? f->interface
								   : &vmapp_iface_wl_callback;
		uint32_t version = 1;
		if (f->version_byte >= 0)
			version = 1 + version_bytes[f->version_byte] % iface->version;
		FUZZ_CHECK(vmapp_objmap_insert(map, f->id, iface, version) == 0);
		if (!f->interface)
			vmapp_objmap_remove(map, f->id);
		else if (f->zombie)
			vmapp_objmap_zombify(map, f->id);
	}
}

static bool inside(const uint8_t *msg, uint32_t size, const void *p, uint64_t n)
{
	const uint8_t *b = p;
	return b >= msg + VMAPP_HEADER_SIZE && b <= msg + size &&
	       (uint64_t)(b - msg) + n <= size;
}

/* Only the structural rules apply to events: the compositor is trusted. */
static bool event_rule(enum vmapp_rule r)
{
	switch (r) {
	case VMAPP_RULE_HEADER_TRUNCATED:
	case VMAPP_RULE_SIZE_TOO_SMALL:
	case VMAPP_RULE_SIZE_TOO_LARGE:
	case VMAPP_RULE_SIZE_UNALIGNED:
	case VMAPP_RULE_MESSAGE_TRUNCATED:
	case VMAPP_RULE_OBJECT_UNKNOWN:
	case VMAPP_RULE_OPCODE_UNKNOWN:
	case VMAPP_RULE_ARG_OVERFLOW:
	case VMAPP_RULE_TRAILING_BYTES:
	case VMAPP_RULE_STRING_UNTERMINATED:
	case VMAPP_RULE_NULL_NOT_ALLOWED:
	case VMAPP_RULE_NEW_ID_INVALID:
	case VMAPP_RULE_FD_MISSING:
		return true;
	default:
		return false;
	}
}

static void check_ok(const struct vmapp_objmap *map, enum vmapp_direction direction,
		     const uint8_t *msg, size_t len, size_t n_fds_available,
		     const struct vmapp_message_view *view)
{
	bool request = direction == VMAPP_REQUEST;
	uint32_t size = view->size;

	FUZZ_CHECK(size >= VMAPP_HEADER_SIZE && size <= VMAPP_MAX_MESSAGE_SIZE);
	FUZZ_CHECK(size % 4 == 0);
	FUZZ_CHECK(size <= len);
	FUZZ_CHECK(size == vmapp_wire_u32(msg + 4) >> 16);
	FUZZ_CHECK(view->object_id == vmapp_wire_u32(msg));
	FUZZ_CHECK(view->opcode == (vmapp_wire_u32(msg + 4) & 0xffff));
	FUZZ_CHECK(view->object && view->object == vmapp_objmap_get(map, view->object_id));
	FUZZ_CHECK(view->interface == view->object->interface);
	if (request) {
		FUZZ_CHECK(view->object->state == VMAPP_OBJECT_LIVE);
		FUZZ_CHECK(view->opcode < view->interface->n_requests);
		FUZZ_CHECK(view->message == &view->interface->requests[view->opcode]);
		FUZZ_CHECK(view->message->since <= view->object->version);
	} else {
		FUZZ_CHECK(view->opcode < view->interface->n_events);
		FUZZ_CHECK(view->message == &view->interface->events[view->opcode]);
	}

	const struct vmapp_message *m = view->message;
	uint32_t fds = 0;
	FUZZ_CHECK(m->n_args <= VMAPP_MAX_ARGS);
	FUZZ_CHECK(view->bad_arg == m->n_args);
	for (uint32_t i = 0; i < m->n_args; i++) {
		const struct vmapp_arg *arg = &m->args[i];
		const union vmapp_arg_value *v = &view->args[i];

		switch (arg->type) {
		case VMAPP_ARG_STRING:
			if (v->str.size == 0) {
				FUZZ_CHECK(v->str.data == NULL);
				FUZZ_CHECK(arg->nullable);
				break;
			}
			FUZZ_CHECK(v->str.data != NULL);
			FUZZ_CHECK(inside(msg, size, v->str.data, v->str.size));
			FUZZ_CHECK((const uint8_t *)v->str.data == msg + v->str.offset + 4);
			FUZZ_CHECK(v->str.data[v->str.size - 1] == '\0');
			if (request) {
				FUZZ_CHECK(memchr(v->str.data, '\0', v->str.size - 1) == NULL);
				FUZZ_CHECK(vmapp_utf8_valid(v->str.data, v->str.size - 1));
			}
			break;
		case VMAPP_ARG_ARRAY:
			FUZZ_CHECK(inside(msg, size, v->array.data, v->array.size));
			break;
		case VMAPP_ARG_FD:
			FUZZ_CHECK(v->fd_index == fds);
			fds++;
			break;
		case VMAPP_ARG_OBJECT:
			if (v->u == 0) {
				FUZZ_CHECK(arg->nullable);
			} else if (request) {
				const struct vmapp_object *o = vmapp_objmap_get(map, v->u);
				FUZZ_CHECK(o && o->state == VMAPP_OBJECT_LIVE);
				FUZZ_CHECK(!arg->interface || o->interface == arg->interface);
			}
			break;
		case VMAPP_ARG_NEW_ID:
			if (request) {
				FUZZ_CHECK(vmapp_objmap_client_id_ok(map, v->u));
			} else {
				FUZZ_CHECK(v->u >= VMAPP_SERVER_ID_START);
				FUZZ_CHECK(vmapp_objmap_get(map, v->u) == NULL);
			}
			if (!arg->interface) {
				const char *name = view->new_interface_name;
				FUZZ_CHECK(name && view->new_interface_size > 0);
				FUZZ_CHECK(inside(msg, size, name, view->new_interface_size));
				FUZZ_CHECK(name[view->new_interface_size - 1] == '\0');
			}
			break;
		default:
			break;
		}
	}
	FUZZ_CHECK(view->n_fds == fds);
	FUZZ_CHECK(view->n_fds == m->n_fds);
	FUZZ_CHECK(view->n_fds <= n_fds_available);
}

/* The verdict on the message alone, in a buffer of exactly its size, so
 * that AddressSanitizer sees any read past it. */
static void check_alone(const struct vmapp_objmap *map, enum vmapp_direction direction,
			const uint8_t *msg, uint32_t size, size_t n_fds_available,
			enum vmapp_rule want, const struct vmapp_message_view *want_view)
{
	struct vmapp_message_view view;
	uint8_t *copy = malloc(size);

	FUZZ_CHECK(copy);
	memcpy(copy, msg, size);
	enum vmapp_rule r = vmapp_wire_decode(&vmapp_protocols, map, direction, copy, size,
					      n_fds_available, &view);
	FUZZ_CHECK(r == want);
	FUZZ_CHECK(view.size == want_view->size);
	FUZZ_CHECK(view.message == want_view->message);
	FUZZ_CHECK(view.bad_arg == want_view->bad_arg);
	FUZZ_CHECK(view.n_fds == want_view->n_fds);
	free(copy);
}

/* What conn.c's track() and the delete_id hook do to the map. */
static void apply(struct vmapp_objmap *map, enum vmapp_direction direction,
		  const struct vmapp_message_view *view)
{
	const struct vmapp_message *m = view->message;
	/* Read before any insert: view->object points into the map's array. */
	uint32_t version = view->object->version;

	for (uint32_t i = 0; i < m->n_args; i++) {
		const struct vmapp_arg *arg = &m->args[i];
		if (arg->type != VMAPP_ARG_NEW_ID)
			continue;
		const struct vmapp_interface *iface = arg->interface;
		uint32_t v = version;
		if (!iface) {
			iface = vmapp_protocol_find(&vmapp_protocols, view->new_interface_name);
			v = view->new_version;
		}
		if (iface)
			vmapp_objmap_insert(map, view->args[i].u, iface, v);
	}
	if (m->destructor) {
		if (view->object_id < VMAPP_SERVER_ID_START)
			vmapp_objmap_zombify(map, view->object_id);
		else
			vmapp_objmap_remove(map, view->object_id);
	}
	if (direction == VMAPP_EVENT && view->interface == &vmapp_iface_wl_display &&
	    view->opcode == VMAPP_EVT_WL_DISPLAY_DELETE_ID &&
	    view->args[0].u < VMAPP_SERVER_ID_START)
		vmapp_objmap_remove(map, view->args[0].u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmapp_objmap map;
	struct vmapp_message_view view;

	if (size < VERSION_BYTES)
		return 0;
	build_map(&map, data);

	size_t off = VERSION_BYTES;
	while (off < size) {
		uint8_t flags = data[off++];
		enum vmapp_direction direction = flags & 1 ? VMAPP_EVENT : VMAPP_REQUEST;
		size_t n_fds = (flags >> 1) & 7;
		const uint8_t *msg = data + off;
		size_t len = size - off;
		uint32_t peeked = 0;

		enum vmapp_rule p = vmapp_wire_peek(msg, len, &peeked);
		enum vmapp_rule r = vmapp_wire_decode(&vmapp_protocols, &map, direction,
						      msg, len, n_fds, &view);
		FUZZ_CHECK((unsigned)r < VMAPP_RULE_COUNT);
		if (fuzz_trace())
			fprintf(stderr, "%s %s.%s@%u: %s\n",
				direction == VMAPP_REQUEST ? "request" : "event",
				view.interface ? view.interface->name : "?",
				view.message ? view.message->name : "?", view.object_id,
				vmapp_rule_name(r));
		if (p != VMAPP_RULE_OK) {
			FUZZ_CHECK(r == p);
			FUZZ_CHECK(p != VMAPP_RULE_HEADER_TRUNCATED || len < VMAPP_HEADER_SIZE);
			break;
		}
		FUZZ_CHECK(view.size == peeked);
		if (direction == VMAPP_EVENT)
			FUZZ_CHECK(r == VMAPP_RULE_OK || event_rule(r));
		if (view.message)
			FUZZ_CHECK(view.bad_arg <= view.message->n_args);
		check_alone(&map, direction, msg, peeked, n_fds, r, &view);
		if (r != VMAPP_RULE_OK)
			break;
		check_ok(&map, direction, msg, len, n_fds, &view);
		apply(&map, direction, &view);
		off += view.size;
	}

	vmapp_objmap_finish(&map);
	return 0;
}
