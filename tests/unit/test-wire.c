/* SPDX-License-Identifier: MIT */
/* Every rule of the pure decoder, with libwayland's hostile values. */
#include <stdlib.h>

#include "msg.h"
#include "vmapp-tables.h"
#include "wire.h"

static struct vmapp_objmap map;
static struct msg m;
static struct vmapp_message_view view;

enum {
	DISPLAY = 1, REGISTRY, COMPOSITOR, SURFACE, SHM, WM_BASE, XDG_SURFACE,
	TOPLEVEL, DEAD_REGION, POOL,
};
#define OFFER 0xff000000u

static void setup(void)
{
	vmapp_objmap_init(&map, 100);
	vmapp_objmap_insert(&map, DISPLAY, &vmapp_iface_wl_display, 1);
	vmapp_objmap_insert(&map, REGISTRY, &vmapp_iface_wl_registry, 1);
	vmapp_objmap_insert(&map, COMPOSITOR, &vmapp_iface_wl_compositor, 4);
	vmapp_objmap_insert(&map, SURFACE, &vmapp_iface_wl_surface, 4);
	vmapp_objmap_insert(&map, SHM, &vmapp_iface_wl_shm, 1);
	vmapp_objmap_insert(&map, WM_BASE, &vmapp_iface_xdg_wm_base, 2);
	vmapp_objmap_insert(&map, XDG_SURFACE, &vmapp_iface_xdg_surface, 2);
	vmapp_objmap_insert(&map, TOPLEVEL, &vmapp_iface_xdg_toplevel, 2);
	vmapp_objmap_insert(&map, DEAD_REGION, &vmapp_iface_wl_region, 4);
	vmapp_objmap_zombify(&map, DEAD_REGION);
	vmapp_objmap_insert(&map, POOL, &vmapp_iface_wl_shm_pool, 1);
	vmapp_objmap_insert(&map, OFFER, &vmapp_iface_wl_data_offer, 3);
}

static enum vmapp_rule req(size_t n_fds)
{
	return vmapp_wire_decode(&vmapp_protocols, &map, VMAPP_REQUEST, m.data, m.len, n_fds,
				 &view);
}

static enum vmapp_rule evt(size_t n_fds)
{
	return vmapp_wire_decode(&vmapp_protocols, &map, VMAPP_EVENT, m.data, m.len, n_fds,
				 &view);
}

/* wl_display.sync(new_id) is 12 bytes: every other size must fail. */
static void test_sizes(void)
{
	for (uint32_t size = 0; size <= 11; size++) {
		msg_reset(&m);
		msg_begin(&m, DISPLAY, VMAPP_REQ_WL_DISPLAY_SYNC);
		msg_u32(&m, 11);
		uint32_t word = size << 16 | VMAPP_REQ_WL_DISPLAY_SYNC;
		memcpy(m.data + 4, &word, 4);
		enum vmapp_rule want = size < 8 ? VMAPP_RULE_SIZE_TOO_SMALL
				     : size % 4 ? VMAPP_RULE_SIZE_UNALIGNED
						: VMAPP_RULE_ARG_OVERFLOW;
		enum vmapp_rule got = req(0);
		if (got != want)
			fprintf(stderr, "size %u: got %s want %s\n", size, vmapp_rule_name(got),
				vmapp_rule_name(want));
		CHECK(got == want);
	}
	/* The whole message is there, in a buffer longer than it. */
	msg_reset(&m);
	msg_begin(&m, DISPLAY, VMAPP_REQ_WL_DISPLAY_SYNC);
	msg_u32(&m, 11);
	msg_end(&m);
	m.len += 16;
	CHECK_RULE(req(0), VMAPP_RULE_OK);
	CHECK(view.size == 12);

	/* Sizes above libwayland's 4096, up to the 16-bit maximum. */
	uint32_t big[] = { 4100, 8192, 0xfffc };
	for (size_t i = 0; i < 3; i++) {
		uint32_t word = big[i] << 16;
		memcpy(m.data + 4, &word, 4);
		m.len = 8;
		CHECK_RULE(req(0), VMAPP_RULE_SIZE_TOO_LARGE);
	}
	/* Short buffers want more bytes, they are not errors. */
	msg_reset(&m);
	msg_begin(&m, DISPLAY, VMAPP_REQ_WL_DISPLAY_SYNC);
	msg_u32(&m, 11);
	msg_end(&m);
	for (size_t len = 0; len < 8; len++)
		CHECK_RULE(vmapp_wire_decode(&vmapp_protocols, &map, VMAPP_REQUEST, m.data, len, 0,
					     &view), VMAPP_RULE_HEADER_TRUNCATED);
	for (size_t len = 8; len < 12; len++)
		CHECK_RULE(vmapp_wire_decode(&vmapp_protocols, &map, VMAPP_REQUEST, m.data, len, 0,
					     &view), VMAPP_RULE_MESSAGE_TRUNCATED);
}

static void test_objects(void)
{
	msg_reset(&m);
	msg_begin(&m, 77, 0);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_OBJECT_UNKNOWN);

	msg_reset(&m);
	msg_begin(&m, 0, 0);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_OBJECT_UNKNOWN);

	msg_reset(&m);
	msg_begin(&m, DEAD_REGION, VMAPP_REQ_WL_REGION_ADD);
	for (int i = 0; i < 4; i++)
		msg_u32(&m, 1);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_OBJECT_DESTROYED);
	/* ... but events to it still parse (they may be in flight). */

	msg_reset(&m);
	msg_begin(&m, SURFACE, vmapp_iface_wl_surface.n_requests);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_OPCODE_UNKNOWN);
	msg_reset(&m);
	msg_begin(&m, SURFACE, 0xffff);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_OPCODE_UNKNOWN);

	/* wl_surface.offset is since 5; this surface is version 4. */
	msg_reset(&m);
	msg_begin(&m, SURFACE, VMAPP_REQ_WL_SURFACE_OFFSET);
	msg_u32(&m, 0);
	msg_u32(&m, 0);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_VERSION_TOO_LOW);
}

static void set_title_blob(uint32_t len_word, const void *bytes, size_t n)
{
	msg_reset(&m);
	msg_begin(&m, TOPLEVEL, VMAPP_REQ_XDG_TOPLEVEL_SET_TITLE);
	msg_blob(&m, len_word, bytes, n);
	msg_end(&m);
}

static void test_strings(void)
{
	set_title_blob(6, "hello", 6);
	CHECK_RULE(req(0), VMAPP_RULE_OK);
	CHECK(view.args[0].str.size == 6 && strcmp(view.args[0].str.data, "hello") == 0);

	/* The lengths that wrapped in 32 bits in old libwayland. */
	set_title_blob(0xffffffff, "abcd", 4);
	CHECK_RULE(req(0), VMAPP_RULE_ARG_OVERFLOW);
	set_title_blob(0xfffff000, "abcd", 4);
	CHECK_RULE(req(0), VMAPP_RULE_ARG_OVERFLOW);
	set_title_blob(0xfffffffd, "abcd", 4);
	CHECK_RULE(req(0), VMAPP_RULE_ARG_OVERFLOW);
	set_title_blob(9, "abcd", 4);
	CHECK_RULE(req(0), VMAPP_RULE_ARG_OVERFLOW);

	set_title_blob(4, "abcd", 4);
	CHECK_RULE(req(0), VMAPP_RULE_STRING_UNTERMINATED);
	set_title_blob(6, "ab\0cd", 6);
	CHECK_RULE(req(0), VMAPP_RULE_STRING_EMBEDDED_NUL);
	set_title_blob(0, "", 0);
	CHECK_RULE(req(0), VMAPP_RULE_NULL_NOT_ALLOWED);

	static const char *bad_utf8[] = {
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong, 3 bytes */
		"\xed\xa0\x80",     /* surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xff",
		"abc\xe2\x82",      /* cut short */
		"\x80",
	};
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		set_title_blob((uint32_t)strlen(bad_utf8[i]) + 1, bad_utf8[i],
			       strlen(bad_utf8[i]) + 1);
		CHECK_RULE(req(0), VMAPP_RULE_STRING_UTF8);
	}
	set_title_blob(sizeof("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"),
		       "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80",
		       sizeof("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"));
	CHECK_RULE(req(0), VMAPP_RULE_OK);

	/* wl_data_offer.accept(serial, nullable mime_type) */
	msg_reset(&m);
	msg_begin(&m, OFFER, VMAPP_REQ_WL_DATA_OFFER_ACCEPT);
	msg_u32(&m, 1);
	msg_u32(&m, 0);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_OK);
	CHECK(view.args[1].str.data == NULL);

	/* Trailing bytes after the last argument. */
	set_title_blob(2, "a", 2);
	msg_u32(&m, 0);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_TRAILING_BYTES);
}

static void test_arrays(void)
{
	/* xdg_toplevel.configure(width, height, states array) is an event. */
	uint32_t states[2] = { 1, 4 };
	msg_reset(&m);
	msg_begin(&m, TOPLEVEL, VMAPP_EVT_XDG_TOPLEVEL_CONFIGURE);
	msg_u32(&m, 640);
	msg_u32(&m, 480);
	msg_blob(&m, 8, states, 8);
	msg_end(&m);
	CHECK_RULE(evt(0), VMAPP_RULE_OK);
	CHECK(view.args[2].array.size == 8);

	uint32_t hostile[] = { 0xffffffff, 0xfffff000, 12 };
	for (size_t i = 0; i < 3; i++) {
		msg_reset(&m);
		msg_begin(&m, TOPLEVEL, VMAPP_EVT_XDG_TOPLEVEL_CONFIGURE);
		msg_u32(&m, 640);
		msg_u32(&m, 480);
		msg_blob(&m, hostile[i], states, 8);
		msg_end(&m);
		CHECK_RULE(evt(0), VMAPP_RULE_ARG_OVERFLOW);
	}
}

static void test_object_args(void)
{
	/* wl_surface.attach(nullable buffer, x, y) */
	uint32_t bufs[] = { 0, 77, COMPOSITOR, DEAD_REGION };
	enum vmapp_rule want[] = {
		VMAPP_RULE_OK, VMAPP_RULE_OBJECT_ARG_UNKNOWN, VMAPP_RULE_OBJECT_ARG_INTERFACE,
		VMAPP_RULE_OBJECT_ARG_UNKNOWN,
	};
	for (size_t i = 0; i < 4; i++) {
		msg_reset(&m);
		msg_begin(&m, SURFACE, VMAPP_REQ_WL_SURFACE_ATTACH);
		msg_u32(&m, bufs[i]);
		msg_u32(&m, 0);
		msg_u32(&m, 0);
		msg_end(&m);
		CHECK_RULE(req(0), want[i]);
	}
	/* xdg_wm_base.get_xdg_surface(new_id, surface): surface not nullable */
	msg_reset(&m);
	msg_begin(&m, WM_BASE, VMAPP_REQ_XDG_WM_BASE_GET_XDG_SURFACE);
	msg_u32(&m, 11);
	msg_u32(&m, 0);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_NULL_NOT_ALLOWED);
}

static void sync_with_id(uint32_t id)
{
	msg_reset(&m);
	msg_begin(&m, DISPLAY, VMAPP_REQ_WL_DISPLAY_SYNC);
	msg_u32(&m, id);
	msg_end(&m);
}

static void test_new_ids(void)
{
	sync_with_id(11);
	CHECK_RULE(req(0), VMAPP_RULE_OK);
	sync_with_id(12); /* leaves a gap at 11 */
	CHECK_RULE(req(0), VMAPP_RULE_NEW_ID_INVALID);
	sync_with_id(COMPOSITOR);
	CHECK_RULE(req(0), VMAPP_RULE_NEW_ID_IN_USE);
	sync_with_id(DEAD_REGION); /* not free until delete_id */
	CHECK_RULE(req(0), VMAPP_RULE_NEW_ID_IN_USE);
	sync_with_id(0);
	CHECK_RULE(req(0), VMAPP_RULE_NEW_ID_INVALID);
	sync_with_id(0xff000001);
	CHECK_RULE(req(0), VMAPP_RULE_NEW_ID_INVALID);
	sync_with_id(0xffffffff);
	CHECK_RULE(req(0), VMAPP_RULE_NEW_ID_INVALID);

	/* A freed id below the end may be reused (libwayland's free list). */
	vmapp_objmap_remove(&map, DEAD_REGION);
	sync_with_id(DEAD_REGION);
	CHECK_RULE(req(0), VMAPP_RULE_OK);
	vmapp_objmap_insert(&map, DEAD_REGION, &vmapp_iface_wl_region, 4);
	vmapp_objmap_zombify(&map, DEAD_REGION);

	/* Events: the compositor allocates from its own range only. */
	msg_reset(&m);
	msg_begin(&m, OFFER, VMAPP_EVT_WL_DATA_OFFER_OFFER);
	msg_str(&m, "text/plain");
	msg_end(&m);
	CHECK_RULE(evt(0), VMAPP_RULE_OK);

	/* wl_registry.bind: untyped new_id is interface, version, id. */
	msg_reset(&m);
	msg_begin(&m, REGISTRY, VMAPP_REQ_WL_REGISTRY_BIND);
	msg_u32(&m, 7);
	msg_str(&m, "wl_compositor");
	msg_u32(&m, 4);
	msg_u32(&m, 11);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_OK);
	CHECK(view.args[0].u == 7 && view.args[1].u == 11 && view.new_version == 4);
	CHECK(strcmp(view.new_interface_name, "wl_compositor") == 0);
	m.len -= 4;
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_ARG_OVERFLOW);
}

static void test_enums(void)
{
	/* wl_surface.set_buffer_transform(int enum wl_output.transform) */
	uint32_t values[] = { 0, 7, 8, 99, 0xffffffff };
	enum vmapp_rule want[] = {
		VMAPP_RULE_OK, VMAPP_RULE_OK, VMAPP_RULE_ENUM_INVALID, VMAPP_RULE_ENUM_INVALID,
		VMAPP_RULE_ENUM_INVALID,
	};
	for (size_t i = 0; i < 5; i++) {
		msg_reset(&m);
		msg_begin(&m, SURFACE, VMAPP_REQ_WL_SURFACE_SET_BUFFER_TRANSFORM);
		msg_u32(&m, values[i]);
		msg_end(&m);
		CHECK_RULE(req(0), want[i]);
	}
	/* wl_data_offer.set_actions(bitfield, enum) */
	uint32_t actions[][2] = { { 7, 1 }, { 0, 0 }, { 8, 1 }, { 1, 8 } };
	enum vmapp_rule want2[] = {
		VMAPP_RULE_OK, VMAPP_RULE_OK, VMAPP_RULE_ENUM_INVALID, VMAPP_RULE_ENUM_INVALID,
	};
	for (size_t i = 0; i < 4; i++) {
		msg_reset(&m);
		msg_begin(&m, OFFER, VMAPP_REQ_WL_DATA_OFFER_SET_ACTIONS);
		msg_u32(&m, actions[i][0]);
		msg_u32(&m, actions[i][1]);
		msg_end(&m);
		CHECK_RULE(req(0), want2[i]);
	}
}

static void test_fds(void)
{
	/* wl_shm.create_pool(new_id, fd, size) */
	msg_reset(&m);
	msg_begin(&m, SHM, VMAPP_REQ_WL_SHM_CREATE_POOL);
	msg_u32(&m, 11);
	msg_u32(&m, 4096);
	msg_end(&m);
	CHECK_RULE(req(0), VMAPP_RULE_FD_MISSING);
	CHECK_RULE(req(1), VMAPP_RULE_OK);
	CHECK(view.n_fds == 1 && view.args[1].fd_index == 0);
	CHECK_RULE(req(3), VMAPP_RULE_OK);
	CHECK(view.n_fds == 1);
	/* An fd is not on the wire: a word in its place is trailing. */
	msg_reset(&m);
	msg_begin(&m, SHM, VMAPP_REQ_WL_SHM_CREATE_POOL);
	msg_u32(&m, 11);
	msg_u32(&m, 5);
	msg_u32(&m, 4096);
	msg_end(&m);
	CHECK_RULE(req(1), VMAPP_RULE_TRAILING_BYTES);
}

static void test_tables(void)
{
	for (size_t i = 0; i < vmapp_protocols.n_interfaces; i++) {
		const struct vmapp_interface *iface = vmapp_protocols.interfaces[i];
		for (uint32_t k = 0; k < iface->n_requests; k++)
			CHECK(iface->requests[k].n_args <= VMAPP_MAX_ARGS);
		for (uint32_t k = 0; k < iface->n_events; k++)
			CHECK(iface->events[k].n_args <= VMAPP_MAX_ARGS);
		if (i > 0)
			CHECK(strcmp(vmapp_protocols.interfaces[i - 1]->name, iface->name) < 0);
	}
	CHECK(vmapp_protocol_find(&vmapp_protocols, "xdg_toplevel") == &vmapp_iface_xdg_toplevel);
	CHECK(vmapp_protocol_find(&vmapp_protocols, "zwlr_screencopy_manager_v1") == NULL);
	CHECK(vmapp_protocol_find(&vmapp_protocols, "zwp_virtual_keyboard_manager_v1") == NULL);
}

int main(void)
{
	setup();
	test_sizes();
	test_objects();
	test_strings();
	test_arrays();
	test_object_args();
	test_new_ids();
	test_enums();
	test_fds();
	test_tables();
	vmapp_objmap_finish(&map);
	TEST_DONE();
}
