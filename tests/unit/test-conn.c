/* SPDX-License-Identifier: MIT */
/* The stateful hooks: registry filtering, bind, shm, labels, fds, clipboard. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "msg.h"
#include "vmapp-tables.h"

static struct msg m;
static struct vmapp_buf out;
static struct vmapp_conn conn;
static struct vmapp_verdict v;

static void send_msg(enum vmapp_direction dir, const int *fds, size_t n_fds)
{
	out.start = out.len = 0;
	v = vmapp_conn_handle(&conn, dir, m.data, m.len, fds, n_fds, &out);
}

#define REQ(...) send_msg(VMAPP_REQUEST, __VA_ARGS__)
#define EVT() send_msg(VMAPP_EVENT, NULL, 0)

static uint32_t out_u32(size_t offset)
{
	return vmapp_wire_u32(out.data + out.start + offset);
}

static void global(uint32_t name, const char *iface, uint32_t version)
{
	msg_reset(&m);
	msg_begin(&m, 2, VMAPP_EVT_WL_REGISTRY_GLOBAL);
	msg_u32(&m, name);
	msg_str(&m, iface);
	msg_u32(&m, version);
	msg_end(&m);
	EVT();
}

static void do_bind(uint32_t name, const char *iface, uint32_t version, uint32_t id)
{
	msg_reset(&m);
	msg_begin(&m, 2, VMAPP_REQ_WL_REGISTRY_BIND);
	msg_u32(&m, name);
	msg_str(&m, iface);
	msg_u32(&m, version);
	msg_u32(&m, id);
	msg_end(&m);
	REQ(NULL, 0);
}

static void one_arg(uint32_t id, uint32_t opcode, uint32_t a)
{
	msg_reset(&m);
	msg_begin(&m, id, opcode);
	msg_u32(&m, a);
	msg_end(&m);
}

static int memfd(size_t size)
{
	int fd = memfd_create("test", MFD_CLOEXEC);
	if (ftruncate(fd, (off_t)size) < 0)
		abort();
	return fd;
}

static void create_pool(uint32_t id, int fd, int32_t size)
{
	msg_reset(&m);
	msg_begin(&m, 4, VMAPP_REQ_WL_SHM_CREATE_POOL);
	msg_u32(&m, id);
	msg_u32(&m, (uint32_t)size);
	msg_end(&m);
	REQ(&fd, 1);
}

static void create_buffer(uint32_t id, int32_t offset, int32_t w, int32_t h, int32_t stride,
			  uint32_t format)
{
	msg_reset(&m);
	msg_begin(&m, 5, VMAPP_REQ_WL_SHM_POOL_CREATE_BUFFER);
	msg_u32(&m, id);
	msg_u32(&m, (uint32_t)offset);
	msg_u32(&m, (uint32_t)w);
	msg_u32(&m, (uint32_t)h);
	msg_u32(&m, (uint32_t)stride);
	msg_u32(&m, format);
	msg_end(&m);
	REQ(NULL, 0);
}

static struct vmapp_policy *policy(const char *text)
{
	char error[256];
	struct vmapp_policy *p = NULL;
	if (vmapp_policy_parse(text, strlen(text), "t.policy", &vmapp_protocols, error,
			       sizeof(error), &p) < 0) {
		fprintf(stderr, "policy: %s\n", error);
		abort();
	}
	return p;
}

static void test_registry_and_shm(const struct vmapp_conn_config *config)
{
	CHECK(vmapp_conn_init(&conn, config) == 0);

	one_arg(1, VMAPP_REQ_WL_DISPLAY_GET_REGISTRY, 2);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward && vmapp_buf_size(&out) == 12);

	/* Allowed, clamped to min(host, policy cap, tables). */
	global(1, "wl_compositor", 6);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward && out_u32(v.size - 4) == 5);
	global(2, "wl_shm", 1);
	CHECK(v.forward && out_u32(v.size - 4) == 1);
	/* Blocked, or unknown to the tables: never reach the client. */
	static const char *hidden[] = {
		"zwlr_screencopy_manager_v1", "zwp_virtual_keyboard_manager_v1",
		"zwlr_data_control_manager_v1", "zwlr_layer_shell_v1", "made_up_v1",
		"zwp_relative_pointer_manager_v1", /* known, off by default */
	};
	for (uint32_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		global(10 + i, hidden[i], 1);
		CHECK_RULE(v.rule, VMAPP_RULE_OK);
		CHECK(!v.forward && vmapp_buf_size(&out) == 0);
	}

	do_bind(10, "zwlr_screencopy_manager_v1", 1, 3);
	CHECK_RULE(v.rule, VMAPP_RULE_BIND_NOT_ADVERTISED);
	do_bind(99, "wl_compositor", 1, 3);
	CHECK_RULE(v.rule, VMAPP_RULE_BIND_NOT_ADVERTISED);
	do_bind(1, "wl_shm", 1, 3);
	CHECK_RULE(v.rule, VMAPP_RULE_BIND_INTERFACE);
	do_bind(1, "wl_compositor", 6, 3);
	CHECK_RULE(v.rule, VMAPP_RULE_BIND_VERSION);
	do_bind(1, "wl_compositor", 0, 3);
	CHECK_RULE(v.rule, VMAPP_RULE_BIND_VERSION);
	do_bind(1, "wl_compositor", 5, 3);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	const struct vmapp_object *obj = vmapp_objmap_get(&conn.objects, 3);
	CHECK(obj && obj->interface == &vmapp_iface_wl_compositor && obj->version == 5);
	do_bind(2, "wl_shm", 1, 4);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);

	one_arg(4, VMAPP_EVT_WL_SHM_FORMAT, 0);
	EVT();
	one_arg(4, VMAPP_EVT_WL_SHM_FORMAT, 1);
	EVT();

	int small = memfd(4096), big = memfd(1 << 20), fds[2];
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	int sock[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) == 0);

	create_pool(5, fds[1], 4096);
	CHECK_RULE(v.rule, VMAPP_RULE_FD_TYPE);
	create_pool(5, sock[0], 4096);
	CHECK_RULE(v.rule, VMAPP_RULE_FD_TYPE);
	create_pool(5, small, 8192); /* claims more than the file has */
	CHECK_RULE(v.rule, config->pass_fds ? VMAPP_RULE_FD_TYPE : VMAPP_RULE_FD_TYPE);
	create_pool(5, small, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_POOL_SIZE);
	create_pool(5, small, -4096);
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_POOL_SIZE);
	create_pool(5, small, 4096);
	if (!config->pass_fds) {
		CHECK_RULE(v.rule, VMAPP_RULE_FD_TYPE);
		goto out;
	}
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.n_fds == 1 && v.forward);

	create_buffer(6, 0, 32, 32, 128, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	create_buffer(7, 0, 32, 33, 128, 0); /* one row past the pool */
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_BUFFER_GEOMETRY);
	create_buffer(7, 4, 32, 32, 128, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_BUFFER_GEOMETRY);
	create_buffer(7, 0, 32, 32, 127, 0); /* stride < width * 4 */
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_BUFFER_GEOMETRY);
	create_buffer(7, 0, 0x40000000, 1, 0x40000000, 0); /* width*4 overflows 32 bits */
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_BUFFER_GEOMETRY);
	create_buffer(7, 0, 1, 0x7fffffff, 0x7fffffff, 0); /* stride*height too */
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_BUFFER_GEOMETRY);
	create_buffer(7, -4, 1, 1, 4, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_BUFFER_GEOMETRY);
	create_buffer(7, 0, -1, 1, 4, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_BUFFER_GEOMETRY);
	create_buffer(7, 0, 1, 1, 4, 0x36314752); /* RG16: in the enum, not advertised */
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_FORMAT);
	create_buffer(7, 0, 1, 1, 4, 0x12345678); /* in no enum */
	CHECK_RULE(v.rule, VMAPP_RULE_ENUM_INVALID);

	one_arg(5, VMAPP_REQ_WL_SHM_POOL_RESIZE, 2048);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_POOL_SHRINK);
	one_arg(5, VMAPP_REQ_WL_SHM_POOL_RESIZE, 8192); /* the file is 4096 */
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_SHM_POOL_SIZE);
	CHECK(ftruncate(small, 8192) == 0);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	create_buffer(7, 4096, 32, 32, 128, 1);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);

	/* Limits: the policy allows 2 pools and 2M of shm in this test. */
	create_pool(8, big, 1 << 20);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	create_pool(9, big, 1 << 20);
	CHECK_RULE(v.rule, VMAPP_RULE_LIMIT_SHM);

	/* Destroy frees the id only after delete_id. */
	msg_reset(&m);
	msg_begin(&m, 7, VMAPP_REQ_WL_BUFFER_DESTROY);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OBJECT_DESTROYED);
	one_arg(1, VMAPP_REQ_WL_DISPLAY_SYNC, 7);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_NEW_ID_IN_USE);
	one_arg(1, VMAPP_EVT_WL_DISPLAY_DELETE_ID, 7);
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	one_arg(1, VMAPP_REQ_WL_DISPLAY_SYNC, 7);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	/* the callback's done is a destructor event; then its delete_id */
	one_arg(7, VMAPP_EVT_WL_CALLBACK_DONE, 1);
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(vmapp_objmap_get(&conn.objects, 7)->state == VMAPP_OBJECT_ZOMBIE);

	/* An fd on a request that no hook knows is never passed on. */
	CHECK(vmapp_objmap_insert(&conn.objects, 20, &vmapp_iface_zwp_linux_buffer_params_v1, 3) == 0);
	msg_reset(&m);
	msg_begin(&m, 20, VMAPP_REQ_ZWP_LINUX_BUFFER_PARAMS_V1_ADD);
	for (int i = 0; i < 5; i++)
		msg_u32(&m, 0);
	msg_end(&m);
	REQ(&big, 1);
	CHECK_RULE(v.rule, VMAPP_RULE_FD_TYPE);

	/* A broken event from the compositor is its fault, not the client's. */
	msg_reset(&m);
	msg_begin(&m, 0xff00aaaa, 0);
	msg_end(&m);
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_SERVER_PROTOCOL);
out:
	close(small);
	close(big);
	close(fds[0]);
	close(fds[1]);
	close(sock[0]);
	close(sock[1]);
	vmapp_conn_finish(&conn);
}

static void set_string(uint32_t id, uint32_t opcode, const char *s)
{
	msg_reset(&m);
	msg_begin(&m, id, opcode);
	msg_str(&m, s);
	msg_end(&m);
	REQ(NULL, 0);
}

static void test_labels(const struct vmapp_conn_config *config)
{
	CHECK(vmapp_conn_init(&conn, config) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, 2, &vmapp_iface_xdg_toplevel, 5) == 0);

	set_string(2, VMAPP_REQ_XDG_TOPLEVEL_SET_TITLE, "Evil\x1b[2J\xe2\x80\xae" "txt.exe");
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward && v.size == 32);
	const char *want = "[test] Evil[2Jtxt.exe";
	CHECK(out_u32(8) == strlen(want) + 1);
	CHECK(memcmp(out.data + out.start + 12, want, strlen(want) + 1) == 0);
	CHECK(out_u32(4) >> 16 == vmapp_buf_size(&out));

	/* Server-side decorations, whatever the client asks for. */
	CHECK(vmapp_objmap_insert(&conn.objects, 3, &vmapp_iface_zxdg_toplevel_decoration_v1, 1) == 0);
	one_arg(3, VMAPP_REQ_ZXDG_TOPLEVEL_DECORATION_V1_SET_MODE, 1 /* client_side */);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward && vmapp_buf_size(&out) == 12 && out_u32(8) == 2);
	msg_reset(&m);
	msg_begin(&m, 3, VMAPP_REQ_ZXDG_TOPLEVEL_DECORATION_V1_UNSET_MODE);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward && vmapp_buf_size(&out) == 12 && out_u32(8) == 2);
	CHECK(out_u32(4) == (12u << 16 | VMAPP_REQ_ZXDG_TOPLEVEL_DECORATION_V1_SET_MODE));

	set_string(2, VMAPP_REQ_XDG_TOPLEVEL_SET_APP_ID, "org.example/../x");
	want = "vmapp.test.org.example_.._x";
	CHECK(memcmp(out.data + out.start + 12, want, strlen(want) + 1) == 0);

	/* Longer than the policy's title-length (16 here): cut. */
	set_string(2, VMAPP_REQ_XDG_TOPLEVEL_SET_TITLE, "0123456789abcdefghijklmnop");
	want = "[test] 0123456789abcdef";
	CHECK(memcmp(out.data + out.start + 12, want, strlen(want) + 1) == 0);
	vmapp_conn_finish(&conn);
}

static void test_clipboard(const struct vmapp_conn_config *config, enum vmapp_clipboard_mode mode)
{
	CHECK(vmapp_conn_init(&conn, config) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, 2, &vmapp_iface_wl_data_device, 3) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, 3, &vmapp_iface_wl_data_source, 3) == 0);

	/* the host's selection, offered on focus */
	one_arg(2, VMAPP_EVT_WL_DATA_DEVICE_DATA_OFFER, 0xff000000);
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	one_arg(2, VMAPP_EVT_WL_DATA_DEVICE_SELECTION, 0xff000000);
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward && out_u32(8) == (mode == VMAPP_CLIPBOARD_BOTH ? 0xff000000 : 0));

	int fds[2];
	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	msg_reset(&m);
	msg_begin(&m, 0xff000000, VMAPP_REQ_WL_DATA_OFFER_RECEIVE);
	msg_str(&m, "text/plain");
	msg_end(&m);
	REQ(&fds[0], 1); /* the read end: wrong */
	CHECK_RULE(v.rule, VMAPP_RULE_FD_TYPE);
	REQ(&fds[1], 1);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward == (mode == VMAPP_CLIPBOARD_BOTH));
	CHECK(v.n_fds == 1);
	close(fds[0]);
	close(fds[1]);

	/* The client destroys the offer while the compositor still talks
	 * about it; then the compositor reuses its id for the next one. */
	msg_reset(&m);
	msg_begin(&m, 0xff000000, VMAPP_REQ_WL_DATA_OFFER_DESTROY);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	msg_reset(&m);
	msg_begin(&m, 0xff000000, VMAPP_EVT_WL_DATA_OFFER_OFFER);
	msg_str(&m, "text/html");
	msg_end(&m);
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward);
	msg_reset(&m);
	msg_begin(&m, 0xff000000, VMAPP_REQ_WL_DATA_OFFER_DESTROY);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OBJECT_DESTROYED);
	one_arg(2, VMAPP_EVT_WL_DATA_DEVICE_DATA_OFFER, 0xff000000);
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(vmapp_objmap_get(&conn.objects, 0xff000000)->state == VMAPP_OBJECT_LIVE);
	one_arg(2, VMAPP_EVT_WL_DATA_DEVICE_DATA_OFFER, 0xff000000); /* live: not again */
	EVT();
	CHECK_RULE(v.rule, VMAPP_RULE_SERVER_PROTOCOL);
	vmapp_conn_finish(&conn);
	CHECK(vmapp_conn_init(&conn, config) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, 2, &vmapp_iface_wl_data_device, 3) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, 3, &vmapp_iface_wl_data_source, 3) == 0);

	msg_reset(&m);
	msg_begin(&m, 2, VMAPP_REQ_WL_DATA_DEVICE_SET_SELECTION);
	msg_u32(&m, 3);
	msg_u32(&m, 1);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(v.forward == (mode != VMAPP_CLIPBOARD_OFF));
	vmapp_conn_finish(&conn);
}

static void two_args(uint32_t id, uint32_t opcode, uint32_t a, uint32_t b)
{
	msg_reset(&m);
	msg_begin(&m, id, opcode);
	msg_u32(&m, a);
	msg_u32(&m, b);
	msg_end(&m);
	REQ(NULL, 0);
}

static void test_roles(const struct vmapp_conn_config *config)
{
	/* New ids must come in order (no gaps): each refused attempt below
	 * uses the next free id, which the refusal leaves free. */
	enum { WM = 2, SUBCOMP, SURF, SURF2, XDG, TOP, TOP_AGAIN, SUB };
	CHECK(vmapp_conn_init(&conn, config) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, WM, &vmapp_iface_xdg_wm_base, 5) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, SUBCOMP, &vmapp_iface_wl_subcompositor, 1) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, SURF, &vmapp_iface_wl_surface, 5) == 0);
	CHECK(vmapp_objmap_insert(&conn.objects, SURF2, &vmapp_iface_wl_surface, 5) == 0);

	two_args(WM, VMAPP_REQ_XDG_WM_BASE_GET_XDG_SURFACE, XDG, SURF);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	two_args(WM, VMAPP_REQ_XDG_WM_BASE_GET_XDG_SURFACE, TOP, SURF);
	CHECK_RULE(v.rule, VMAPP_RULE_ROLE); /* already has an xdg_surface */
	msg_reset(&m);
	msg_begin(&m, SUBCOMP, VMAPP_REQ_WL_SUBCOMPOSITOR_GET_SUBSURFACE);
	msg_u32(&m, TOP);
	msg_u32(&m, SURF);
	msg_u32(&m, SURF2);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_ROLE); /* an xdg surface can not be a subsurface */
	msg_reset(&m);
	msg_begin(&m, SUBCOMP, VMAPP_REQ_WL_SUBCOMPOSITOR_GET_SUBSURFACE);
	msg_u32(&m, TOP);
	msg_u32(&m, SURF2);
	msg_u32(&m, SURF2);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_ROLE); /* its own parent */

	one_arg(XDG, VMAPP_REQ_XDG_SURFACE_GET_TOPLEVEL, TOP);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	one_arg(XDG, VMAPP_REQ_XDG_SURFACE_GET_TOPLEVEL, TOP_AGAIN);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_ROLE);

	/* configure serials: only one that was sent may be acked */
	one_arg(XDG, VMAPP_EVT_XDG_SURFACE_CONFIGURE, 100);
	EVT();
	one_arg(XDG, VMAPP_EVT_XDG_SURFACE_CONFIGURE, 105);
	EVT();
	one_arg(XDG, VMAPP_REQ_XDG_SURFACE_ACK_CONFIGURE, 101);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_CONFIGURE_SERIAL);
	one_arg(XDG, VMAPP_REQ_XDG_SURFACE_ACK_CONFIGURE, 105); /* skipping 100 is fine */
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	one_arg(XDG, VMAPP_REQ_XDG_SURFACE_ACK_CONFIGURE, 100); /* older than the acked one */
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_CONFIGURE_SERIAL);

	/* the xdg_surface must outlive its toplevel */
	msg_reset(&m);
	msg_begin(&m, XDG, VMAPP_REQ_XDG_SURFACE_DESTROY);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_ROLE);
	msg_reset(&m);
	msg_begin(&m, TOP, VMAPP_REQ_XDG_TOPLEVEL_DESTROY);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	one_arg(XDG, VMAPP_REQ_XDG_SURFACE_GET_TOPLEVEL, TOP_AGAIN); /* same role again */
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);

	/* a subsurface can not become a cursor */
	msg_reset(&m);
	msg_begin(&m, SUBCOMP, VMAPP_REQ_WL_SUBCOMPOSITOR_GET_SUBSURFACE);
	msg_u32(&m, SUB);
	msg_u32(&m, SURF2);
	msg_u32(&m, SURF);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_OK);
	CHECK(vmapp_objmap_insert(&conn.objects, 20, &vmapp_iface_wl_pointer, 5) == 0);
	msg_reset(&m);
	msg_begin(&m, 20, VMAPP_REQ_WL_POINTER_SET_CURSOR);
	msg_u32(&m, 1);
	msg_u32(&m, SURF2);
	msg_u32(&m, 0);
	msg_u32(&m, 0);
	msg_end(&m);
	REQ(NULL, 0);
	CHECK_RULE(v.rule, VMAPP_RULE_ROLE);
	vmapp_conn_finish(&conn);
}

int main(void)
{
	struct vmapp_policy *p = policy("allow wl_compositor 5\nallow wl_shm 1\n"
					"limit shm-pools 2\nlimit shm-bytes 2M\n"
					"limit title-length 16\n");
	struct vmapp_conn_config config = {
		.protocols = &vmapp_protocols, .policy = p, .label = "test", .pass_fds = true,
	};
	test_registry_and_shm(&config);
	config.pass_fds = false;
	test_registry_and_shm(&config);
	config.pass_fds = true;
	test_labels(&config);
	test_roles(&config);
	vmapp_policy_destroy(p);

	static const char *modes[] = { "off", "guest-to-host", "both" };
	for (int i = 0; i < 3; i++) {
		char text[128];
		snprintf(text, sizeof(text), "allow wl_data_device_manager 3\nclipboard %s\n", modes[i]);
		p = policy(text);
		config.policy = p;
		CHECK(vmapp_policy_clipboard(p) == (enum vmapp_clipboard_mode)i);
		test_clipboard(&config, (enum vmapp_clipboard_mode)i);
		vmapp_policy_destroy(p);
	}
	vmapp_buf_finish(&out);
	TEST_DONE();
}
