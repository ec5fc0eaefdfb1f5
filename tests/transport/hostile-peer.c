/* SPDX-License-Identifier: MIT */
/*
 * hostile-peer: a guest-side vmapp-transport(7) peer of our own, for
 * vmapp-proxy --accept.  It connects to the proxy's unix socket, does the
 * handshake with the codec of proxy/transport.h, and breaks one rule of
 * the transport per run; then it judges the proxy's answer from what comes
 * back on the stream, read with the same codec.
 *
 *   hostile-peer SOCKET SCENARIO
 *   hostile-peer list     one line per scenario: name, cost, rule and the
 *                         proxy's log line expected (an extended regex),
 *                         separated by tabs
 *
 * What each cost means (vmapp-transport(7), "what it costs"):
 *
 *   channel     the attacked channel gets the proxy's CLOSE with the rule's
 *               reason; channel 1, opened (with a real shm pool handed to
 *               the compositor) before the attack, still does a Wayland
 *               round trip afterwards, and so do a new channel and the
 *               attacked id opened again once the CLOSE handshake freed it.
 *               A message the validator refuses: the proxy's
 *               wl_display.error in a WAYLAND frame first, then the CLOSE
 *               (reason 4, wayland).
 *   connection  an ERROR on channel 0 naming the rule, nothing after it,
 *               the stream closed; then a new connection (handshake,
 *               channel, round trip) works: the proxy survived.
 *   nothing     a frame on a channel that is not open: no answer on that
 *               id, no ERROR, the other channels go on.
 *   cut         the stream ends in the middle of a frame; a new connection
 *               works afterwards.
 *   peer-error  the guest sends ERROR: the proxy closes the stream without
 *               an ERROR of its own; a new connection works afterwards.
 *   bounded     a guest that writes and never reads: what the proxy holds
 *               of its own unsent answers stays bounded (unread-answers).
 *
 * The round trip is real Wayland in WAYLAND frames, built by hand:
 * wl_display.get_registry and wl_display.sync, until wl_callback.done
 * arrives in a WAYLAND frame from the host, after wl_registry.global
 * events that include wl_compositor.
 *
 * Environment (all optional):
 *   WAYLAND_DISPLAY (and XDG_RUNTIME_DIR)  the compositor the proxy serves:
 *       asked directly for the name it gives a global the proxy hides
 *       (bind-hidden-global)
 *   VMAPP_PROXY_PID   the proxy's pid: unread-answers compares its resident
 *       memory before and after
 *   VMAPP_PEER_NO_RECONNECT=1   no new connection after the stream ended
 *       (for a proxy run with --once, which is gone by then)
 *
 * Exit status: 0 the proxy answered as the specification says, 1 it did
 * not (the reason on stderr, starting "FAIL"), 2 bad usage.
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
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"
#include "unix.h"
#include "vmapp-tables.h"

#define MAX_CH 64
#define CH_A 1      /* opened before the attack; must go on */
#define CH_B 2      /* the attacked channel */
#define CH_C 3      /* opened after the attack */
#define CH_UNUSED 7 /* never opened */
#define POOL_REF 100
#define POOL_SIZE 4096u
#define TIMEOUT_MS 10000
/* Long enough for the credit scenario, whose frames the compositor works
 * through at the proxy's message rate. */
#define CLOSE_TIMEOUT_MS 30000
/* A connection refused because the previous stream is still being torn
 * down is retried this long (one stream at a time is the contract). */
#define CONNECT_RETRY_MS 5000

/* The global the proxy hides, for the validator scenario. */
#define HIDDEN_INTERFACE "zwlr_screencopy_manager_v1"

static const char *scenario_name = "?";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "hostile-peer: %s: FAIL: ", scenario_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;
	printf("%s: ", scenario_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- Wayland messages, by hand (the byte order of the machine, as the
 * Wayland wire has it) ---- */

struct wl_msgs {
	struct vmapp_buf buf;
	size_t start;
};

static void wl_word(struct wl_msgs *m, uint32_t v)
{
	if (vmapp_buf_append(&m->buf, &v, 4) < 0)
		fail("out of memory");
}

static void wl_begin(struct wl_msgs *m, uint32_t id, uint16_t opcode)
{
	m->start = vmapp_buf_size(&m->buf);
	wl_word(m, id);
	wl_word(m, opcode);
}

static void wl_string(struct wl_msgs *m, const char *s)
{
	size_t n = strlen(s) + 1;
	wl_word(m, (uint32_t)n);
	if (vmapp_buf_append(&m->buf, s, n) < 0)
		fail("out of memory");
	static const uint8_t zero[4];
	if (n % 4 && vmapp_buf_append(&m->buf, zero, 4 - n % 4) < 0)
		fail("out of memory");
}

/* Writes the size into the header of the message begun last. */
static void wl_end(struct wl_msgs *m)
{
	uint8_t *p = m->buf.data + m->buf.start + m->start + 4;
	uint32_t word;
	memcpy(&word, p, 4);
	word |= (uint32_t)(vmapp_buf_size(&m->buf) - m->start) << 16;
	memcpy(p, &word, 4);
}

static void wl_reset(struct wl_msgs *m)
{
	m->buf.start = m->buf.len = 0;
	m->start = 0;
}

static uint32_t wl_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* ---- the peer ---- */

struct chan {
	/* The attacked channel: the host's frames on it are tallied here,
	 * not run through our codec state, whose account of it our raw
	 * frames made wrong (its CLOSE still goes through, to free the id). */
	bool raw;
	uint32_t next_id; /* the next Wayland object id of ours */
	uint32_t registry;
	uint32_t globals;
	uint32_t compositor_name, compositor_version, shm_name;
	uint32_t callback; /* the wl_callback of the round trip under way */
	bool done;         /* ... got its done */
	uint32_t frames;   /* frames from the host on this id, all lifetimes */
	bool host_closed;
	uint32_t close_reason;
	uint32_t frames_after_close;
	bool wl_error;
	uint32_t wl_error_code;
	char wl_error_text[300];
	uint64_t credit; /* CREDIT bytes the host returned on a raw channel */
};

struct peer {
	int fd;
	bool eof;
	bool write_failed;
	uint64_t bytes_in;
	struct vmapp_transport_state st;
	struct vmapp_buf in, out;
	bool got_error;
	uint32_t error_code;
	char error_text[300];
	uint32_t after_error; /* frames after the host's ERROR: none allowed */
	char host_broke[400]; /* not empty: the host broke a rule of the spec */
	struct chan ch[MAX_CH + 1];
};

static void peer_init(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (vmapp_transport_init(&p->st, VMAPP_TRANSPORT_GUEST, NULL) < 0)
		fail("vmapp_transport_init");
}

static void peer_finish(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	vmapp_transport_finish(&p->st);
	vmapp_buf_finish(&p->in);
	vmapp_buf_finish(&p->out);
}

static void host_broke(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void host_broke(struct peer *p, const char *fmt, ...)
{
	if (p->host_broke[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->host_broke, sizeof(p->host_broke), fmt, ap);
	va_end(ap);
}

static void chan_reset(struct chan *c)
{
	uint32_t frames = c->frames;
	memset(c, 0, sizeof(*c));
	c->frames = frames;
	c->next_id = 2; /* 1 is wl_display */
}

/* The events of one WAYLAND frame from the host. */
static void parse_events(struct peer *p, struct chan *c, const uint8_t *data, uint32_t size)
{
	uint32_t at = 0;
	while (at + 8 <= size) {
		uint32_t id = wl_u32(data + at);
		uint32_t word = wl_u32(data + at + 4);
		uint32_t len = word >> 16, opcode = word & 0xffff;
		if (len < 8 || len > size - at) {
			host_broke(p, "a WAYLAND frame whose messages do not add up");
			return;
		}
		const uint8_t *args = data + at + 8;
		uint32_t n_args = len - 8;
		if (id == 1 && opcode == VMAPP_EVT_WL_DISPLAY_ERROR && n_args >= 12) {
			uint32_t slen = wl_u32(args + 8);
			c->wl_error = true;
			c->wl_error_code = wl_u32(args + 4);
			if (slen > n_args - 12)
				slen = n_args - 12;
			snprintf(c->wl_error_text, sizeof(c->wl_error_text), "%.*s", (int)slen,
				 (const char *)args + 12);
			c->wl_error_text[strcspn(c->wl_error_text, "\n")] = '\0';
		} else if (id == c->registry && c->registry && opcode == VMAPP_EVT_WL_REGISTRY_GLOBAL &&
			   n_args >= 12) {
			uint32_t name = wl_u32(args);
			uint32_t slen = wl_u32(args + 4);
			uint32_t padded = (slen + 3) & ~3u;
			if (slen == 0 || padded > n_args - 8)
				return;
			const char *iface = (const char *)args + 8;
			uint32_t version = wl_u32(args + 8 + padded);
			c->globals++;
			if (!strncmp(iface, "wl_compositor", slen)) {
				c->compositor_name = name;
				c->compositor_version = version;
			} else if (!strncmp(iface, "wl_shm", slen)) {
				c->shm_name = name;
			}
		} else if (id == c->callback && c->callback && opcode == VMAPP_EVT_WL_CALLBACK_DONE &&
			   n_args == 4) {
			c->done = true;
		}
		at += len;
	}
}

static void ack_close_raw(struct peer *p, uint32_t channel)
{
	uint8_t reason[4];
	put32(reason, VMAPP_TRANSPORT_REASON_NORMAL);
	if (vmapp_transport_append_frame(&p->out, channel, VMAPP_TRANSPORT_CLOSE, 0, reason, 4) < 0)
		fail("out of memory");
}

/* A frame of the attacked channel: tallied, not checked against our
 * state; its CLOSE answered so that the id is free again. */
static void handle_raw(struct peer *p, struct chan *c, const struct vmapp_transport_frame *f)
{
	if (f->rule != VMAPP_TRANSPORT_RULE_OK) {
		host_broke(p, "the host sent a %s frame on channel %u that breaks %s",
			   vmapp_transport_kind_name(f->kind) ? vmapp_transport_kind_name(f->kind) : "?",
			   f->channel, vmapp_transport_rule_name(f->rule));
		return;
	}
	if (c->host_closed) {
		c->frames_after_close++;
		return;
	}
	switch (f->kind) {
	case VMAPP_TRANSPORT_CLOSE: {
		c->host_closed = true;
		c->close_reason = f->close.reason;
		enum vmapp_transport_action action;
		vmapp_transport_receive(&p->st, f, &action);
		if (action == VMAPP_TRANSPORT_DELIVER) {
			if (vmapp_transport_send_close(&p->st, &p->out, f->channel,
						       VMAPP_TRANSPORT_REASON_NORMAL) < 0)
				fail("could not answer the host's CLOSE");
		} else {
			/* Our state never saw this channel open (a raw OPEN). */
			ack_close_raw(p, f->channel);
		}
		break;
	}
	case VMAPP_TRANSPORT_CREDIT:
		c->credit += f->credit.bytes;
		break;
	case VMAPP_TRANSPORT_WAYLAND:
		parse_events(p, c, f->wayland.data, f->wayland.size);
		break;
	default:
		break;
	}
}

static void handle_frame(struct peer *p, const struct vmapp_transport_frame *f)
{
	if (p->got_error) {
		p->after_error++;
		return;
	}
	struct chan *c = f->channel >= 1 && f->channel <= MAX_CH ? &p->ch[f->channel] : NULL;
	if (c) {
		c->frames++;
		if (c->raw) {
			handle_raw(p, c, f);
			return;
		}
	}
	enum vmapp_transport_action action;
	enum vmapp_transport_rule rule = vmapp_transport_receive(&p->st, f, &action);
	const char *kind = vmapp_transport_kind_name(f->kind) ? vmapp_transport_kind_name(f->kind)
							      : "?";
	switch (action) {
	case VMAPP_TRANSPORT_DELIVER:
		if (f->channel == 0) {
			if (f->kind == VMAPP_TRANSPORT_ERROR) {
				p->got_error = true;
				p->error_code = f->error.code;
				snprintf(p->error_text, sizeof(p->error_text), "%.*s",
					 (int)f->error.text_len, f->error.text);
			}
			return;
		}
		if (!c)
			return;
		switch (f->kind) {
		case VMAPP_TRANSPORT_WAYLAND:
			parse_events(p, c, f->wayland.data, f->wayland.size);
			/* Consumed at once: return its credit, as a guest must. */
			if (vmapp_transport_consume(&p->st, f->channel, f->length) < 0 ||
			    vmapp_transport_send_credit(&p->st, &p->out, f->channel) < 0)
				fail("could not return credit on channel %u", f->channel);
			break;
		case VMAPP_TRANSPORT_CLOSE:
			c->host_closed = true;
			c->close_reason = f->close.reason;
			if (vmapp_transport_send_close(&p->st, &p->out, f->channel,
						       VMAPP_TRANSPORT_REASON_NORMAL) < 0)
				fail("could not answer the host's CLOSE on channel %u", f->channel);
			break;
		default:
			if (vmapp_transport_kind_is_data(f->kind) &&
			    (vmapp_transport_consume(&p->st, f->channel, f->length) < 0 ||
			     vmapp_transport_send_credit(&p->st, &p->out, f->channel) < 0))
				fail("could not return credit on channel %u", f->channel);
			break;
		}
		return;
	case VMAPP_TRANSPORT_DROP:
		/* Harmless when the rule is OK: the CLOSE that answers ours,
		 * or what the host sent before it saw our CLOSE. */
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			host_broke(p, "the host sent %s on channel %u: %s", kind, f->channel,
				   vmapp_transport_rule_name(rule));
		return;
	case VMAPP_TRANSPORT_CLOSE_CHANNEL:
	case VMAPP_TRANSPORT_CLOSE_CONNECTION:
		host_broke(p, "the host sent %s on channel %u (%u bytes) that breaks %s", kind,
			   f->channel, f->length, vmapp_transport_rule_name(rule));
		return;
	}
}

static void process(struct peer *p)
{
	while (!p->host_broke[0]) {
		uint32_t size;
		enum vmapp_transport_rule rule = vmapp_transport_peek(vmapp_buf_head(&p->in),
								      vmapp_buf_size(&p->in), &size);
		if (rule == VMAPP_TRANSPORT_RULE_HEADER_TRUNCATED ||
		    rule == VMAPP_TRANSPORT_RULE_FRAME_TRUNCATED)
			return;
		if (rule != VMAPP_TRANSPORT_RULE_OK) {
			host_broke(p, "the host sent a frame header that breaks %s",
				   vmapp_transport_rule_name(rule));
			return;
		}
		struct vmapp_transport_frame f;
		vmapp_transport_decode(vmapp_buf_head(&p->in), size, &f);
		handle_frame(p, &f);
		vmapp_buf_consume(&p->in, size);
	}
}

/* One round of I/O: writes what it can, reads what came, handles every
 * whole frame.  false once the deadline passed. */
static bool step(struct peer *p, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	if (left <= 0)
		return false;
	bool want_out = vmapp_buf_size(&p->out) > 0 && !p->write_failed;
	if (p->eof && !want_out) {
		/* Nothing more can happen on this stream. */
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		return true;
	}
	struct pollfd pfd = { .fd = p->fd, .events = (short)((p->eof ? 0 : POLLIN) |
							     (want_out ? POLLOUT : 0)) };
	int n = poll(&pfd, 1, left > 100 ? 100 : (int)left);
	if (n < 0 && errno != EINTR)
		fail("poll: %s", strerror(errno));
	if (n <= 0)
		return true;
	if (want_out && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
		ssize_t w = write(p->fd, vmapp_buf_head(&p->out), vmapp_buf_size(&p->out));
		if (w > 0)
			vmapp_buf_consume(&p->out, (size_t)w);
		else if (w < 0 && errno != EAGAIN && errno != EINTR)
			p->write_failed = true;
	}
	if (!p->eof && (pfd.revents & (POLLIN | POLLERR | POLLHUP))) {
		uint8_t *buf = vmapp_buf_reserve(&p->in, 262144);
		if (!buf)
			fail("out of memory");
		ssize_t r = read(p->fd, buf, 262144);
		if (r > 0) {
			p->in.len += (size_t)r;
			p->bytes_in += (uint64_t)r;
			process(p);
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			p->eof = true;
		}
	}
	return true;
}

static bool broken(const struct peer *p)
{
	return p->host_broke[0] || p->got_error || p->eof;
}

static void check_sane(const struct peer *p, const char *when)
{
	if (p->host_broke[0])
		fail("%s: %s", when, p->host_broke);
	if (p->got_error)
		fail("%s: the host ended the connection with ERROR code %u '%s'", when,
		     p->error_code, p->error_text);
	if (p->eof)
		fail("%s: the host closed the stream", when);
}

/* Writes everything queued (reading meanwhile, so neither side blocks). */
static void flush(struct peer *p)
{
	int64_t deadline = now_ms() + TIMEOUT_MS;
	while (vmapp_buf_size(&p->out) > 0 && !p->write_failed && !p->eof)
		if (!step(p, deadline))
			fail("could not write %zu bytes to the proxy in time",
			     vmapp_buf_size(&p->out));
}

/*
 * Connects and waits for the host's HELLO, which it sends at once.  A
 * connection closed before a single byte is the proxy refusing a second
 * stream while it still serves the previous one (that of the last run,
 * being torn down): tried again for a while.  `first`, if not NULL, is
 * queued before anything else (the attack of the scenarios that break the
 * handshake); otherwise our HELLO is.
 */
static void peer_connect(struct peer *p, const char *path,
			 void (*first)(struct peer *p))
{
	int64_t give_up = now_ms() + CONNECT_RETRY_MS;
	for (int attempt = 1;; attempt++) {
		int fd = vmapp_unix_connect(path);
		if (fd < 0)
			fail("can not connect to %s: %s", path, strerror(-fd));
		p->fd = fd;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		/* Each side sends HELLO at once, without waiting. */
		if (first)
			first(p);
		else if (vmapp_transport_send_hello(&p->st, &p->out) < 0)
			fail("vmapp_transport_send_hello");
		int64_t deadline = now_ms() + TIMEOUT_MS;
		while (!p->st.hello_received && !p->eof && !p->host_broke[0] && !p->got_error)
			if (!step(p, deadline))
				fail("no HELLO from the host in %d ms", TIMEOUT_MS);
		if (p->bytes_in > 0 || now_ms() > give_up)
			break;
		/* Refused: start again with a fresh state. */
		note("connection %d closed at once (the previous stream still served?); again",
		     attempt);
		peer_finish(p);
		peer_init(p);
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (p->host_broke[0])
		fail("handshake: %s", p->host_broke);
	if (!p->st.hello_received)
		fail("the stream ended before the host's HELLO");
	if (p->st.peer.max_channels < CH_UNUSED + 1)
		fail("the host allows only %u channels", p->st.peer.max_channels);
}

static void peer_handshake(struct peer *p, const char *path)
{
	peer_connect(p, path, NULL);
	flush(p);
	check_sane(p, "handshake");
}

/* ---- what a guest client does, channel by channel ---- */

static void open_channel(struct peer *p, uint32_t id)
{
	chan_reset(&p->ch[id]);
	int r = vmapp_transport_send_open(&p->st, &p->out, id);
	if (r < 0)
		fail("can not open channel %u: %s", id, strerror(-r));
}

static void send_wayland(struct peer *p, uint32_t id, const uint32_t *refs, uint32_t n_refs,
			 struct wl_msgs *m)
{
	int r = vmapp_transport_send_wayland(&p->st, &p->out, id, refs, n_refs,
					     vmapp_buf_head(&m->buf),
					     (uint32_t)vmapp_buf_size(&m->buf));
	if (r < 0)
		fail("can not send a WAYLAND frame on channel %u: %s", id, strerror(-r));
}

/* wl_display.get_registry + wl_display.sync on channel `id`, until the
 * callback's done: the channel carries real Wayland both ways. */
static void round_trip(struct peer *p, uint32_t id, const char *what)
{
	struct chan *c = &p->ch[id];
	struct wl_msgs m = { 0 };
	uint32_t registry = c->next_id++, callback = c->next_id++;

	c->registry = registry;
	c->callback = callback;
	c->done = false;
	c->globals = 0;
	c->compositor_name = 0;
	wl_begin(&m, 1, VMAPP_REQ_WL_DISPLAY_GET_REGISTRY);
	wl_word(&m, registry);
	wl_end(&m);
	wl_begin(&m, 1, VMAPP_REQ_WL_DISPLAY_SYNC);
	wl_word(&m, callback);
	wl_end(&m);
	send_wayland(p, id, NULL, 0, &m);
	vmapp_buf_finish(&m.buf);

	int64_t deadline = now_ms() + TIMEOUT_MS;
	while (!c->done && !c->host_closed && !c->wl_error && !broken(p))
		if (!step(p, deadline))
			fail("%s: no wl_callback.done on channel %u in %d ms", what, id,
			     TIMEOUT_MS);
	check_sane(p, what);
	if (c->wl_error)
		fail("%s: channel %u got wl_display.error code %u '%s'", what, id,
		     c->wl_error_code, c->wl_error_text);
	if (c->host_closed)
		fail("%s: the host closed channel %u (reason %u)", what, id, c->close_reason);
	if (c->globals == 0 || !c->compositor_name)
		fail("%s: the round trip on channel %u brought %u globals and no wl_compositor",
		     what, id, c->globals);
	note("%s: channel %u round trip done (%u globals)", what, id, c->globals);
}

/* A real shm pool on channel `id`: mirrored on the host in a sealed memfd,
 * filled by an update, handed to the compositor by wl_shm.create_pool.  The
 * proxy must free it with its channel or its stream. */
static void setup_pool(struct peer *p, uint32_t id, uint32_t ref)
{
	struct chan *c = &p->ch[id];
	if (!c->shm_name)
		fail("setup: no wl_shm global on channel %u", id);
	int r = vmapp_transport_send_shm_create(&p->st, &p->out, id, ref, POOL_SIZE);
	if (r < 0)
		fail("setup: SHM_CREATE: %s", strerror(-r));
	uint8_t pixels[POOL_SIZE];
	memset(pixels, 0x5a, sizeof(pixels));
	r = vmapp_transport_send_shm_update(&p->st, &p->out, id, ref, 0, pixels, POOL_SIZE);
	if (r < 0)
		fail("setup: SHM_UPDATE: %s", strerror(-r));

	struct wl_msgs m = { 0 };
	uint32_t shm = c->next_id++, pool = c->next_id++;
	wl_begin(&m, c->registry, VMAPP_REQ_WL_REGISTRY_BIND);
	wl_word(&m, c->shm_name);
	wl_string(&m, "wl_shm");
	wl_word(&m, 1);
	wl_word(&m, shm);
	wl_end(&m);
	send_wayland(p, id, NULL, 0, &m);
	wl_reset(&m);
	wl_begin(&m, shm, VMAPP_REQ_WL_SHM_CREATE_POOL);
	wl_word(&m, pool);
	wl_word(&m, POOL_SIZE); /* the fd goes as ref, out of band */
	wl_end(&m);
	send_wayland(p, id, &ref, 1, &m);
	vmapp_buf_finish(&m.buf);
	round_trip(p, id, "setup: the pool reached the compositor");
}

/* Closes every channel our state has open, in order, and waits for each
 * CLOSE to be answered. */
static void close_all(struct peer *p)
{
	for (uint32_t id = 1; id <= MAX_CH; id++) {
		if (vmapp_transport_channel_state(&p->st, id) != VMAPP_TRANSPORT_CHANNEL_OPEN)
			continue;
		if (vmapp_transport_send_close(&p->st, &p->out, id, VMAPP_TRANSPORT_REASON_NORMAL) < 0)
			fail("can not close channel %u", id);
	}
	flush(p);
	int64_t deadline = now_ms() + TIMEOUT_MS;
	for (uint32_t id = 1; id <= MAX_CH; id++)
		while (vmapp_transport_channel_state(&p->st, id) != VMAPP_TRANSPORT_CHANNEL_FREE &&
		       !broken(p))
			if (!step(p, deadline))
				fail("the host never answered our CLOSE of channel %u", id);
	check_sane(p, "orderly close");
}

/* The proxy still serves: a new stream, a channel, a round trip, an
 * orderly end. */
static bool fresh_connection(const char *path)
{
	static struct peer q;
	const char *no = getenv("VMAPP_PEER_NO_RECONNECT");
	if (no && !strcmp(no, "1"))
		return false;
	peer_init(&q);
	peer_handshake(&q, path);
	open_channel(&q, CH_A);
	round_trip(&q, CH_A, "after: a new connection");
	close_all(&q);
	peer_finish(&q);
	return true;
}

/* The name the compositor itself gives a global the proxy hides: found on
 * a direct connection, as any client of the host could. */
static uint32_t hidden_global_name(void)
{
	const char *display = getenv("WAYLAND_DISPLAY");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (!display || !*display)
		return 0;
	if (display[0] == '/')
		snprintf(path, sizeof(path), "%s", display);
	else if (runtime)
		snprintf(path, sizeof(path), "%s/%s", runtime, display);
	else
		return 0;
	int fd = vmapp_unix_connect(path);
	if (fd < 0)
		return 0;
	struct wl_msgs m = { 0 };
	wl_begin(&m, 1, VMAPP_REQ_WL_DISPLAY_GET_REGISTRY);
	wl_word(&m, 2);
	wl_end(&m);
	wl_begin(&m, 1, VMAPP_REQ_WL_DISPLAY_SYNC);
	wl_word(&m, 3);
	wl_end(&m);
	ssize_t w = write(fd, vmapp_buf_head(&m.buf), vmapp_buf_size(&m.buf));
	vmapp_buf_finish(&m.buf);
	uint32_t name = 0;
	static uint8_t buf[65536];
	size_t have = 0;
	bool done = false;
	int64_t deadline = now_ms() + 5000;
	while (w > 0 && !done && now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r <= 0)
			break;
		have += (size_t)r;
		size_t at = 0;
		while (at + 8 <= have) {
			uint32_t id = wl_u32(buf + at), len = wl_u32(buf + at + 4) >> 16;
			uint32_t opcode = wl_u32(buf + at + 4) & 0xffff;
			if (len < 8 || at + len > have)
				break;
			if (id == 2 && opcode == VMAPP_EVT_WL_REGISTRY_GLOBAL && len >= 20) {
				uint32_t slen = wl_u32(buf + at + 12);
				if (slen == sizeof(HIDDEN_INTERFACE) && len >= 16 + slen &&
				    !memcmp(buf + at + 16, HIDDEN_INTERFACE, slen))
					name = wl_u32(buf + at + 8);
			}
			if (id == 3)
				done = true;
			at += len;
		}
		memmove(buf, buf + at, have - at);
		have -= at;
	}
	close(fd);
	return name;
}

/* ---- the attacks: each queues its frames on p->out ---- */

static void raw(struct peer *p, uint32_t channel, uint16_t kind, uint16_t flags,
		const void *payload, size_t len)
{
	if (vmapp_transport_append_frame(&p->out, channel, kind, flags, payload, len) < 0)
		fail("out of memory");
}

/* A header only: what follows it never comes, or comes as another frame. */
static void raw_header(struct peer *p, uint32_t channel, uint16_t kind, uint16_t flags,
		       uint32_t length)
{
	uint8_t h[12];
	put32(h, channel);
	h[4] = (uint8_t)kind;
	h[5] = (uint8_t)(kind >> 8);
	h[6] = (uint8_t)flags;
	h[7] = (uint8_t)(flags >> 8);
	put32(h + 8, length);
	if (vmapp_buf_append(&p->out, h, sizeof(h)) < 0)
		fail("out of memory");
}

static void raw_ref_size(struct peer *p, uint32_t ch, uint16_t kind, uint32_t ref, uint64_t size)
{
	uint8_t b[12];
	put32(b, ref);
	put64(b + 4, size);
	raw(p, ch, kind, 0, b, sizeof(b));
}

static void raw_u32(struct peer *p, uint32_t ch, uint16_t kind, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	raw(p, ch, kind, 0, b, sizeof(b));
}

/* A WAYLAND frame: n_fds, refs, then these bytes. */
static void raw_wayland(struct peer *p, uint32_t ch, const uint32_t *refs, uint32_t n_refs,
			const void *bytes, size_t len)
{
	uint8_t *b = malloc(4 + 4 * (size_t)n_refs + len);
	if (!b)
		fail("out of memory");
	put32(b, n_refs);
	for (uint32_t i = 0; i < n_refs; i++)
		put32(b + 4 + 4 * i, refs[i]);
	if (len)
		memcpy(b + 4 + 4 * n_refs, bytes, len);
	raw(p, ch, VMAPP_TRANSPORT_WAYLAND, 0, b, 4 + 4 * n_refs + len);
	free(b);
}

static void sync_message(struct peer *p, uint32_t ch, uint8_t out[12])
{
	uint32_t words[3] = { 1, 12u << 16 | VMAPP_REQ_WL_DISPLAY_SYNC, p->ch[ch].next_id++ };
	memcpy(out, words, 12);
}

static void hello_payload(uint8_t b[24], uint32_t magic, uint32_t version, uint32_t max_payload)
{
	put32(b, magic);
	put32(b + 4, version);
	put32(b + 8, max_payload);
	put32(b + 12, VMAPP_TRANSPORT_DEFAULT_CHANNELS);
	put32(b + 16, VMAPP_TRANSPORT_DEFAULT_CREDIT);
	put32(b + 20, 0);
}

/* The attacked channel's frames from now on bypass our state. */
static void go_raw(struct peer *p, uint32_t ch)
{
	p->ch[ch].raw = true;
}

/* -- connection level -- */

static void first_hello_magic(struct peer *p)
{
	uint8_t b[24];
	hello_payload(b, VMAPP_TRANSPORT_MAGIC ^ 0x01000000u, 1, VMAPP_TRANSPORT_MAX_PAYLOAD);
	raw(p, 0, VMAPP_TRANSPORT_HELLO, 0, b, 20);
}

static void first_hello_version(struct peer *p)
{
	uint8_t b[24];
	hello_payload(b, VMAPP_TRANSPORT_MAGIC, 2, VMAPP_TRANSPORT_MAX_PAYLOAD);
	raw(p, 0, VMAPP_TRANSPORT_HELLO, 0, b, 20);
}

static void first_hello_size(struct peer *p)
{
	uint8_t b[24];
	hello_payload(b, VMAPP_TRANSPORT_MAGIC, 1, VMAPP_TRANSPORT_MAX_PAYLOAD);
	raw(p, 0, VMAPP_TRANSPORT_HELLO, 0, b, 24);
}

static void first_hello_limits(struct peer *p)
{
	uint8_t b[24];
	hello_payload(b, VMAPP_TRANSPORT_MAGIC, 1, 4096); /* under MIN_PAYLOAD */
	raw(p, 0, VMAPP_TRANSPORT_HELLO, 0, b, 20);
}

/* Frames before HELLO: an OPEN, then the HELLO it should have waited for. */
static void first_open_before_hello(struct peer *p)
{
	raw(p, 1, VMAPP_TRANSPORT_OPEN, 0, NULL, 0);
	if (vmapp_transport_send_hello(&p->st, &p->out) < 0)
		fail("vmapp_transport_send_hello");
}

static void first_wayland_before_hello(struct peer *p)
{
	uint32_t words[3] = { 1, 12u << 16 | VMAPP_REQ_WL_DISPLAY_SYNC, 2 };
	raw_wayland(p, 1, NULL, 0, words, sizeof(words));
	if (vmapp_transport_send_hello(&p->st, &p->out) < 0)
		fail("vmapp_transport_send_hello");
}

static void attack_hello_duplicate(struct peer *p, uint32_t ch)
{
	uint8_t b[24];
	hello_payload(b, VMAPP_TRANSPORT_MAGIC, 1, VMAPP_TRANSPORT_MAX_PAYLOAD);
	raw(p, 0, VMAPP_TRANSPORT_HELLO, 0, b, 20);
}

/* Longer than max_payload: only the header goes, and the proxy must not
 * wait for (or buffer) the payload it announces. */
static void attack_frame_too_large(struct peer *p, uint32_t ch)
{
	raw_header(p, CH_A, VMAPP_TRANSPORT_WAYLAND, 0, VMAPP_TRANSPORT_MAX_PAYLOAD + 1);
}

static void attack_frame_length_ffffffff(struct peer *p, uint32_t ch)
{
	raw_header(p, CH_A, VMAPP_TRANSPORT_SHM_UPDATE, 0, 0xffffffffu);
}

static void attack_frame_flags(struct peer *p, uint32_t ch)
{
	uint8_t b[4];
	put32(b, 4096);
	raw(p, CH_A, VMAPP_TRANSPORT_CREDIT, 0x8000, b, 4);
}

static void attack_kind_unknown_control(struct peer *p, uint32_t ch)
{
	raw(p, 0, 0x0f, 0, NULL, 0);
}

static void attack_kind_wrong_channel_control(struct peer *p, uint32_t ch)
{
	raw(p, 0, VMAPP_TRANSPORT_OPEN, 0, NULL, 0);
}

static void attack_payload_size_control(struct peer *p, uint32_t ch)
{
	uint8_t b[8] = { 0 };
	raw(p, 0, VMAPP_TRANSPORT_EXIT, 0, b, 7);
}

static void attack_channel_out_of_range(struct peer *p, uint32_t ch)
{
	raw(p, p->st.n_channels + 1, VMAPP_TRANSPORT_OPEN, 0, NULL, 0);
}

static void attack_channel_ffffffff(struct peer *p, uint32_t ch)
{
	uint8_t msg[12];
	sync_message(p, CH_A, msg);
	raw_wayland(p, 0xffffffffu, NULL, 0, msg, sizeof(msg));
}

static void attack_run_from_guest(struct peer *p, uint32_t ch)
{
	uint8_t b[12 + 5];
	put32(b, 1);
	put32(b + 4, 1);
	put32(b + 8, 0);
	memcpy(b + 12, "true", 5);
	raw(p, 0, VMAPP_TRANSPORT_RUN, 0, b, sizeof(b));
}

static void attack_list_apps_from_guest(struct peer *p, uint32_t ch)
{
	raw(p, 0, VMAPP_TRANSPORT_LIST_APPS, 0, NULL, 0);
}

static void attack_exit_unknown_run(struct peer *p, uint32_t ch)
{
	uint8_t b[8];
	put32(b, 77);
	put32(b + 4, 0);
	raw(p, 0, VMAPP_TRANSPORT_EXIT, 0, b, sizeof(b));
}

static void attack_apps_unsolicited(struct peer *p, uint32_t ch)
{
	uint8_t b[4] = { 0 };
	raw(p, 0, VMAPP_TRANSPORT_APPS, 0, b, sizeof(b));
}

/* -- channel level: `ch` is open in our state and in the proxy -- */

static void attack_kind_unknown(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_u32(p, ch, 0x99, 0);
}

static void attack_kind_wrong_channel(struct peer *p, uint32_t ch)
{
	uint8_t b[24];
	hello_payload(b, VMAPP_TRANSPORT_MAGIC, 1, VMAPP_TRANSPORT_MAX_PAYLOAD);
	go_raw(p, ch);
	raw(p, ch, VMAPP_TRANSPORT_HELLO, 0, b, 20);
}

static void attack_payload_size(struct peer *p, uint32_t ch)
{
	uint8_t b[12] = { 1 };
	go_raw(p, ch);
	raw(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 0, b, 11);
}

static void attack_open_in_use(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw(p, ch, VMAPP_TRANSPORT_OPEN, 0, NULL, 0);
}

/* OPEN_RAW: the channel was not opened first; this OPEN is the attack. */
static void attack_open_with_payload(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_u32(p, ch, VMAPP_TRANSPORT_OPEN, 0);
}

static void pool(struct peer *p, uint32_t ch, uint32_t ref, uint64_t size)
{
	int r = vmapp_transport_send_shm_create(&p->st, &p->out, ch, ref, size);
	if (r < 0)
		fail("SHM_CREATE ref %u size %" PRIu64 ": %s", ref, size, strerror(-r));
}

static void attack_shm_update_outside(struct peer *p, uint32_t ch)
{
	pool(p, ch, 1, 4096);
	uint8_t b[12 + 200];
	memset(b, 0xee, sizeof(b));
	put32(b, 1);
	put64(b + 4, 4000); /* 4000 + 200 > 4096 */
	go_raw(p, ch);
	raw(p, ch, VMAPP_TRANSPORT_SHM_UPDATE, 0, b, sizeof(b));
}

static void attack_shm_update_wrap(struct peer *p, uint32_t ch)
{
	pool(p, ch, 1, 4096);
	uint8_t b[12 + 512];
	memset(b, 0xee, sizeof(b));
	put32(b, 1);
	put64(b + 4, UINT64_C(0xffffffffffffff00)); /* + 512 wraps 64 bits */
	go_raw(p, ch);
	raw(p, ch, VMAPP_TRANSPORT_SHM_UPDATE, 0, b, sizeof(b));
}

static void attack_shm_size_zero(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 1, 0);
}

static void attack_shm_size_over_int32(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 1, UINT64_C(0x80000000));
}

static void attack_shm_size_u64_max(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 1, UINT64_MAX);
}

/* 3 pools of 2 GiB - 1: the third passes the 4 GiB of the connection. */
static void attack_limit_shm(struct peer *p, uint32_t ch)
{
	pool(p, ch, 1, VMAPP_TRANSPORT_MAX_POOL);
	pool(p, ch, 2, VMAPP_TRANSPORT_MAX_POOL);
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 3, VMAPP_TRANSPORT_MAX_POOL);
}

/* The same, the first two pools on channel 1: the limit is the
 * connection's, so the third pool costs the channel it was made on. */
static void attack_limit_shm_across(struct peer *p, uint32_t ch)
{
	pool(p, CH_A, 1, VMAPP_TRANSPORT_MAX_POOL);
	pool(p, CH_A, 2, VMAPP_TRANSPORT_MAX_POOL);
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 3, VMAPP_TRANSPORT_MAX_POOL);
}

static void attack_shm_shrink(struct peer *p, uint32_t ch)
{
	pool(p, ch, 1, 8192);
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_RESIZE, 1, 4096);
}

static void attack_credit_overflow(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_u32(p, ch, VMAPP_TRANSPORT_CREDIT, 0xffffffffu);
}

/* Credit we were never owed: nothing was sent to us on the channel yet,
 * so even 1 byte takes us past the window. */
static void attack_credit_overflow_small(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_u32(p, ch, VMAPP_TRANSPORT_CREDIT, 1);
}

static void attack_credit_zero(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_u32(p, ch, VMAPP_TRANSPORT_CREDIT, 0);
}

/*
 * More data frames than the 2 MiB of credit, without waiting for CREDIT:
 * WAYLAND frames of ~1 MiB full of wl_region.add, which the proxy passes
 * to the compositor at its message rate, so the credit they hold is not
 * back before the third frame arrives.  Six frames: even a proxy that
 * returned a whole megabyte at once would see the window passed.
 */
static void attack_credit_exceeded(struct peer *p, uint32_t ch)
{
	struct chan *c = &p->ch[ch];
	round_trip(p, ch, "setup");
	struct wl_msgs m = { 0 };
	uint32_t compositor = c->next_id++, region = c->next_id++;
	wl_begin(&m, c->registry, VMAPP_REQ_WL_REGISTRY_BIND);
	wl_word(&m, c->compositor_name);
	wl_string(&m, "wl_compositor");
	wl_word(&m, c->compositor_version < 4 ? c->compositor_version : 4);
	wl_word(&m, compositor);
	wl_end(&m);
	wl_begin(&m, compositor, VMAPP_REQ_WL_COMPOSITOR_CREATE_REGION);
	wl_word(&m, region);
	wl_end(&m);
	send_wayland(p, ch, NULL, 0, &m);
	round_trip(p, ch, "setup: a region");

	wl_reset(&m);
	uint32_t n = (VMAPP_TRANSPORT_MAX_PAYLOAD - 4) / 24;
	for (uint32_t i = 0; i < n; i++) {
		wl_begin(&m, region, VMAPP_REQ_WL_REGION_ADD);
		wl_word(&m, 0);
		wl_word(&m, 0);
		wl_word(&m, 1);
		wl_word(&m, 1);
		wl_end(&m);
	}
	go_raw(p, ch);
	for (int i = 0; i < 6; i++)
		raw_wayland(p, ch, NULL, 0, vmapp_buf_head(&m.buf), vmapp_buf_size(&m.buf));
	vmapp_buf_finish(&m.buf);
	note("sent 6 WAYLAND frames of %zu bytes (credit: %u)", (size_t)4 + 24 * (size_t)n,
	     p->st.peer.initial_credit);
}

static void attack_ref_unknown(struct peer *p, uint32_t ch)
{
	uint8_t msg[12];
	uint32_t ref = 42;
	sync_message(p, ch, msg);
	go_raw(p, ch);
	raw_wayland(p, ch, &ref, 1, msg, sizeof(msg));
}

static void attack_ref_host_range(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, VMAPP_TRANSPORT_HOST_REF_FIRST + 1, 4096);
}

static void attack_ref_zero(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 0, 4096);
}

static void attack_ref_in_use(struct peer *p, uint32_t ch)
{
	pool(p, ch, 5, 4096);
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, 5, 4096);
}

/* A pipe's ref named by a shm frame. */
static void attack_ref_wrong_type(struct peer *p, uint32_t ch)
{
	int r = vmapp_transport_send_pipe_open(&p->st, &p->out, ch, 6,
					       VMAPP_TRANSPORT_PIPE_FROM_CREATOR);
	if (r < 0)
		fail("PIPE_OPEN: %s", strerror(-r));
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_RESIZE, 6, 8192);
}

/* One ref more than the 1024 live refs a channel may have: 1025 pools of
 * one byte. */
static void attack_limit_refs(struct peer *p, uint32_t ch)
{
	for (uint32_t ref = 1; ref <= VMAPP_TRANSPORT_DEFAULT_REFS; ref++)
		pool(p, ch, ref, 1);
	go_raw(p, ch);
	raw_ref_size(p, ch, VMAPP_TRANSPORT_SHM_CREATE, VMAPP_TRANSPORT_DEFAULT_REFS + 1, 1);
}

/* One pipe named twice by one WAYLAND frame: a pipe becomes one fd. */
static void attack_ref_passed_twice(struct peer *p, uint32_t ch)
{
	int r = vmapp_transport_send_pipe_open(&p->st, &p->out, ch, 6,
					       VMAPP_TRANSPORT_PIPE_FROM_CREATOR);
	if (r < 0)
		fail("PIPE_OPEN: %s", strerror(-r));
	uint32_t refs[2] = { 6, 6 };
	uint8_t msg[12];
	sync_message(p, ch, msg);
	go_raw(p, ch);
	raw_wayland(p, ch, refs, 2, msg, sizeof(msg));
}

static void attack_pipe_direction(struct peer *p, uint32_t ch)
{
	uint8_t b[5];
	put32(b, 6);
	b[4] = 2;
	go_raw(p, ch);
	raw(p, ch, VMAPP_TRANSPORT_PIPE_OPEN, 0, b, sizeof(b));
}

/* A wl_display.sync cut after its header: 8 of its 12 bytes. */
static void attack_wayland_partial(struct peer *p, uint32_t ch)
{
	uint8_t msg[12];
	sync_message(p, ch, msg);
	go_raw(p, ch);
	raw_wayland(p, ch, NULL, 0, msg, 8);
}

static void attack_wayland_unaligned(struct peer *p, uint32_t ch)
{
	uint32_t words[4] = { 1, 14u << 16 | VMAPP_REQ_WL_DISPLAY_SYNC, 9, 0 };
	go_raw(p, ch);
	raw_wayland(p, ch, NULL, 0, words, 14);
}

static void attack_wayland_empty(struct peer *p, uint32_t ch)
{
	go_raw(p, ch);
	raw_wayland(p, ch, NULL, 0, NULL, 0);
}

static void attack_fd_count_over_limit(struct peer *p, uint32_t ch)
{
	uint32_t refs[29];
	uint8_t msg[12];
	for (uint32_t i = 0; i < 29; i++)
		refs[i] = i + 1;
	sync_message(p, ch, msg);
	go_raw(p, ch);
	raw_wayland(p, ch, refs, 29, msg, sizeof(msg));
}

static void attack_fd_content_from_guest(struct peer *p, uint32_t ch)
{
	uint8_t b[20 + 4];
	put32(b, 1);
	put64(b + 4, 4);
	put64(b + 12, 0);
	memcpy(b + 20, "data", 4);
	go_raw(p, ch);
	raw(p, ch, VMAPP_TRANSPORT_FD_CONTENT, 0, b, sizeof(b));
}

/* Well-formed frames with a Wayland message the validator refuses: the
 * channel stays in our state; the proxy's wl_display.error comes back in a
 * WAYLAND frame before its CLOSE. */
static void attack_bind_hidden_global(struct peer *p, uint32_t ch)
{
	struct chan *c = &p->ch[ch];
	uint32_t name = hidden_global_name();
	round_trip(p, ch, "setup");
	if (!name)
		name = 0xdead; /* no compositor to ask: any name it did not advertise */
	note("binding %s, compositor name %u", HIDDEN_INTERFACE, name);
	struct wl_msgs m = { 0 };
	wl_begin(&m, c->registry, VMAPP_REQ_WL_REGISTRY_BIND);
	wl_word(&m, name);
	wl_string(&m, HIDDEN_INTERFACE);
	wl_word(&m, 1);
	wl_word(&m, c->next_id++);
	wl_end(&m);
	send_wayland(p, ch, NULL, 0, &m);
	vmapp_buf_finish(&m.buf);
}

static void attack_object_unknown(struct peer *p, uint32_t ch)
{
	struct wl_msgs m = { 0 };
	wl_begin(&m, 77, 0);
	wl_end(&m);
	send_wayland(p, ch, NULL, 0, &m);
	vmapp_buf_finish(&m.buf);
}

/* -- nothing: frames on ids that are not open -- */

static void attack_wayland_not_open(struct peer *p, uint32_t ch)
{
	uint8_t msg[12];
	sync_message(p, CH_UNUSED, msg);
	raw_wayland(p, CH_UNUSED, NULL, 0, msg, sizeof(msg));
}

static void attack_close_not_open(struct peer *p, uint32_t ch)
{
	raw_u32(p, CH_UNUSED, VMAPP_TRANSPORT_CLOSE, 0);
}

/* -- cut and peer error -- */

/* Half of a WAYLAND frame (its header and 10 of its 16 payload bytes). */
static void attack_cut_mid_frame(struct peer *p, uint32_t ch)
{
	uint8_t msg[12];
	sync_message(p, CH_A, msg);
	raw_wayland(p, CH_A, NULL, 0, msg, sizeof(msg));
	p->out.len -= 6;
}

static void attack_cut_mid_header(struct peer *p, uint32_t ch)
{
	raw_header(p, CH_A, VMAPP_TRANSPORT_WAYLAND, 0, 16);
	p->out.len -= 6;
}

static void attack_guest_error(struct peer *p, uint32_t ch)
{
	static const char text[] = "hostile-peer: a test of the ERROR path";
	uint8_t b[4 + sizeof(text)];
	put32(b, VMAPP_TRANSPORT_REASON_INTERNAL);
	memcpy(b + 4, text, sizeof(text));
	raw(p, 0, VMAPP_TRANSPORT_ERROR, 0, b, sizeof(b));
}

/* ---- the scenarios ---- */

enum cost { COST_CHANNEL, COST_CONNECTION, COST_NOTHING, COST_CUT, COST_PEER_ERROR, COST_BOUNDED };

static const char *const cost_names[] = {
	[COST_CHANNEL] = "channel",
	[COST_CONNECTION] = "connection",
	[COST_NOTHING] = "nothing",
	[COST_CUT] = "cut",
	[COST_PEER_ERROR] = "peer-error",
	[COST_BOUNDED] = "bounded",
};

enum {
	NO_POOL = 1 << 0,  /* no shm pool on channel 1 first (the shm limit scenarios) */
	OPEN_RAW = 1 << 1, /* the attack is the attacked channel's OPEN */
	WAYLAND = 1 << 2,  /* refused by the validator: a wl_display.error comes first */
};

struct scenario {
	const char *name;
	enum cost cost;
	const char *rule; /* the rule the proxy must name */
	uint32_t reason;  /* of its CLOSE, or the code of its ERROR */
	unsigned flags;
	void (*attack)(struct peer *p, uint32_t ch);
	void (*first)(struct peer *p); /* instead of our HELLO */
	const char *log;  /* the proxy's log line (an extended regex, after "NAME: ") */
};

#define PROTO VMAPP_TRANSPORT_REASON_PROTOCOL
#define LIMIT VMAPP_TRANSPORT_REASON_LIMIT
#define VERSION VMAPP_TRANSPORT_REASON_VERSION
#define WL VMAPP_TRANSPORT_REASON_WAYLAND

static const struct scenario scenarios[] = {
	/* framing and the handshake: the connection */
	{ "frame-too-large", COST_CONNECTION, "frame-too-large", PROTO, 0,
	  attack_frame_too_large, NULL, "connection lost: frame-too-large" },
	{ "frame-length-ffffffff", COST_CONNECTION, "frame-too-large", PROTO, 0,
	  attack_frame_length_ffffffff, NULL, "connection lost: frame-too-large" },
	{ "frame-flags", COST_CONNECTION, "frame-flags", PROTO, 0,
	  attack_frame_flags, NULL, "connection lost: frame-flags" },
	{ "before-hello-open", COST_CONNECTION, "handshake-missing", PROTO, 0,
	  NULL, first_open_before_hello, "connection lost: handshake-missing" },
	{ "before-hello-wayland", COST_CONNECTION, "handshake-missing", PROTO, 0,
	  NULL, first_wayland_before_hello, "connection lost: handshake-missing" },
	{ "hello-magic", COST_CONNECTION, "hello-magic", VERSION, 0,
	  NULL, first_hello_magic, "connection lost: hello-magic" },
	{ "hello-version", COST_CONNECTION, "hello-version", VERSION, 0,
	  NULL, first_hello_version, "connection lost: hello-version" },
	{ "hello-size", COST_CONNECTION, "hello-size", PROTO, 0,
	  NULL, first_hello_size, "connection lost: hello-size" },
	{ "hello-limits", COST_CONNECTION, "hello-limits", PROTO, 0,
	  NULL, first_hello_limits, "connection lost: hello-limits" },
	{ "hello-duplicate", COST_CONNECTION, "hello-duplicate", PROTO, 0,
	  attack_hello_duplicate, NULL, "connection lost: hello-duplicate" },
	{ "channel-out-of-range", COST_CONNECTION, "channel-out-of-range", PROTO, 0,
	  attack_channel_out_of_range, NULL, "connection lost: channel-out-of-range" },
	{ "channel-ffffffff", COST_CONNECTION, "channel-out-of-range", PROTO, 0,
	  attack_channel_ffffffff, NULL, "connection lost: channel-out-of-range" },
	/* channel 0: every refusal costs the connection */
	{ "control-kind-unknown", COST_CONNECTION, "kind-unknown", PROTO, 0,
	  attack_kind_unknown_control, NULL, "connection lost: kind-unknown" },
	{ "control-open", COST_CONNECTION, "kind-wrong-channel", PROTO, 0,
	  attack_kind_wrong_channel_control, NULL, "connection lost: kind-wrong-channel" },
	{ "control-payload-size", COST_CONNECTION, "payload-size", PROTO, 0,
	  attack_payload_size_control, NULL, "connection lost: payload-size" },
	{ "run-from-guest", COST_CONNECTION, "kind-wrong-direction", PROTO, 0,
	  attack_run_from_guest, NULL, "connection lost: kind-wrong-direction" },
	{ "list-apps-from-guest", COST_CONNECTION, "kind-wrong-direction", PROTO, 0,
	  attack_list_apps_from_guest, NULL, "connection lost: kind-wrong-direction" },
	{ "exit-unknown-run", COST_CONNECTION, "run-unknown", PROTO, 0,
	  attack_exit_unknown_run, NULL, "connection lost: run-unknown" },
	{ "apps-unsolicited", COST_CONNECTION, "apps-unsolicited", PROTO, 0,
	  attack_apps_unsolicited, NULL, "connection lost: apps-unsolicited" },
	/* a client channel: that channel */
	{ "kind-unknown", COST_CHANNEL, "kind-unknown", PROTO, 0,
	  attack_kind_unknown, NULL, "channel [0-9]+: \\? refused: kind-unknown" },
	{ "kind-wrong-channel", COST_CHANNEL, "kind-wrong-channel", PROTO, 0,
	  attack_kind_wrong_channel, NULL, "channel [0-9]+: HELLO refused: kind-wrong-channel" },
	{ "fd-content-from-guest", COST_CHANNEL, "kind-wrong-direction", PROTO, 0,
	  attack_fd_content_from_guest, NULL,
	  "channel [0-9]+: FD_CONTENT refused: kind-wrong-direction" },
	{ "payload-size", COST_CHANNEL, "payload-size", PROTO, 0,
	  attack_payload_size, NULL, "channel [0-9]+: SHM_CREATE refused: payload-size" },
	{ "open-in-use", COST_CHANNEL, "channel-in-use", PROTO, 0,
	  attack_open_in_use, NULL, "channel [0-9]+: OPEN refused: channel-in-use" },
	{ "open-with-payload", COST_CHANNEL, "payload-size", PROTO, OPEN_RAW,
	  attack_open_with_payload, NULL, "channel [0-9]+: OPEN refused: payload-size" },
	{ "shm-update-outside-pool", COST_CHANNEL, "shm-update-outside-pool", PROTO, 0,
	  attack_shm_update_outside, NULL,
	  "channel [0-9]+: SHM_UPDATE refused: shm-update-outside-pool" },
	{ "shm-update-wrap", COST_CHANNEL, "shm-update-outside-pool", PROTO, 0,
	  attack_shm_update_wrap, NULL,
	  "channel [0-9]+: SHM_UPDATE refused: shm-update-outside-pool" },
	{ "shm-size-zero", COST_CHANNEL, "shm-size", PROTO, 0,
	  attack_shm_size_zero, NULL, "channel [0-9]+: SHM_CREATE refused: shm-size" },
	{ "shm-size-over-int32", COST_CHANNEL, "shm-size", PROTO, 0,
	  attack_shm_size_over_int32, NULL, "channel [0-9]+: SHM_CREATE refused: shm-size" },
	{ "shm-size-u64-max", COST_CHANNEL, "shm-size", PROTO, 0,
	  attack_shm_size_u64_max, NULL, "channel [0-9]+: SHM_CREATE refused: shm-size" },
	{ "limit-shm", COST_CHANNEL, "limit-shm", LIMIT, NO_POOL,
	  attack_limit_shm, NULL, "channel [0-9]+: SHM_CREATE refused: limit-shm" },
	{ "limit-shm-across-channels", COST_CHANNEL, "limit-shm", LIMIT, NO_POOL,
	  attack_limit_shm_across, NULL, "channel [0-9]+: SHM_CREATE refused: limit-shm" },
	{ "shm-shrink", COST_CHANNEL, "shm-shrink", PROTO, 0,
	  attack_shm_shrink, NULL, "channel [0-9]+: SHM_RESIZE refused: shm-shrink" },
	{ "credit-exceeded", COST_CHANNEL, "credit-exceeded", PROTO, 0,
	  attack_credit_exceeded, NULL, "channel [0-9]+: WAYLAND refused: credit-exceeded" },
	{ "credit-overflow", COST_CHANNEL, "credit-overflow", PROTO, 0,
	  attack_credit_overflow, NULL, "channel [0-9]+: CREDIT refused: credit-overflow" },
	{ "credit-overflow-unowed", COST_CHANNEL, "credit-overflow", PROTO, 0,
	  attack_credit_overflow_small, NULL, "channel [0-9]+: CREDIT refused: credit-overflow" },
	{ "credit-zero", COST_CHANNEL, "credit-zero", PROTO, 0,
	  attack_credit_zero, NULL, "channel [0-9]+: CREDIT refused: credit-zero" },
	{ "ref-unknown", COST_CHANNEL, "ref-unknown", PROTO, 0,
	  attack_ref_unknown, NULL, "channel [0-9]+: WAYLAND refused: ref-unknown" },
	{ "ref-host-range", COST_CHANNEL, "ref-wrong-range", PROTO, 0,
	  attack_ref_host_range, NULL, "channel [0-9]+: SHM_CREATE refused: ref-wrong-range" },
	{ "ref-zero", COST_CHANNEL, "ref-wrong-range", PROTO, 0,
	  attack_ref_zero, NULL, "channel [0-9]+: SHM_CREATE refused: ref-wrong-range" },
	{ "ref-in-use", COST_CHANNEL, "ref-in-use", PROTO, 0,
	  attack_ref_in_use, NULL, "channel [0-9]+: SHM_CREATE refused: ref-in-use" },
	{ "ref-wrong-type", COST_CHANNEL, "ref-wrong-type", PROTO, 0,
	  attack_ref_wrong_type, NULL, "channel [0-9]+: SHM_RESIZE refused: ref-wrong-type" },
	{ "limit-refs", COST_CHANNEL, "limit-refs", LIMIT, 0,
	  attack_limit_refs, NULL, "channel [0-9]+: SHM_CREATE refused: limit-refs" },
	{ "ref-passed-twice", COST_CHANNEL, "ref-already-passed", PROTO, 0,
	  attack_ref_passed_twice, NULL, "channel [0-9]+: WAYLAND refused: ref-already-passed" },
	{ "pipe-direction", COST_CHANNEL, "pipe-direction", PROTO, 0,
	  attack_pipe_direction, NULL, "channel [0-9]+: PIPE_OPEN refused: pipe-direction" },
	{ "wayland-partial-message", COST_CHANNEL, "wayland-partial-message", PROTO, 0,
	  attack_wayland_partial, NULL,
	  "channel [0-9]+: WAYLAND refused: wayland-partial-message" },
	{ "wayland-unaligned", COST_CHANNEL, "wayland-partial-message", PROTO, 0,
	  attack_wayland_unaligned, NULL,
	  "channel [0-9]+: WAYLAND refused: wayland-partial-message" },
	{ "wayland-empty", COST_CHANNEL, "wayland-partial-message", PROTO, 0,
	  attack_wayland_empty, NULL, "channel [0-9]+: WAYLAND refused: wayland-partial-message" },
	{ "fd-count-over-limit", COST_CHANNEL, "count-over-limit", PROTO, 0,
	  attack_fd_count_over_limit, NULL, "channel [0-9]+: WAYLAND refused: count-over-limit" },
	/* the validator: the channel too, with the Wayland error first */
	{ "bind-hidden-global", COST_CHANNEL, "bind-not-advertised", WL, WAYLAND,
	  attack_bind_hidden_global, NULL,
	  "client [0-9]+: wl_registry\\.bind@[0-9]+: bind-not-advertised" },
	{ "object-unknown", COST_CHANNEL, "object-unknown", WL, WAYLAND,
	  attack_object_unknown, NULL, "client [0-9]+: \\?\\.\\?@77: object-unknown" },
	/* ids that are not open: dropped */
	{ "wayland-not-open", COST_NOTHING, "channel-not-open", 0, 0,
	  attack_wayland_not_open, NULL, "channel 7: WAYLAND dropped: channel-not-open" },
	{ "close-not-open", COST_NOTHING, "channel-not-open", 0, 0,
	  attack_close_not_open, NULL, "channel 7: CLOSE dropped: channel-not-open" },
	/* the stream itself */
	{ "cut-mid-frame", COST_CUT, "-", 0, 0,
	  attack_cut_mid_frame, NULL, "the stream ended inside a frame" },
	{ "cut-mid-header", COST_CUT, "-", 0, 0,
	  attack_cut_mid_header, NULL, "the stream ended inside a frame" },
	{ "unread-answers", COST_BOUNDED, "-", 0, 0,
	  NULL, NULL, "" },
	{ "guest-error", COST_PEER_ERROR, "-", 0, 0,
	  attack_guest_error, NULL,
	  "the peer ended the connection: hostile-peer: a test of the ERROR path \\(code 5\\)" },
};

/* ---- running one ---- */

/* Channel 1 (with a pool the compositor holds) and channel 2, both doing
 * real Wayland, before the attack. */
static void before_attack(struct peer *p, const struct scenario *sc)
{
	open_channel(p, CH_A);
	round_trip(p, CH_A, "before");
	if (!(sc->flags & NO_POOL))
		setup_pool(p, CH_A, POOL_REF);
	if (!(sc->flags & OPEN_RAW)) {
		open_channel(p, CH_B);
		if (sc->cost != COST_CHANNEL)
			round_trip(p, CH_B, "before");
	} else {
		chan_reset(&p->ch[CH_B]);
	}
	flush(p);
	check_sane(p, "before the attack");
}

static void run_channel(struct peer *p, const struct scenario *sc, const char *path)
{
	struct chan *b = &p->ch[CH_B];

	peer_handshake(p, path);
	before_attack(p, sc);
	sc->attack(p, CH_B);
	flush(p);
	note("attack sent on channel %u", CH_B);

	int64_t deadline = now_ms() + CLOSE_TIMEOUT_MS;
	while (!b->host_closed && !broken(p))
		if (!step(p, deadline))
			fail("no CLOSE of channel %u in %d ms (the proxy let the frame through?%s%s)",
			     CH_B, CLOSE_TIMEOUT_MS, b->wl_error ? " a wl_display.error came: " : "",
			     b->wl_error ? b->wl_error_text : "");
	if (p->got_error)
		fail("the proxy ended the whole connection (ERROR code %u '%s'), not the channel",
		     p->error_code, p->error_text);
	check_sane(p, "after the attack");
	note("answer: CLOSE of channel %u, reason %u", CH_B, b->close_reason);
	if (b->credit)
		note("(the proxy had returned %" PRIu64 " bytes of credit on it by then)", b->credit);
	if (b->close_reason != sc->reason)
		fail("channel %u closed with reason %u, not %u as vmapp-transport(7) says for %s",
		     CH_B, b->close_reason, sc->reason, sc->rule);
	if (sc->flags & WAYLAND) {
		if (!b->wl_error)
			fail("no wl_display.error reached the guest client before the CLOSE");
		char want[128];
		snprintf(want, sizeof(want), ": %s", sc->rule);
		size_t n = strlen(b->wl_error_text), w = strlen(want);
		if (n < w || strcmp(b->wl_error_text + n - w, want))
			fail("the wl_display.error says '%s', not the rule %s", b->wl_error_text,
			     sc->rule);
		note("answer: wl_display.error '%s' first", b->wl_error_text);
	} else if (b->wl_error) {
		fail("a wl_display.error ('%s') for a transport rule", b->wl_error_text);
	}
	flush(p);

	/* The others go on: the channel opened before, a new one, and the
	 * attacked id again once the CLOSE handshake freed it. */
	round_trip(p, CH_A, "after");
	open_channel(p, CH_C);
	round_trip(p, CH_C, "after: a new channel");
	if (b->frames_after_close)
		fail("the host sent %u frames on channel %u after its CLOSE", b->frames_after_close,
		     CH_B);
	open_channel(p, CH_B);
	round_trip(p, CH_B, "after: the attacked id again");
	close_all(p);
	peer_finish(p);
}

static void run_connection(struct peer *p, const struct scenario *sc, const char *path)
{
	if (sc->first) {
		peer_connect(p, path, sc->first);
	} else {
		peer_handshake(p, path);
		before_attack(p, sc);
		sc->attack(p, 0);
	}
	flush(p);
	note("attack sent");
	int64_t deadline = now_ms() + TIMEOUT_MS;
	while (!p->eof && !p->host_broke[0])
		if (!step(p, deadline))
			fail("the stream is still open %d ms after the attack (ERROR: %s)",
			     TIMEOUT_MS, p->got_error ? p->error_text : "none");
	if (p->host_broke[0])
		fail("%s", p->host_broke);
	if (!p->got_error)
		fail("the proxy closed the stream without an ERROR");
	note("answer: ERROR code %u '%s', then the end of the stream", p->error_code,
	     p->error_text);
	if (strcmp(p->error_text, sc->rule))
		fail("the ERROR names '%s', not the rule %s", p->error_text, sc->rule);
	if (p->error_code != sc->reason)
		fail("ERROR code %u, not %u", p->error_code, sc->reason);
	if (p->after_error)
		fail("%u frames followed the ERROR", p->after_error);
	peer_finish(p);
	fresh_connection(path);
}

static void run_nothing(struct peer *p, const struct scenario *sc, const char *path)
{
	peer_handshake(p, path);
	before_attack(p, sc);
	sc->attack(p, 0);
	flush(p);
	/* Frames are handled in order: once this round trip is done, the
	 * frame on the id that is not open was handled too. */
	round_trip(p, CH_A, "after");
	round_trip(p, CH_B, "after");
	if (p->ch[CH_UNUSED].frames)
		fail("the host sent %u frames on channel %u, which was never open",
		     p->ch[CH_UNUSED].frames, CH_UNUSED);
	note("answer: nothing (no frame on channel %u, no ERROR)", CH_UNUSED);
	close_all(p);
	peer_finish(p);
}

static void run_cut(struct peer *p, const struct scenario *sc, const char *path)
{
	peer_handshake(p, path);
	before_attack(p, sc);
	sc->attack(p, 0);
	flush(p);
	check_sane(p, "before the cut");
	note("half a frame sent; closing the stream");
	peer_finish(p);
	note("answer: none to give (the stream is gone)%s",
	     fresh_connection(path) ? "; a new connection works" : "");
}

static void run_peer_error(struct peer *p, const struct scenario *sc, const char *path)
{
	peer_handshake(p, path);
	before_attack(p, sc);
	sc->attack(p, 0);
	flush(p);
	int64_t deadline = now_ms() + TIMEOUT_MS;
	while (!p->eof && !p->host_broke[0])
		if (!step(p, deadline))
			fail("the stream is still open %d ms after our ERROR", TIMEOUT_MS);
	if (p->host_broke[0])
		fail("%s", p->host_broke);
	if (p->got_error)
		fail("the proxy answered our ERROR with one of its own (%s)", p->error_text);
	note("answer: the stream closed, no ERROR back");
	peer_finish(p);
	fresh_connection(path);
}

static uint64_t proxy_rss_kib(void)
{
	const char *pid = getenv("VMAPP_PROXY_PID");
	char path[64], line[256];
	uint64_t kib = 0;
	if (!pid || !*pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %" SCNu64, &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/*
 * A guest that writes and never reads: pipes opened and ended, each of
 * which the proxy answers with a PIPE_CANCEL, so its answers pile up on
 * its side of the stream.  The spec bounds what a receiver holds of the
 * peer's data frames; what it holds of its own unsent frames must be
 * bounded too (it may stop reading the stream, or end it), or a guest
 * makes the proxy's memory grow without end.  With VMAPP_PROXY_PID set,
 * the proxy's resident memory is compared before and after.
 */
#define FLOOD_CYCLES 1000000u
#define FLOOD_GROWTH_MAX_KIB (8u * 1024u)

static void run_bounded(struct peer *p, const struct scenario *sc, const char *path)
{
	struct chan *b = &p->ch[CH_B];
	uint64_t cancels = 0, written = 0;
	peer_handshake(p, path);
	before_attack(p, sc);
	flush(p);
	uint64_t rss_before = proxy_rss_kib();
	go_raw(p, CH_B);

	bool stalled = false;
	uint32_t ref = 1;
	while (ref <= FLOOD_CYCLES && !stalled) {
		for (int i = 0; i < 4096 && ref <= FLOOD_CYCLES; i++, ref++) {
			uint8_t open_payload[5];
			put32(open_payload, ref);
			open_payload[4] = VMAPP_TRANSPORT_PIPE_FROM_CREATOR;
			raw(p, CH_B, VMAPP_TRANSPORT_PIPE_OPEN, 0, open_payload, 5);
			raw_u32(p, CH_B, VMAPP_TRANSPORT_PIPE_END, ref);
		}
		/* Write without reading a byte. */
		while (vmapp_buf_size(&p->out) > 0) {
			struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };
			if (poll(&pfd, 1, 3000) == 0) {
				stalled = true;
				break;
			}
			ssize_t w = write(p->fd, vmapp_buf_head(&p->out), vmapp_buf_size(&p->out));
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				fail("write: %s (the proxy closed the stream?)", strerror(errno));
			if (w > 0) {
				vmapp_buf_consume(&p->out, (size_t)w);
				written += (uint64_t)w;
			}
		}
	}
	uint64_t rss_after = proxy_rss_kib();
	note("wrote %" PRIu64 " bytes (%u pipes opened and ended) without reading%s", written,
	     ref - 1, stalled ? "; then the proxy stopped reading (back-pressure)" : "");
	if (rss_before && rss_after)
		note("the proxy's resident memory: %" PRIu64 " KiB before, %" PRIu64 " KiB after",
		     rss_before, rss_after);

	/* Now read everything it answered. */
	int64_t deadline = now_ms() + 60000;
	uint64_t want = stalled ? 0 : ref - 1;
	p->out.start = p->out.len = 0;
	while (!broken(p)) {
		cancels = b->frames;
		if (want && cancels >= want)
			break;
		if (!step(p, deadline)) {
			if (!want)
				break;
			fail("only %" PRIu64 " of %" PRIu64 " answers came", cancels, want);
		}
	}
	check_sane(p, "after the flood");
	note("answer: %" PRIu64 " frames on channel %u", cancels, CH_B);
	if (rss_before && rss_after > rss_before + FLOOD_GROWTH_MAX_KIB)
		fail("the proxy's memory grew by %" PRIu64 " KiB while the guest did not read: "
		     "its unsent answers are not bounded",
		     rss_after - rss_before);
	b->raw = false;
	round_trip(p, CH_A, "after");
	peer_finish(p);
	fresh_connection(path);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: hostile-peer SOCKET SCENARIO\n"
		   "       hostile-peer list\n");
}

int main(int argc, char *argv[])
{
	static struct peer peer; /* large: not on the stack */

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			printf("%s\t%s\t%s\t%s\n", scenarios[i].name, cost_names[scenarios[i].cost],
			       scenarios[i].rule, scenarios[i].log);
		return 0;
	}
	if (argc != 3) {
		usage(stderr);
		return 2;
	}
	const struct scenario *sc = NULL;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(argv[2], scenarios[i].name))
			sc = &scenarios[i];
	if (!sc) {
		fprintf(stderr, "hostile-peer: no scenario %s\n", argv[2]);
		usage(stderr);
		return 2;
	}
	scenario_name = sc->name;
	peer_init(&peer);
	switch (sc->cost) {
	case COST_CHANNEL:
		run_channel(&peer, sc, argv[1]);
		break;
	case COST_CONNECTION:
		run_connection(&peer, sc, argv[1]);
		break;
	case COST_NOTHING:
		run_nothing(&peer, sc, argv[1]);
		break;
	case COST_CUT:
		run_cut(&peer, sc, argv[1]);
		break;
	case COST_PEER_ERROR:
		run_peer_error(&peer, sc, argv[1]);
		break;
	case COST_BOUNDED:
		run_bounded(&peer, sc, argv[1]);
		break;
	}
	printf("%s: PASS (%s, %s)\n", sc->name, cost_names[sc->cost], sc->rule);
	return 0;
}
