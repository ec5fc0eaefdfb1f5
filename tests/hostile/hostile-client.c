/* SPDX-License-Identifier: MIT */
/*
 * hostile-client: a raw Wayland client, without libwayland, that sets up a
 * connection like any client (registry, globals, binds) and then sends one
 * message that breaks one rule of DESIGN.md "Validation rules".
 *
 *   hostile-client SCENARIO [VARIANT]
 *   hostile-client globals        list the globals: "name interface version"
 *   hostile-client list           list the scenarios and their variants
 *
 * The compositor (or proxy) is the socket named by WAYLAND_DISPLAY, an
 * absolute path or a name under XDG_RUNTIME_DIR.
 *
 * After the bad message it asks for a wl_display.sync round trip and reads
 * until the end of the stream.  It prints "object=N" (the id the bad
 * message was sent to or about), then "error object=N code=C text=..."
 * if a wl_display.error arrived, then "eof" or "still connected".
 *
 * Exit status: 0 disconnected with a wl_display.error, 1 the connection
 * stayed up (the sync round trip after the bad message completed),
 * 2 setup failed, 3 disconnected without an error, 4 no answer in time.
 *
 * Environment for bind-not-advertised: HOSTILE_BIND_NAME, the name of a
 * global the compositor has and the proxy hides, and HOSTILE_BIND_INTERFACE,
 * its interface (found by running "globals" against the compositor itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EXIT_ERROR 0
#define EXIT_CONNECTED 1
#define EXIT_SETUP 2
#define EXIT_EOF 3
#define EXIT_TIMEOUT 4

#define TIMEOUT_MS 10000
#define MAX_GLOBALS 256
#define MAX_FDS 253 /* SCM_MAX_FD */

/* Opcodes (wayland.xml, xdg-shell.xml). */
enum {
	WL_DISPLAY_SYNC = 0, WL_DISPLAY_GET_REGISTRY = 1,
	WL_DISPLAY_ERROR = 0, WL_DISPLAY_DELETE_ID = 1,
	WL_REGISTRY_BIND = 0,
	WL_REGISTRY_GLOBAL = 0, WL_REGISTRY_GLOBAL_REMOVE = 1,
	WL_CALLBACK_DONE = 0,
	WL_COMPOSITOR_CREATE_SURFACE = 0, WL_COMPOSITOR_CREATE_REGION = 1,
	WL_SHM_CREATE_POOL = 0, WL_SHM_FORMAT = 0,
	WL_SHM_POOL_CREATE_BUFFER = 0, WL_SHM_POOL_DESTROY = 1, WL_SHM_POOL_RESIZE = 2,
	WL_BUFFER_DESTROY = 0,
	WL_SURFACE_DESTROY = 0, WL_SURFACE_ATTACH = 1, WL_SURFACE_DAMAGE = 2,
	WL_SURFACE_SET_OPAQUE_REGION = 4, WL_SURFACE_COMMIT = 6,
	WL_SURFACE_SET_BUFFER_TRANSFORM = 7, WL_SURFACE_DAMAGE_BUFFER = 9,
	WL_REGION_DESTROY = 0, WL_REGION_ADD = 1,
	XDG_WM_BASE_GET_XDG_SURFACE = 2, XDG_WM_BASE_PONG = 3, XDG_WM_BASE_PING = 0,
	XDG_SURFACE_DESTROY = 0, XDG_SURFACE_GET_TOPLEVEL = 1, XDG_SURFACE_ACK_CONFIGURE = 4,
	XDG_SURFACE_CONFIGURE = 0,
	WL_SEAT_GET_POINTER = 0, WL_POINTER_SET_CURSOR = 0,
	WL_SUBCOMPOSITOR_GET_SUBSURFACE = 1,
	XDG_TOPLEVEL_SET_TITLE = 2, XDG_TOPLEVEL_SET_APP_ID = 3, XDG_TOPLEVEL_RESIZE = 6,
};

#define WL_SHM_FORMAT_ARGB8888 0u
#define WL_SHM_FORMAT_XRGB8888 1u

struct global {
	uint32_t name;
	char interface[128];
	uint32_t version;
};

struct client {
	int fd;
	uint32_t next_id;
	uint8_t in[65536];
	size_t in_len;
	struct global globals[MAX_GLOBALS];
	uint32_t n_globals;
	uint32_t formats[64];
	uint32_t n_formats;
	/* Objects of the setup. */
	uint32_t registry, compositor, compositor_version, shm, wm_base, seat;
	uint32_t subcompositor;
	/* The xdg_surface whose configure serials are kept, and the last. */
	uint32_t watch_xdg, configure_serial;
	bool configured;
	/* The last wl_callback.done seen. */
	uint32_t done_id;
	bool done;
	bool error;
	uint32_t error_object, error_code;
	char error_text[1024];
	bool eof;
	/* What the bad message was sent to, for the test's log check. */
	uint32_t target;
};

static void die_setup(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_setup(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hostile-client: setup: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_SETUP);
}

/* --- building messages ----------------------------------------------- */

/* One message, or several sent in one write (msg_next). */
struct msg {
	uint32_t w[1100]; /* a little more than 4096 bytes: room for oversize tests */
	size_t n;         /* words */
	size_t start;     /* where the last message begins */
};

static void msg_begin(struct msg *m, uint32_t object, uint32_t opcode)
{
	m->n = 0;
	m->start = 0;
	m->w[m->n++] = object;
	m->w[m->n++] = opcode; /* size filled in by msg_size */
}

static void msg_u32(struct msg *m, uint32_t v)
{
	if (m->n < sizeof(m->w) / sizeof(m->w[0]))
		m->w[m->n++] = v;
}

static void msg_i32(struct msg *m, int32_t v)
{
	msg_u32(m, (uint32_t)v);
}

/* A counted blob: the length word `len` as given, then `n` bytes padded. */
static void msg_blob(struct msg *m, uint32_t len, const void *bytes, size_t n)
{
	msg_u32(m, len);
	size_t words = (n + 3) / 4;
	if (m->n + words > sizeof(m->w) / sizeof(m->w[0]))
		return;
	memset(&m->w[m->n], 0, words * 4);
	memcpy(&m->w[m->n], bytes, n);
	m->n += words;
}

/* A well-formed string argument, NUL included. */
static void msg_str(struct msg *m, const char *s)
{
	size_t n = strlen(s) + 1;
	msg_blob(m, (uint32_t)n, s, n);
}

/* The byte length of what is built. */
static uint32_t msg_len(const struct msg *m)
{
	return (uint32_t)(m->n * 4);
}

/* Sets the last message's size field: its real length, or `size` when
 * that is not UINT32_MAX. */
static void msg_size(struct msg *m, uint32_t size)
{
	if (size == UINT32_MAX)
		size = (uint32_t)((m->n - m->start) * 4);
	m->w[m->start + 1] = (size & 0xffffu) << 16 | (m->w[m->start + 1] & 0xffffu);
}

/* Ends the message being built (its real size) and starts another one,
 * to go out in the same write. */
static void msg_next(struct msg *m, uint32_t object, uint32_t opcode)
{
	msg_size(m, UINT32_MAX);
	m->start = m->n;
	msg_u32(m, object);
	msg_u32(m, opcode);
}

/* --- the socket ------------------------------------------------------- */

static int send_raw(struct client *c, const void *data, size_t len, const int *fds, size_t n_fds)
{
	const uint8_t *p = data;
	bool fds_sent = false;

	while (len > 0 || (!fds_sent && n_fds > 0)) {
		struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
		union {
			char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
			struct cmsghdr align;
		} control;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (!fds_sent && n_fds > 0) {
			memset(&control, 0, sizeof(control));
			mh.msg_control = control.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
			struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
			memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
		}
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		fds_sent = true;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_msg(struct client *c, struct msg *m, const int *fds, size_t n_fds)
{
	return send_raw(c, m->w, msg_len(m), fds, n_fds);
}

/* Sends a message of the setup; a failure there is a setup failure. */
static void send_setup(struct client *c, struct msg *m, const int *fds, size_t n_fds)
{
	msg_size(m, UINT32_MAX);
	int r = send_msg(c, m, fds, n_fds);
	if (r < 0)
		die_setup("send: %s", strerror(-r));
}

static uint32_t new_id(struct client *c)
{
	return c->next_id++;
}

static int connect_display(void)
{
	const char *display = getenv("WAYLAND_DISPLAY");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int n;

	if (!display || !*display)
		display = "wayland-0";
	if (display[0] == '/')
		n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", display);
	else if (runtime && *runtime)
		n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", runtime, display);
	else
		die_setup("XDG_RUNTIME_DIR is not set and WAYLAND_DISPLAY is not a path");
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		die_setup("socket path too long");

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die_setup("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die_setup("connect %s: %s", addr.sun_path, strerror(errno));
	return fd;
}

/* --- events ------------------------------------------------------------ */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* A string argument at *off of an event of `size` bytes; NULL if bad. */
static const char *ev_str(const uint8_t *ev, uint32_t size, uint32_t *off, uint32_t *ret_len)
{
	if (*off + 4 > size)
		return NULL;
	uint32_t len = rd32(ev + *off);
	uint64_t padded = ((uint64_t)len + 3) & ~(uint64_t)3;
	if (*off + 4 + padded > size || len == 0 || ev[*off + 4 + len - 1] != '\0')
		return NULL;
	const char *s = (const char *)ev + *off + 4;
	*off += 4 + (uint32_t)padded;
	*ret_len = len;
	return s;
}

static void handle_event(struct client *c, const uint8_t *ev, uint32_t object, uint32_t opcode,
			 uint32_t size)
{
	uint32_t off = 8, len;

	if (object == 1 && opcode == WL_DISPLAY_ERROR && size >= 16) {
		c->error = true;
		c->error_object = rd32(ev + 8);
		c->error_code = rd32(ev + 12);
		off = 16;
		const char *s = ev_str(ev, size, &off, &len);
		snprintf(c->error_text, sizeof(c->error_text), "%s", s ? s : "(malformed)");
		/* Printed at once: the stream may end in the middle of the next. */
		printf("error object=%" PRIu32 " code=%" PRIu32 " text=%s\n", c->error_object,
		       c->error_code, c->error_text);
		fflush(stdout);
	} else if (object == 1 && opcode == WL_DISPLAY_DELETE_ID) {
		/* nothing to free */
	} else if (object == c->registry && opcode == WL_REGISTRY_GLOBAL && size >= 16) {
		uint32_t name = rd32(ev + 8);
		off = 12;
		const char *iface = ev_str(ev, size, &off, &len);
		if (!iface || off + 4 > size || c->n_globals >= MAX_GLOBALS)
			return;
		struct global *g = &c->globals[c->n_globals++];
		g->name = name;
		snprintf(g->interface, sizeof(g->interface), "%s", iface);
		g->version = rd32(ev + off);
	} else if (object == c->registry && opcode == WL_REGISTRY_GLOBAL_REMOVE) {
		/* the tests run on a fixed set of globals */
	} else if (c->shm && object == c->shm && opcode == WL_SHM_FORMAT && size >= 12) {
		if (c->n_formats < sizeof(c->formats) / sizeof(c->formats[0]))
			c->formats[c->n_formats++] = rd32(ev + 8);
	} else if (c->wm_base && object == c->wm_base && opcode == XDG_WM_BASE_PING && size >= 12) {
		struct msg m;
		msg_begin(&m, c->wm_base, XDG_WM_BASE_PONG);
		msg_u32(&m, rd32(ev + 8));
		msg_size(&m, UINT32_MAX);
		send_msg(c, &m, NULL, 0);
	} else if (c->watch_xdg && object == c->watch_xdg && opcode == XDG_SURFACE_CONFIGURE &&
		   size >= 12) {
		c->configure_serial = rd32(ev + 8);
		c->configured = true;
	} else if (opcode == WL_CALLBACK_DONE && object == c->done_id) {
		c->done = true;
	}
}

/* Reads what is there (waiting up to timeout_ms) and handles every whole
 * event.  0, or -1 at the end of the stream or on a timeout (then
 * c->eof says which). */
static int dispatch(struct client *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		return -1;

	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = c->in + c->in_len, .iov_len = sizeof(c->in) - c->in_len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		c->eof = true; /* ECONNRESET and the like: the peer is gone */
		return -1;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			close(fd); /* no event we use carries one */
		}
	}
	if (n == 0) {
		c->eof = true;
		return -1;
	}
	c->in_len += (size_t)n;

	size_t at = 0;
	while (c->in_len - at >= 8) {
		uint32_t object = rd32(c->in + at);
		uint32_t word = rd32(c->in + at + 4);
		uint32_t size = word >> 16, opcode = word & 0xffff;
		if (size < 8 || size % 4) {
			fprintf(stderr, "hostile-client: bad event size %" PRIu32 "\n", size);
			c->eof = true;
			return -1;
		}
		if (c->in_len - at < size)
			break;
		handle_event(c, c->in + at, object, opcode, size);
		at += size;
	}
	memmove(c->in, c->in + at, c->in_len - at);
	c->in_len -= at;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends wl_display.sync and waits for its done.  0 when it came; -1 on an
 * error, the end of the stream or a timeout. */
static int roundtrip(struct client *c)
{
	struct msg m;
	uint32_t id = new_id(c);

	msg_begin(&m, 1, WL_DISPLAY_SYNC);
	msg_u32(&m, id);
	msg_size(&m, UINT32_MAX);
	if (send_msg(c, &m, NULL, 0) < 0)
		return -1;
	c->done_id = id;
	c->done = false;
	int64_t deadline = now_ms() + TIMEOUT_MS;
	while (!c->done && !c->error) {
		int64_t left = deadline - now_ms();
		if (left <= 0 || dispatch(c, (int)left) < 0)
			return -1;
	}
	return c->done ? 0 : -1;
}

/* --- setup ------------------------------------------------------------- */

static const struct global *find_global(const struct client *c, const char *interface)
{
	for (uint32_t i = 0; i < c->n_globals; i++)
		if (strcmp(c->globals[i].interface, interface) == 0)
			return &c->globals[i];
	return NULL;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* wl_registry.bind(name, interface, version, id), all well formed. */
static uint32_t bind_global(struct client *c, const struct global *g, uint32_t version)
{
	struct msg m;
	uint32_t id = new_id(c);

	msg_begin(&m, c->registry, WL_REGISTRY_BIND);
	msg_u32(&m, g->name);
	msg_str(&m, g->interface);
	msg_u32(&m, version);
	msg_u32(&m, id);
	send_setup(c, &m, NULL, 0);
	return id;
}

static void setup(struct client *c, bool bind_all)
{
	struct msg m;

	c->fd = connect_display();
	c->next_id = 2;
	c->registry = new_id(c);
	msg_begin(&m, 1, WL_DISPLAY_GET_REGISTRY);
	msg_u32(&m, c->registry);
	send_setup(c, &m, NULL, 0);
	if (roundtrip(c) < 0)
		die_setup("no answer to the first wl_display.sync%s%s",
			  c->error ? ": error " : "", c->error ? c->error_text : "");
	if (!bind_all)
		return;

	const struct global *g = find_global(c, "wl_compositor");
	if (!g)
		die_setup("no wl_compositor");
	c->compositor_version = min_u32(g->version, 4);
	c->compositor = bind_global(c, g, c->compositor_version);
	if (!(g = find_global(c, "wl_shm")))
		die_setup("no wl_shm");
	c->shm = bind_global(c, g, 1);
	if (!(g = find_global(c, "xdg_wm_base")))
		die_setup("no xdg_wm_base");
	c->wm_base = bind_global(c, g, min_u32(g->version, 2));
	if ((g = find_global(c, "wl_seat")))
		c->seat = bind_global(c, g, 1);
	if ((g = find_global(c, "wl_subcompositor")))
		c->subcompositor = bind_global(c, g, 1);
	/* The wl_shm formats arrive before this round trip's done. */
	if (roundtrip(c) < 0)
		die_setup("no answer after the binds%s%s", c->error ? ": error " : "",
			  c->error ? c->error_text : "");
	if (c->n_formats == 0)
		die_setup("the compositor advertised no wl_shm format");
}

static bool format_advertised(const struct client *c, uint32_t format)
{
	for (uint32_t i = 0; i < c->n_formats; i++)
		if (c->formats[i] == format)
			return true;
	return false;
}

/* Helpers that make well-formed objects. */
static uint32_t make_surface(struct client *c)
{
	struct msg m;
	uint32_t id = new_id(c);
	msg_begin(&m, c->compositor, WL_COMPOSITOR_CREATE_SURFACE);
	msg_u32(&m, id);
	send_setup(c, &m, NULL, 0);
	return id;
}

static uint32_t make_region(struct client *c)
{
	struct msg m;
	uint32_t id = new_id(c);
	msg_begin(&m, c->compositor, WL_COMPOSITOR_CREATE_REGION);
	msg_u32(&m, id);
	send_setup(c, &m, NULL, 0);
	return id;
}

static uint32_t make_xdg_surface(struct client *c, uint32_t surface)
{
	struct msg m;
	uint32_t id = new_id(c);
	msg_begin(&m, c->wm_base, XDG_WM_BASE_GET_XDG_SURFACE);
	msg_u32(&m, id);
	msg_u32(&m, surface);
	send_setup(c, &m, NULL, 0);
	return id;
}

/* A toplevel; its xdg_surface and wl_surface in *ret_xdg and *ret_surface
 * when those are not NULL. */
static uint32_t make_toplevel_of(struct client *c, uint32_t *ret_xdg, uint32_t *ret_surface)
{
	struct msg m;
	uint32_t surface = make_surface(c);
	uint32_t xdg = make_xdg_surface(c, surface);
	uint32_t id = new_id(c);
	msg_begin(&m, xdg, XDG_SURFACE_GET_TOPLEVEL);
	msg_u32(&m, id);
	send_setup(c, &m, NULL, 0);
	if (ret_xdg)
		*ret_xdg = xdg;
	if (ret_surface)
		*ret_surface = surface;
	return id;
}

static uint32_t make_toplevel(struct client *c)
{
	return make_toplevel_of(c, NULL, NULL);
}

/* The initial commit of a toplevel's surface, and the configure it brings;
 * its serial in c->configure_serial. */
static void wait_configure(struct client *c, uint32_t xdg, uint32_t surface)
{
	struct msg m;
	c->watch_xdg = xdg;
	c->configured = false;
	msg_begin(&m, surface, WL_SURFACE_COMMIT);
	send_setup(c, &m, NULL, 0);
	int64_t deadline = now_ms() + TIMEOUT_MS;
	while (!c->configured) {
		if (roundtrip(c) < 0 || now_ms() > deadline)
			die_setup("no xdg_surface.configure after the initial commit");
	}
}

static void ack_configure(struct client *c, uint32_t xdg, uint32_t serial)
{
	struct msg m;
	msg_begin(&m, xdg, XDG_SURFACE_ACK_CONFIGURE);
	msg_u32(&m, serial);
	send_setup(c, &m, NULL, 0);
}

/* A memfd of `size` bytes (sparse). */
static int make_memfd(uint64_t size)
{
	int fd = memfd_create("hostile-shm", MFD_CLOEXEC);
	if (fd < 0)
		die_setup("memfd_create: %s", strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0)
		die_setup("ftruncate: %s", strerror(errno));
	return fd;
}

static uint32_t make_pool(struct client *c, int fd, int32_t size)
{
	struct msg m;
	uint32_t id = new_id(c);
	msg_begin(&m, c->shm, WL_SHM_CREATE_POOL);
	msg_u32(&m, id);
	msg_i32(&m, size);
	send_setup(c, &m, &fd, 1);
	return id;
}

/* --- scenarios ---------------------------------------------------------- */

/*
 * Each sends its one bad message (after well-formed setup of its own), and
 * sets c->target.  `v` is the variant, never NULL.  A scenario returns
 * false for a variant it does not know.
 */
struct scenario {
	const char *name;
	const char *variants; /* space-separated; the first is the default */
	bool (*run)(struct client *c, const char *v);
};

/* Sends the bad message, whose size field is `size` (UINT32_MAX: its own). */
static void send_bad(struct client *c, struct msg *m, uint32_t size, const int *fds,
		     size_t n_fds)
{
	msg_size(m, size);
	int r = send_msg(c, m, fds, n_fds);
	if (r < 0)
		fprintf(stderr, "hostile-client: sending the bad message: %s\n", strerror(-r));
}

static long parse_num(const char *v, bool *ok)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 0);
	*ok = errno == 0 && *v && !*end;
	return n;
}

/* wl_display.sync(new id) whose size field says `size`. */
static bool sc_wrong_size(struct client *c, const char *v)
{
	bool ok;
	long size = parse_num(v, &ok);
	if (!ok || size < 0 || size > 0xffff)
		return false;
	struct msg m;
	msg_begin(&m, 1, WL_DISPLAY_SYNC);
	msg_u32(&m, new_id(c));
	c->target = 1;
	send_bad(c, &m, (uint32_t)size, NULL, 0);
	return true;
}

static bool sc_size_too_small(struct client *c, const char *v)
{
	if (strcmp(v, "0") && strcmp(v, "4"))
		return false;
	return sc_wrong_size(c, v);
}

static bool sc_size_too_large(struct client *c, const char *v)
{
	bool ok;
	long size = parse_num(v, &ok);
	if (!ok || size <= 4096 || size > 0xffff)
		return false;
	/* A sync padded out to the claimed size, up to what the buffer holds;
	 * the size field alone must be enough to refuse it. */
	struct msg m;
	msg_begin(&m, 1, WL_DISPLAY_SYNC);
	msg_u32(&m, new_id(c));
	while (m.n * 4 < (size_t)size && m.n < sizeof(m.w) / sizeof(m.w[0]))
		msg_u32(&m, 0);
	c->target = 1;
	send_bad(c, &m, (uint32_t)size, NULL, 0);
	return true;
}

static bool sc_size_unaligned(struct client *c, const char *v)
{
	bool ok;
	long size = parse_num(v, &ok);
	if (!ok || size % 4 == 0 || size < 8 || size > 4096)
		return false;
	struct msg m;
	msg_begin(&m, 1, WL_DISPLAY_SYNC);
	msg_u32(&m, new_id(c));
	msg_u32(&m, 0);
	c->target = 1;
	send_bad(c, &m, (uint32_t)size, NULL, 0);
	return true;
}

static bool sc_object_unknown(struct client *c, const char *v)
{
	uint32_t id;
	if (!strcmp(v, "client"))
		id = 1000; /* never created */
	else if (!strcmp(v, "server"))
		id = 0xff000100u;
	else if (!strcmp(v, "zero"))
		id = 0;
	else
		return false;
	struct msg m;
	msg_begin(&m, id, 0);
	msg_u32(&m, new_id(c));
	c->target = id;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

/* Destroy a region and use it in the same write, before any delete_id. */
static bool sc_object_destroyed(struct client *c, const char *v)
{
	if (strcmp(v, "region"))
		return false;
	uint32_t region = make_region(c);
	struct msg m;
	msg_begin(&m, region, WL_REGION_DESTROY);
	msg_next(&m, region, WL_REGION_ADD);
	msg_i32(&m, 0);
	msg_i32(&m, 0);
	msg_i32(&m, 10);
	msg_i32(&m, 10);
	c->target = region;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_opcode_unknown(struct client *c, const char *v)
{
	struct msg m;
	if (!strcmp(v, "display")) {
		msg_begin(&m, 1, 2);
		c->target = 1;
	} else if (!strcmp(v, "region-ffff")) {
		uint32_t region = make_region(c);
		msg_begin(&m, region, 0xffff);
		c->target = region;
	} else {
		return false;
	}
	msg_u32(&m, 0);
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

/* A wl_surface of a wl_compositor bound at version 1, asked for a
 * request of a later version. */
static bool sc_version_too_low(struct client *c, const char *v)
{
	const struct global *g = find_global(c, "wl_compositor");
	uint32_t opcode;
	int n_args;
	if (!strcmp(v, "damage_buffer")) {
		opcode = WL_SURFACE_DAMAGE_BUFFER; /* since 4 */
		n_args = 4;
	} else if (!strcmp(v, "set_buffer_transform")) {
		opcode = WL_SURFACE_SET_BUFFER_TRANSFORM; /* since 2 */
		n_args = 1;
	} else {
		return false;
	}
	uint32_t old = c->compositor;
	c->compositor = bind_global(c, g, 1);
	uint32_t surface = make_surface(c);
	c->compositor = old;
	struct msg m;
	msg_begin(&m, surface, opcode);
	for (int i = 0; i < n_args; i++)
		msg_i32(&m, 0);
	c->target = surface;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_arg_overflow(struct client *c, const char *v)
{
	struct msg m;
	uint32_t len;

	if (!strcmp(v, "title-ffffffff"))
		len = 0xffffffffu;
	else if (!strcmp(v, "title-fffff000"))
		len = 0xfffff000u;
	else if (!strcmp(v, "title-past-end"))
		len = 100;
	else if (!strcmp(v, "bind-ffffffff") || !strcmp(v, "bind-fffff000")) {
		/* wl_registry.bind's interface string: the untyped new_id. */
		msg_begin(&m, c->registry, WL_REGISTRY_BIND);
		msg_u32(&m, find_global(c, "wl_compositor")->name);
		msg_blob(&m, !strcmp(v, "bind-ffffffff") ? 0xffffffffu : 0xfffff000u,
			 "wl_compositor", 14);
		msg_u32(&m, 1);
		msg_u32(&m, new_id(c));
		c->target = c->registry;
		send_bad(c, &m, UINT32_MAX, NULL, 0);
		return true;
	} else if (!strcmp(v, "missing-arg")) {
		/* wl_region.add with two of its four ints */
		uint32_t region = make_region(c);
		msg_begin(&m, region, WL_REGION_ADD);
		msg_i32(&m, 0);
		msg_i32(&m, 0);
		c->target = region;
		send_bad(c, &m, UINT32_MAX, NULL, 0);
		return true;
	} else {
		return false;
	}
	uint32_t toplevel = make_toplevel(c);
	msg_begin(&m, toplevel, XDG_TOPLEVEL_SET_TITLE);
	msg_blob(&m, len, "hostile", 8);
	c->target = toplevel;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_trailing_bytes(struct client *c, const char *v)
{
	struct msg m;
	if (!strcmp(v, "sync")) {
		msg_begin(&m, 1, WL_DISPLAY_SYNC);
		msg_u32(&m, new_id(c));
		msg_u32(&m, 0xdeadbeef);
		c->target = 1;
	} else if (!strcmp(v, "title")) {
		/* A title whose padding is followed by one more word. */
		uint32_t toplevel = make_toplevel(c);
		msg_begin(&m, toplevel, XDG_TOPLEVEL_SET_TITLE);
		msg_str(&m, "abc");
		msg_u32(&m, 0x41414141);
		c->target = toplevel;
	} else {
		return false;
	}
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

/* xdg_toplevel.set_title with a raw string: length word, bytes. */
static bool bad_title(struct client *c, uint32_t len, const void *bytes, size_t n)
{
	struct msg m;
	uint32_t toplevel = make_toplevel(c);
	msg_begin(&m, toplevel, XDG_TOPLEVEL_SET_TITLE);
	msg_blob(&m, len, bytes, n);
	c->target = toplevel;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_string_unterminated(struct client *c, const char *v)
{
	if (!strcmp(v, "title"))
		return bad_title(c, 4, "abcd", 4);
	if (!strcmp(v, "padding-nul")) /* the NUL only in the padding */
		return bad_title(c, 3, "abc\0", 4);
	return false;
}

static bool sc_string_embedded_nul(struct client *c, const char *v)
{
	if (strcmp(v, "title"))
		return false;
	return bad_title(c, 6, "ab\0cd", 6);
}

static bool sc_string_invalid_utf8(struct client *c, const char *v)
{
	if (!strcmp(v, "overlong"))
		return bad_title(c, 3, "\xc0\xaf", 3); /* an overlong '/' */
	if (!strcmp(v, "surrogate"))
		return bad_title(c, 4, "\xed\xa0\x80", 4); /* U+D800 */
	if (!strcmp(v, "truncated"))
		return bad_title(c, 3, "a\xe2", 3);
	if (!strcmp(v, "above-10ffff"))
		return bad_title(c, 5, "\xf4\x90\x80\x80", 5);
	return false;
}

static bool sc_null_not_allowed(struct client *c, const char *v)
{
	struct msg m;
	if (!strcmp(v, "title")) {
		return bad_title(c, 0, "", 0);
	} else if (!strcmp(v, "object")) {
		msg_begin(&m, c->wm_base, XDG_WM_BASE_GET_XDG_SURFACE);
		msg_u32(&m, new_id(c));
		msg_u32(&m, 0);
		c->target = c->wm_base;
	} else {
		return false;
	}
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_object_arg_unknown(struct client *c, const char *v)
{
	struct msg m;
	uint32_t surface;
	if (!strcmp(v, "never")) {
		surface = 5000;
		msg_begin(&m, c->wm_base, XDG_WM_BASE_GET_XDG_SURFACE);
	} else if (!strcmp(v, "destroyed")) {
		/* destroyed in the same write, before any delete_id */
		surface = make_surface(c);
		msg_begin(&m, surface, WL_SURFACE_DESTROY);
		msg_next(&m, c->wm_base, XDG_WM_BASE_GET_XDG_SURFACE);
	} else {
		return false;
	}
	msg_u32(&m, new_id(c));
	msg_u32(&m, surface);
	c->target = c->wm_base;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_object_arg_wrong_interface(struct client *c, const char *v)
{
	struct msg m;
	uint32_t surface = make_surface(c);
	if (!strcmp(v, "attach-region")) {
		uint32_t region = make_region(c);
		msg_begin(&m, surface, WL_SURFACE_ATTACH);
		msg_u32(&m, region); /* a wl_buffer is expected */
		msg_i32(&m, 0);
		msg_i32(&m, 0);
		c->target = surface;
	} else if (!strcmp(v, "opaque-surface")) {
		msg_begin(&m, surface, WL_SURFACE_SET_OPAQUE_REGION);
		msg_u32(&m, surface);
		c->target = surface;
	} else if (!strcmp(v, "xdg-surface-display")) {
		msg_begin(&m, c->wm_base, XDG_WM_BASE_GET_XDG_SURFACE);
		msg_u32(&m, new_id(c));
		msg_u32(&m, 1);
		c->target = c->wm_base;
	} else {
		return false;
	}
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_new_id_invalid(struct client *c, const char *v)
{
	uint32_t id;
	if (!strcmp(v, "gap"))
		id = c->next_id + 5;
	else if (!strcmp(v, "server-range"))
		id = 0xff000005u;
	else if (!strcmp(v, "zero"))
		id = 0;
	else if (!strcmp(v, "max"))
		id = 0xffffffffu;
	else
		return false;
	struct msg m;
	msg_begin(&m, c->compositor, WL_COMPOSITOR_CREATE_REGION);
	msg_u32(&m, id);
	c->target = c->compositor;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_new_id_in_use(struct client *c, const char *v)
{
	uint32_t id;
	struct msg m;
	if (!strcmp(v, "live")) {
		id = c->registry;
	} else if (!strcmp(v, "display")) {
		id = 1;
	} else if (!strcmp(v, "zombie")) {
		/* destroyed, but the compositor has not released it yet */
		id = make_region(c);
		msg_begin(&m, id, WL_REGION_DESTROY);
		msg_next(&m, c->compositor, WL_COMPOSITOR_CREATE_REGION);
		msg_u32(&m, id);
		c->target = c->compositor;
		send_bad(c, &m, UINT32_MAX, NULL, 0);
		return true;
	} else {
		return false;
	}
	msg_begin(&m, c->compositor, WL_COMPOSITOR_CREATE_REGION);
	msg_u32(&m, id);
	c->target = c->compositor;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_enum_invalid(struct client *c, const char *v)
{
	struct msg m;
	if (!strcmp(v, "transform")) {
		if (c->compositor_version < 2)
			die_setup("wl_compositor version %u: no set_buffer_transform",
				  c->compositor_version);
		uint32_t surface = make_surface(c);
		msg_begin(&m, surface, WL_SURFACE_SET_BUFFER_TRANSFORM);
		msg_i32(&m, 99);
		c->target = surface;
	} else if (!strcmp(v, "resize-edges")) {
		if (!c->seat)
			die_setup("no wl_seat");
		uint32_t toplevel = make_toplevel(c);
		msg_begin(&m, toplevel, XDG_TOPLEVEL_RESIZE);
		msg_u32(&m, c->seat);
		msg_u32(&m, 1);
		msg_u32(&m, 99);
		c->target = toplevel;
	} else if (!strcmp(v, "shm-format")) {
		/* not a wl_shm.format at all */
		int fd = make_memfd(65536);
		uint32_t pool = make_pool(c, fd, 65536);
		close(fd);
		msg_begin(&m, pool, WL_SHM_POOL_CREATE_BUFFER);
		msg_u32(&m, new_id(c));
		msg_i32(&m, 0);
		msg_i32(&m, 16);
		msg_i32(&m, 16);
		msg_i32(&m, 64);
		msg_u32(&m, 0x12345678);
		c->target = pool;
	} else {
		return false;
	}
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_fd_missing(struct client *c, const char *v)
{
	if (strcmp(v, "create-pool"))
		return false;
	struct msg m;
	msg_begin(&m, c->shm, WL_SHM_CREATE_POOL);
	msg_u32(&m, new_id(c));
	msg_i32(&m, 4096);
	c->target = c->shm;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_fd_extra(struct client *c, const char *v)
{
	bool ok;
	long n = parse_num(v, &ok);
	if (!ok || n < 1 || n > MAX_FDS)
		return false;
	int fds[MAX_FDS];
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		die_setup("/dev/null: %s", strerror(errno));
	for (long i = 0; i < n; i++)
		fds[i] = null;
	struct msg m;
	msg_begin(&m, 1, WL_DISPLAY_SYNC);
	msg_u32(&m, new_id(c));
	c->target = 1;
	send_bad(c, &m, UINT32_MAX, fds, (size_t)n);
	close(null);
	return true;
}

static bool sc_fd_wrong_type(struct client *c, const char *v)
{
	int fd, other = -1;
	int32_t size = 65536;
	if (!strcmp(v, "pipe")) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			die_setup("pipe: %s", strerror(errno));
		fd = p[0];
		other = p[1];
	} else if (!strcmp(v, "socket")) {
		int s[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) < 0)
			die_setup("socketpair: %s", strerror(errno));
		fd = s[0];
		other = s[1];
	} else if (!strcmp(v, "dev-null")) {
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	} else if (!strcmp(v, "directory")) {
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else if (!strcmp(v, "small-memfd")) {
		fd = make_memfd(4096); /* the pool claims 64 KiB */
	} else {
		return false;
	}
	if (fd < 0)
		die_setup("open: %s", strerror(errno));
	struct msg m;
	msg_begin(&m, c->shm, WL_SHM_CREATE_POOL);
	msg_u32(&m, new_id(c));
	msg_i32(&m, size);
	c->target = c->shm;
	send_bad(c, &m, UINT32_MAX, &fd, 1);
	close(fd);
	if (other >= 0)
		close(other);
	return true;
}

static bool sc_bind_not_advertised(struct client *c, const char *v)
{
	uint32_t name, version = 1;
	const char *interface;
	if (!strcmp(v, "hidden")) {
		const char *n = getenv("HOSTILE_BIND_NAME");
		interface = getenv("HOSTILE_BIND_INTERFACE");
		bool ok;
		if (!n || !interface)
			die_setup("hidden: set HOSTILE_BIND_NAME and HOSTILE_BIND_INTERFACE");
		name = (uint32_t)parse_num(n, &ok);
		if (!ok)
			die_setup("bad HOSTILE_BIND_NAME %s", n);
		if (find_global(c, interface))
			die_setup("%s is advertised here: nothing hidden to bind", interface);
	} else if (!strcmp(v, "made-up")) {
		name = 0x7fff1234;
		interface = "wl_compositor";
	} else {
		return false;
	}
	struct msg m;
	msg_begin(&m, c->registry, WL_REGISTRY_BIND);
	msg_u32(&m, name);
	msg_str(&m, interface);
	msg_u32(&m, version);
	msg_u32(&m, new_id(c));
	c->target = c->registry;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_bind_interface_mismatch(struct client *c, const char *v)
{
	const char *interface;
	if (!strcmp(v, "shm"))
		interface = "wl_shm";
	else if (!strcmp(v, "screencopy"))
		interface = "zwlr_screencopy_manager_v1";
	else if (!strcmp(v, "prefix"))
		interface = "wl_compositor_extra";
	else
		return false;
	struct msg m;
	msg_begin(&m, c->registry, WL_REGISTRY_BIND);
	msg_u32(&m, find_global(c, "wl_compositor")->name);
	msg_str(&m, interface);
	msg_u32(&m, 1);
	msg_u32(&m, new_id(c));
	c->target = c->registry;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_bind_version(struct client *c, const char *v)
{
	const struct global *g = find_global(c, "wl_compositor");
	uint32_t version;
	if (!strcmp(v, "zero"))
		version = 0;
	else if (!strcmp(v, "above"))
		version = g->version + 1;
	else if (!strcmp(v, "max"))
		version = 0xffffffffu;
	else
		return false;
	struct msg m;
	msg_begin(&m, c->registry, WL_REGISTRY_BIND);
	msg_u32(&m, g->name);
	msg_str(&m, g->interface);
	msg_u32(&m, version);
	msg_u32(&m, new_id(c));
	c->target = c->registry;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_shm_pool_size(struct client *c, const char *v)
{
	struct msg m;
	int fd = make_memfd(65536);
	if (!strcmp(v, "zero") || !strcmp(v, "negative")) {
		msg_begin(&m, c->shm, WL_SHM_CREATE_POOL);
		msg_u32(&m, new_id(c));
		msg_i32(&m, !strcmp(v, "zero") ? 0 : -65536);
		c->target = c->shm;
		send_bad(c, &m, UINT32_MAX, &fd, 1);
	} else if (!strcmp(v, "resize-negative") || !strcmp(v, "resize-past-fd")) {
		uint32_t pool = make_pool(c, fd, 65536);
		msg_begin(&m, pool, WL_SHM_POOL_RESIZE);
		msg_i32(&m, !strcmp(v, "resize-negative") ? -1 : 1 << 20);
		c->target = pool;
		send_bad(c, &m, UINT32_MAX, NULL, 0);
	} else {
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

static bool sc_shm_pool_shrink(struct client *c, const char *v)
{
	if (strcmp(v, "half"))
		return false;
	int fd = make_memfd(65536);
	uint32_t pool = make_pool(c, fd, 65536);
	close(fd);
	struct msg m;
	msg_begin(&m, pool, WL_SHM_POOL_RESIZE);
	msg_i32(&m, 32768);
	c->target = pool;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

static bool sc_shm_buffer_geometry(struct client *c, const char *v)
{
	static const struct {
		const char *name;
		int32_t offset, width, height, stride;
	} cases[] = {
		{ "past-pool", 0, 100, 200, 400 },            /* 80000 > 65536 */
		{ "offset-past", 65536 - 100, 10, 10, 40 },
		{ "offset-beyond", 65536, 1, 1, 4 },
		{ "stride-small", 0, 100, 10, 200 },          /* < 100 * 4 */
		{ "stride-height-overflow", 0, 16384, 65536, 65536 }, /* 2^32 */
		{ "width-stride-overflow", 0, 0x40000001, 1, 4 }, /* width*4 wraps to 4 */
		{ "offset-overflow", 0x7fffffff, 1, 1, 4 },
		{ "negative-offset", -4, 1, 1, 4 },
		{ "negative-width", 0, -1, 1, 4 },
		{ "negative-height", 0, 1, -1, 4 },
		{ "negative-stride", 0, 1, 1, -4 },
		{ "zero-width", 0, 0, 1, 4 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(v, cases[i].name))
			continue;
		int fd = make_memfd(65536);
		uint32_t pool = make_pool(c, fd, 65536);
		close(fd);
		struct msg m;
		msg_begin(&m, pool, WL_SHM_POOL_CREATE_BUFFER);
		msg_u32(&m, new_id(c));
		msg_i32(&m, cases[i].offset);
		msg_i32(&m, cases[i].width);
		msg_i32(&m, cases[i].height);
		msg_i32(&m, cases[i].stride);
		msg_u32(&m, WL_SHM_FORMAT_ARGB8888);
		c->target = pool;
		send_bad(c, &m, UINT32_MAX, NULL, 0);
		return true;
	}
	return false;
}

static bool sc_shm_format(struct client *c, const char *v)
{
	/* Valid wl_shm.format values that a compositor is unlikely to offer. */
	static const uint32_t candidates[] = {
		0x20203843, /* C8 */
		0x38424752, /* RGB332 */
		0x3231564e, /* NV12 */
		0x32315559, /* YUV420 */
	};
	if (strcmp(v, "unadvertised"))
		return false;
	uint32_t format = 0;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && !format; i++)
		if (!format_advertised(c, candidates[i]))
			format = candidates[i];
	if (!format)
		die_setup("every candidate format is advertised");
	int fd = make_memfd(65536);
	uint32_t pool = make_pool(c, fd, 65536);
	close(fd);
	struct msg m;
	msg_begin(&m, pool, WL_SHM_POOL_CREATE_BUFFER);
	msg_u32(&m, new_id(c));
	msg_i32(&m, 0);
	msg_i32(&m, 16);
	msg_i32(&m, 16);
	msg_i32(&m, 64);
	msg_u32(&m, format);
	c->target = pool;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

/* 10001 regions in large writes: more objects than the default policy's
 * "limit objects 10000". */
static bool sc_limit_objects(struct client *c, const char *v)
{
	bool ok;
	long n = parse_num(v, &ok);
	if (!ok || n < 1 || n > 1000000)
		return false;
	enum { PER_WRITE = 300 };
	uint32_t buf[PER_WRITE * 3];
	c->target = c->compositor;
	for (long done = 0; done < n;) {
		size_t k = 0;
		for (; k < PER_WRITE && done < n; k++, done++) {
			buf[k * 3] = c->compositor;
			buf[k * 3 + 1] = 12u << 16 | WL_COMPOSITOR_CREATE_REGION;
			buf[k * 3 + 2] = new_id(c);
		}
		int r = send_raw(c, buf, k * 12, NULL, 0);
		if (r < 0) {
			fprintf(stderr, "hostile-client: cut off after %ld regions: %s\n", done,
				strerror(-r));
			break;
		}
	}
	return true;
}

/* Pools until the policy's limits: "count" makes many small ones (limit
 * shm-pools 256), "bytes" three of almost 2 GiB (limit shm-bytes 4G). */
static bool sc_limit_shm(struct client *c, const char *v)
{
	int n;
	int32_t size;
	if (!strcmp(v, "count")) {
		n = 300;
		size = 4096;
	} else if (!strcmp(v, "bytes")) {
		n = 3;
		size = 0x7fff0000;
	} else {
		return false;
	}
	int fd = make_memfd((uint64_t)size);
	struct msg m;
	c->target = c->shm;
	for (int i = 0; i < n; i++) {
		msg_begin(&m, c->shm, WL_SHM_CREATE_POOL);
		msg_u32(&m, new_id(c));
		msg_i32(&m, size);
		msg_size(&m, UINT32_MAX);
		if (send_msg(c, &m, &fd, 1) < 0)
			break;
	}
	close(fd);
	return true;
}

/* More fds in flight than "limit fds 64", held by a message that has not
 * fully arrived. */
static bool sc_limit_fds(struct client *c, const char *v)
{
	bool ok;
	long n = parse_num(v, &ok);
	if (!ok || n < 1 || n > MAX_FDS)
		return false;
	int fds[MAX_FDS];
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0)
		die_setup("/dev/null: %s", strerror(errno));
	for (long i = 0; i < n; i++)
		fds[i] = null;
	/* The first half of a wl_shm.create_pool header. */
	uint32_t half = c->shm;
	c->target = c->shm;
	int r = send_raw(c, &half, 4, fds, (size_t)n);
	if (r < 0)
		fprintf(stderr, "hostile-client: send: %s\n", strerror(-r));
	close(null);
	return true;
}

/* A surface given a second role, or a role object out of order.  The
 * compositor would kill the connection for each (sway 1.7 lets
 * two-xdg-surfaces pass; xdg-shell forbids it). */
static bool sc_surface_role(struct client *c, const char *v)
{
	struct msg m;
	uint32_t surface = make_surface(c);
	if (!strcmp(v, "two-toplevels")) {
		uint32_t xdg = make_xdg_surface(c, surface);
		msg_begin(&m, xdg, XDG_SURFACE_GET_TOPLEVEL);
		msg_u32(&m, new_id(c));
		send_setup(c, &m, NULL, 0);
		msg_begin(&m, xdg, XDG_SURFACE_GET_TOPLEVEL);
		msg_u32(&m, new_id(c));
		c->target = xdg;
	} else if (!strcmp(v, "two-xdg-surfaces")) {
		make_xdg_surface(c, surface);
		msg_begin(&m, c->wm_base, XDG_WM_BASE_GET_XDG_SURFACE);
		msg_u32(&m, new_id(c));
		msg_u32(&m, surface);
		c->target = c->wm_base;
	} else if (!strcmp(v, "toplevel-then-subsurface") || !strcmp(v, "own-parent")) {
		if (!c->subcompositor)
			die_setup("no wl_subcompositor");
		uint32_t parent = surface;
		if (!strcmp(v, "toplevel-then-subsurface")) {
			uint32_t xdg = make_xdg_surface(c, surface);
			msg_begin(&m, xdg, XDG_SURFACE_GET_TOPLEVEL);
			msg_u32(&m, new_id(c));
			send_setup(c, &m, NULL, 0);
			parent = make_surface(c);
		}
		msg_begin(&m, c->subcompositor, WL_SUBCOMPOSITOR_GET_SUBSURFACE);
		msg_u32(&m, new_id(c));
		msg_u32(&m, surface);
		msg_u32(&m, parent);
		c->target = c->subcompositor;
	} else if (!strcmp(v, "toplevel-as-cursor")) {
		if (!c->seat)
			die_setup("no wl_seat");
		uint32_t toplevel_surface;
		make_toplevel_of(c, NULL, &toplevel_surface);
		uint32_t pointer = new_id(c);
		msg_begin(&m, c->seat, WL_SEAT_GET_POINTER);
		msg_u32(&m, pointer);
		send_setup(c, &m, NULL, 0);
		msg_begin(&m, pointer, WL_POINTER_SET_CURSOR);
		msg_u32(&m, 0);
		msg_u32(&m, toplevel_surface);
		msg_i32(&m, 0);
		msg_i32(&m, 0);
		c->target = pointer;
	} else if (!strcmp(v, "xdg-surface-before-toplevel")) {
		/* destroying the xdg_surface while its toplevel lives */
		uint32_t xdg;
		make_toplevel_of(c, &xdg, NULL);
		msg_begin(&m, xdg, XDG_SURFACE_DESTROY);
		c->target = xdg;
	} else {
		return false;
	}
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

/* xdg_surface.ack_configure of a serial the compositor never sent, or of
 * one already acked. */
static bool sc_configure_serial(struct client *c, const char *v)
{
	uint32_t xdg, surface, serial;
	make_toplevel_of(c, &xdg, &surface);
	if (!strcmp(v, "never-sent")) {
		serial = 0x7777777;
	} else if (!strcmp(v, "acked-twice") || !strcmp(v, "next")) {
		wait_configure(c, xdg, surface);
		ack_configure(c, xdg, c->configure_serial);
		serial = !strcmp(v, "next") ? c->configure_serial + 1 : c->configure_serial;
	} else {
		return false;
	}
	struct msg m;
	msg_begin(&m, xdg, XDG_SURFACE_ACK_CONFIGURE);
	msg_u32(&m, serial);
	c->target = xdg;
	send_bad(c, &m, UINT32_MAX, NULL, 0);
	return true;
}

/* The control: everything well formed, including the messages the
 * hooks look at; the connection must stay up. */
static bool sc_valid(struct client *c, const char *v)
{
	if (strcmp(v, "all"))
		return false;
	struct msg m;
	uint32_t xdg, surface;
	uint32_t toplevel = make_toplevel_of(c, &xdg, &surface);
	msg_begin(&m, toplevel, XDG_TOPLEVEL_SET_TITLE);
	msg_str(&m, "hostile valid \xc3\xa9");
	send_setup(c, &m, NULL, 0);
	msg_begin(&m, toplevel, XDG_TOPLEVEL_SET_APP_ID);
	msg_str(&m, "hostile-valid");
	send_setup(c, &m, NULL, 0);
	wait_configure(c, xdg, surface);
	ack_configure(c, xdg, c->configure_serial);

	uint32_t region = make_region(c);
	msg_begin(&m, region, WL_REGION_ADD);
	msg_i32(&m, 0);
	msg_i32(&m, 0);
	msg_i32(&m, 10);
	msg_i32(&m, 10);
	send_setup(c, &m, NULL, 0);
	msg_begin(&m, region, WL_REGION_DESTROY);
	send_setup(c, &m, NULL, 0);

	int fd = make_memfd(65536);
	uint32_t pool = make_pool(c, fd, 32768);
	close(fd);
	msg_begin(&m, pool, WL_SHM_POOL_RESIZE);
	msg_i32(&m, 65536);
	send_setup(c, &m, NULL, 0);
	uint32_t format = format_advertised(c, WL_SHM_FORMAT_ARGB8888) ? WL_SHM_FORMAT_ARGB8888
									 : c->formats[0];
	uint32_t buffer = new_id(c);
	msg_begin(&m, pool, WL_SHM_POOL_CREATE_BUFFER);
	msg_u32(&m, buffer);
	msg_i32(&m, 0);
	msg_i32(&m, 64);
	msg_i32(&m, 64);
	msg_i32(&m, 256);
	msg_u32(&m, format);
	send_setup(c, &m, NULL, 0);
	msg_begin(&m, buffer, WL_BUFFER_DESTROY);
	send_setup(c, &m, NULL, 0);
	msg_begin(&m, pool, WL_SHM_POOL_DESTROY);
	send_setup(c, &m, NULL, 0);
	c->target = toplevel;
	return true;
}

static const struct scenario scenarios[] = {
	{ "valid", "all", sc_valid },
	{ "wrong-size", "11 10 9 8 7 6 5 4 3 2 1 0", sc_wrong_size },
	{ "size-too-small", "0 4", sc_size_too_small },
	{ "size-too-large", "4100 65532", sc_size_too_large },
	{ "size-unaligned", "14 4094", sc_size_unaligned },
	{ "object-unknown", "client server zero", sc_object_unknown },
	{ "object-destroyed", "region", sc_object_destroyed },
	{ "opcode-unknown", "display region-ffff", sc_opcode_unknown },
	{ "version-too-low", "damage_buffer set_buffer_transform", sc_version_too_low },
	{ "arg-overflow", "title-ffffffff title-fffff000 title-past-end bind-ffffffff "
			  "bind-fffff000 missing-arg", sc_arg_overflow },
	{ "trailing-bytes", "sync title", sc_trailing_bytes },
	{ "string-unterminated", "title padding-nul", sc_string_unterminated },
	{ "string-embedded-nul", "title", sc_string_embedded_nul },
	{ "string-invalid-utf8", "overlong surrogate truncated above-10ffff",
	  sc_string_invalid_utf8 },
	{ "null-not-allowed", "title object", sc_null_not_allowed },
	{ "object-arg-unknown", "never destroyed", sc_object_arg_unknown },
	{ "object-arg-wrong-interface", "attach-region opaque-surface xdg-surface-display",
	  sc_object_arg_wrong_interface },
	{ "new-id-invalid", "gap server-range zero max", sc_new_id_invalid },
	{ "new-id-in-use", "live display zombie", sc_new_id_in_use },
	{ "enum-invalid", "transform resize-edges shm-format", sc_enum_invalid },
	{ "fd-missing", "create-pool", sc_fd_missing },
	{ "fd-extra", "30", sc_fd_extra },
	{ "fd-wrong-type", "pipe socket dev-null directory small-memfd", sc_fd_wrong_type },
	{ "bind-not-advertised", "hidden made-up", sc_bind_not_advertised },
	{ "bind-interface-mismatch", "shm screencopy prefix", sc_bind_interface_mismatch },
	{ "bind-version", "zero above max", sc_bind_version },
	{ "shm-pool-size", "zero negative resize-negative resize-past-fd", sc_shm_pool_size },
	{ "shm-pool-shrink", "half", sc_shm_pool_shrink },
	{ "shm-buffer-geometry", "past-pool offset-past offset-beyond stride-small "
				 "stride-height-overflow width-stride-overflow offset-overflow "
				 "negative-offset negative-width negative-height negative-stride "
				 "zero-width", sc_shm_buffer_geometry },
	{ "shm-format", "unadvertised", sc_shm_format },
	{ "limit-objects", "10001", sc_limit_objects },
	{ "limit-shm", "count bytes", sc_limit_shm },
	{ "limit-fds", "65", sc_limit_fds },
	{ "surface-role", "two-toplevels two-xdg-surfaces toplevel-then-subsurface own-parent "
			  "toplevel-as-cursor xdg-surface-before-toplevel", sc_surface_role },
	{ "configure-serial", "never-sent acked-twice next", sc_configure_serial },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hostile-client globals | list | SCENARIO [VARIANT]\n");
}

int main(int argc, char *argv[])
{
	static struct client client; /* large: not on the stack */
	struct client *c = &client;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || argc > 3) {
		usage(stderr);
		return EXIT_SETUP;
	}
	if (!strcmp(argv[1], "list")) {
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			printf("%s: %s\n", scenarios[i].name, scenarios[i].variants);
		return 0;
	}
	if (!strcmp(argv[1], "globals")) {
		setup(c, false);
		for (uint32_t i = 0; i < c->n_globals; i++)
			printf("%" PRIu32 " %s %" PRIu32 "\n", c->globals[i].name,
			       c->globals[i].interface, c->globals[i].version);
		return 0;
	}

	const struct scenario *sc = NULL;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(argv[1], scenarios[i].name))
			sc = &scenarios[i];
	if (!sc) {
		fprintf(stderr, "hostile-client: no scenario %s\n", argv[1]);
		usage(stderr);
		return EXIT_SETUP;
	}
	char variant[64];
	if (argc == 3)
		snprintf(variant, sizeof(variant), "%s", argv[2]);
	else
		snprintf(variant, sizeof(variant), "%.*s", (int)strcspn(sc->variants, " "),
			 sc->variants);

	setup(c, true);
	if (!sc->run(c, variant)) {
		fprintf(stderr, "hostile-client: %s has no variant %s (has: %s)\n", sc->name,
			variant, sc->variants);
		return EXIT_SETUP;
	}
	printf("scenario %s %s\nobject=%" PRIu32 "\n", sc->name, variant, c->target);

	/* Did it get through?  A round trip tells; its bytes may be refused
	 * unread once the proxy has cut the connection. */
	int r = roundtrip(c);
	if (r == 0 && !c->error) {
		printf("still connected\n");
		return EXIT_CONNECTED;
	}
	/* Read to the end: an error and nothing after it but the close. */
	int64_t deadline = now_ms() + TIMEOUT_MS;
	while (!c->eof) {
		int64_t left = deadline - now_ms();
		if (left <= 0 || dispatch(c, (int)left) < 0)
			break;
	}
	if (!c->eof) {
		printf("timeout: no end of stream after %d ms\n", TIMEOUT_MS);
		return EXIT_TIMEOUT;
	}
	printf("eof\n");
	return c->error ? EXIT_ERROR : EXIT_EOF;
}
