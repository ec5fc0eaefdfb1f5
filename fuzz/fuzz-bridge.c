/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the transport bridge (proxy/bridge.c) as vmapp-proxy --accept
 * runs it: a host-role bridge on one end of a socketpair, the input being
 * the byte stream a hostile guest sends.  The target plays the two peers
 * the bridge has: the guest at the other end of the stream (the input,
 * written in chunks where the input says, so that frames arrive in parts,
 * and optionally the guest's answers to what the bridge sends), and the
 * relay behind each channel (one socketpair per channel, whose far end the
 * target reads, answering a few requests with canned events so that the
 * host-to-guest direction runs too).  Everything is local sockets and
 * pipes, driven by vmapp_bridge_dispatch until nothing moves: no sleeps,
 * no timing.
 *
 * The validator is not here (it runs in the relay): Wayland bytes are
 * only framed, and refs only resolved.  This target is about the bridge's
 * own state (channels, ops, pools, contents, pipes, credit) and the codec
 * state under it.
 *
 * Input:
 *   byte 0   mode (MODE_*)
 *   byte 1   n: the low 4 bits are how many chunk-size bytes follow
 *   n bytes  chunk sizes, used in turn: b < 128 writes b + 1 bytes, 255 up
 *            to the end of the frame being written, others (b - 127) * 64;
 *            none: one chunk
 *   rest     the stream from the guest (from its HELLO on)
 *
 * The relay answers wl_display.sync(id) with wl_callback.done and
 * wl_display.delete_id, wl_display.get_registry(id) with four globals, and
 * drops the client (closes its socket, as the validator would) on any
 * other request to wl_display.  A write end of a pipe it receives gets a
 * few bytes and is closed (a clipboard source answering); read ends are
 * drained until the end (or closed at once, MODE_DROP_PIPES).  With
 * MODE_EVENTS, every channel it accepts first gets a keymap (a memfd: an
 * FD_CONTENT, host ref 0x80000000), a pipe write end (host ref 0x80000001:
 * the guest writes) and a pipe read end holding data (0x80000002: the
 * host writes).
 *
 * Checked: no fd leaks (the count of /proc/self/fd before and after);
 * every frame the bridge sends decodes cleanly, HELLO first, nothing after
 * an ERROR, none over the guest's max_payload; a frame header the
 * specification says is refused before its payload is buffered (a flag, a
 * length over the host's max_payload) ends the connection as soon as its
 * 12 bytes are in; the Wayland bytes each channel writes are whole
 * messages; every fd it passes is a pool or content memfd sealed against
 * shrinking, or a pipe; the channel count stays within the limit; a
 * closed bridge stays closed; control frames are delivered only as
 * answers (an EXIT to one of the two RUNs the host sends once the
 * handshake is done, OUTPUT of one of them before its EXIT and within its
 * credit, which the host returns at once, APPS to its LIST_APPS; the
 * SIGNAL it sends to run 1 is never answered) and hold what decode
 * promised.
 *
 * SIGPIPE is ignored, as vmapp_accept_run() ignores it: a pipe has no
 * MSG_NOSIGNAL, so a reader gone mid-write must come back as EPIPE and
 * cost the pipe, not the proxy.  MODE_DROP_PIPES and MODE_CLOSE_STREAM
 * make those writes happen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge.h"
#include "buffer.h"
#include "fuzz.h"
#include "transport.h"

/* The guest answers the bridge: CREDIT for each data frame, CLOSE for a
 * CLOSE it did not start, PIPE_CANCEL for PIPE_END and PIPE_END for
 * PIPE_CANCEL.  Answers go in between the input's frames. */
#define MODE_ANSWER 0x01
/* The relay sends a keymap and two pipes on every channel it accepts. */
#define MODE_EVENTS 0x02
/* The relay closes the pipe read ends it receives at once. */
#define MODE_DROP_PIPES 0x04
/* At the end, the relay hangs up every channel. */
#define MODE_HANG_UP_CLIENTS 0x08
/* At the end, the guest shuts its side of the stream down. */
#define MODE_HANG_UP_STREAM 0x10
/* The relay refuses the second channel it is asked to open. */
#define MODE_REFUSE 0x20
/* The guest closes its end as soon as the last chunk is written, before
 * the bridge has read it: the bridge's answers to it meet a closed
 * socket. */
#define MODE_CLOSE_STREAM 0x40

/* Small limits, so that short inputs reach them. */
#define CHANNELS 4u
#define CREDIT 16384u
#define MAX_PAYLOAD 16384u
#define MAX_REFS 8u
#define SHM_BYTES (16u * 1024 * 1024)

/* dispatch/pump rounds before a step is taken as settled */
#define ROUNDS_MAX 64
/* writes of one chunk that found the stream full */
#define STALLS_MAX 8
#define CHUNK_MAX 65536u
/* relay-side pipe ends kept open and drained */
#define HELD_MAX 64
/* pipes whose end the guest's answers remember */
#define ENDED_MAX 64
/* a keymap larger than the least max_payload and credit (8192) */
#define KEYMAP_SIZE 20000u
/* bytes of unparsed requests per channel: a message is at most 4096 */
#define RELAY_IN_MAX 65536u

struct relay_end {
	int fd; /* our end of the channel's socketpair, or -1 */
	struct vmapp_buf in;
	uint32_t serial;
};

struct pipe_ref {
	uint32_t channel, ref;
};

struct fuzz {
	uint8_t mode;
	struct vmapp_bridge *bridge;
	int stream; /* the guest's end, or -1 once MODE_CLOSE_STREAM closed it */
	struct relay_end relay[CHANNELS + 1];
	uint32_t n_opens;
	int held[HELD_MAX];
	size_t n_held;

	/* The input, as the guest writes it. */
	const uint8_t *in;
	size_t in_len, in_off;
	size_t next_frame;   /* where the first frame not walked yet starts: the end of
			      * the frame being written, or in_off between two */
	bool walk_stuck;     /* a header the walker can not pass */
	size_t bad_header;   /* end of a header the bridge must refuse at once; 0: none */
	uint32_t guest_max_payload; /* from the input's HELLO; 0: no valid HELLO */
	bool guest_closed[CHANNELS + 1];
	/* Pipes the guest sent its PIPE_END or PIPE_CANCEL for. */
	struct pipe_ref ended[ENDED_MAX];
	size_t n_ended;

	/* Control: RUNs 1 and 2, a LIST_APPS and a SIGNAL to run 1 sent once
	 * ready. */
	bool control_sent;
	bool exited[3];
	uint32_t apps_received;

	/* What the bridge sends to the guest. */
	struct vmapp_buf from_bridge;
	uint64_t frames_from_bridge;
	bool error_from_bridge;
	struct vmapp_buf answers;
	bool was_closed;
};

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	FUZZ_CHECK(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

static void put32(struct vmapp_buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	FUZZ_CHECK(vmapp_buf_append(b, p, 4) == 0);
}

/* Wayland messages are in host byte order: little-endian on every host
 * this runs on, as make-seeds.py says. */
static void wl_header(struct vmapp_buf *b, uint32_t object, uint32_t opcode, uint32_t size)
{
	put32(b, object);
	put32(b, size << 16 | opcode);
}

static void wl_global(struct vmapp_buf *b, uint32_t registry, uint32_t name, const char *iface,
		      uint32_t version)
{
	uint32_t len = (uint32_t)strlen(iface) + 1;
	uint32_t padded = (len + 3) & ~3u;
	static const uint8_t zeros[4];

	wl_header(b, registry, 0, 8 + 4 + 4 + padded + 4);
	put32(b, name);
	put32(b, len);
	FUZZ_CHECK(vmapp_buf_append(b, iface, len) == 0);
	FUZZ_CHECK(vmapp_buf_append(b, zeros, padded - len) == 0);
	put32(b, version);
}

/* ---- the relay side of the channels ---- */

/* Sends bytes and at most one fd; what does not fit is dropped (the
 * bridge reads its channels every round, so it never happens). */
static void relay_send(struct relay_end *r, const struct vmapp_buf *msg, int fd)
{
	struct iovec iov = { .iov_base = (void *)vmapp_buf_head(msg), .iov_len = vmapp_buf_size(msg) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (r->fd < 0 || iov.iov_len == 0)
		return;
	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		m.msg_control = control.buf;
		m.msg_controllen = sizeof(control.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(r->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && fuzz_trace())
		fprintf(stderr, "relay: send: %s\n", strerror(errno));
}

static void relay_close(struct relay_end *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	vmapp_buf_finish(&r->in);
	r->serial = 0;
}

static void hold(struct fuzz *f, int fd)
{
	if (f->n_held == HELD_MAX || (f->mode & MODE_DROP_PIPES)) {
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	f->held[f->n_held++] = fd;
}

/* Writes to a pipe end the bridge may have closed already (EPIPE). */
static void pipe_write_some(int fd, const void *data, size_t len)
{
	ssize_t n = write(fd, data, len);
	(void)n;
}

/* A pipe with `data` in it whose write end is closed: its read end. */
static int filled_pipe(const char *data)
{
	int p[2];
	FUZZ_CHECK(pipe2(p, O_CLOEXEC) == 0);
	pipe_write_some(p[1], data, strlen(data));
	close(p[1]);
	return p[0];
}

/* The relay's first events on a new channel, each with one fd. */
static void relay_events(struct fuzz *f, struct relay_end *r)
{
	static uint8_t keymap[KEYMAP_SIZE];
	struct vmapp_buf msg = { 0 };

	/* wl_keyboard.keymap(format, fd, size), as large as a real one: it
	 * crosses in several FD_CONTENT frames, and waits for credit. */
	for (size_t i = 0; i < KEYMAP_SIZE; i++)
		keymap[i] = i % 64 == 63 ? '\n' : (uint8_t)('a' + i % 26);
	int fd = memfd_create("fuzz-keymap", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, keymap, KEYMAP_SIZE) == (ssize_t)KEYMAP_SIZE);
	wl_header(&msg, 5, 0, 16);
	put32(&msg, 1);
	put32(&msg, KEYMAP_SIZE);
	relay_send(r, &msg, fd);
	close(fd);

	/* wl_data_source.send(mime_type, fd): the guest writes into it. */
	int p[2];
	FUZZ_CHECK(pipe2(p, O_CLOEXEC) == 0);
	msg.start = msg.len = 0;
	wl_header(&msg, 6, 1, 8 + 4 + 12);
	put32(&msg, 11);
	FUZZ_CHECK(vmapp_buf_append(&msg, "text/plain\0\0", 12) == 0);
	relay_send(r, &msg, p[1]);
	close(p[1]);
	hold(f, p[0]);

	/* The same with a read end: the host writes, the guest reads. */
	fd = filled_pipe("from the host\n");
	relay_send(r, &msg, fd);
	close(fd);
	vmapp_buf_finish(&msg);
}

static int open_channel(void *data, uint32_t channel)
{
	struct fuzz *f = data;
	int sv[2];

	FUZZ_CHECK(channel >= 1 && channel <= CHANNELS);
	f->n_opens++;
	if (fuzz_trace())
		fprintf(stderr, "relay: open %u\n", channel);
	if ((f->mode & MODE_REFUSE) && f->n_opens == 2)
		return -ECONNREFUSED;
	struct relay_end *r = &f->relay[channel];
	relay_close(r); /* a client of an earlier lifetime of the id */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	r->fd = sv[1];
	if (f->mode & MODE_EVENTS)
		relay_events(f, r);
	return sv[0];
}

/* An fd the bridge made for a ref. */
static void relay_fd(struct fuzz *f, int fd)
{
	struct stat st;
	FUZZ_CHECK(fstat(fd, &st) == 0);
	if (S_ISREG(st.st_mode)) {
		/* A pool mirror or a content: a memfd the guest can not
		 * shrink under the compositor's mapping. */
		int seals = fcntl(fd, F_GET_SEALS);
		FUZZ_CHECK(seals >= 0 && (seals & F_SEAL_SHRINK));
		close(fd);
		return;
	}
	FUZZ_CHECK(S_ISFIFO(st.st_mode));
	if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY) {
		/* The guest reads what the compositor writes. */
		pipe_write_some(fd, "from the compositor\n", 20);
		close(fd);
		return;
	}
	hold(f, fd);
}

/* One whole request: the relay's canned answers.  Returns false when the
 * relay drops the client. */
static bool relay_request(struct relay_end *r, const uint8_t *m, uint32_t size)
{
	uint32_t object = fuzz_u32(m), opcode = fuzz_u32(m + 4) & 0xffff;
	struct vmapp_buf out = { 0 };

	if (fuzz_trace())
		fprintf(stderr, "relay: %u.%u (%u bytes)\n", object, opcode, size);

	if (object != 1)
		return true;
	if (opcode > 1 || size != 12) {
		/* As the relay cuts a client off: wl_display.error(object,
		 * invalid_method, message) first. */
		if (fuzz_trace())
			fprintf(stderr, "relay: drops the client (wl_display opcode %u)\n", opcode);
		wl_header(&out, 1, 0, 8 + 4 + 4 + 4 + 16);
		put32(&out, 1);
		put32(&out, 1);
		put32(&out, 15);
		FUZZ_CHECK(vmapp_buf_append(&out, "invalid method\0\0", 16) == 0);
		relay_send(r, &out, -1);
		vmapp_buf_finish(&out);
		return false;
	}
	uint32_t id = fuzz_u32(m + 8);
	if (opcode == 0) {
		/* wl_callback.done(serial), wl_display.delete_id(id) */
		wl_header(&out, id, 0, 12);
		put32(&out, ++r->serial);
		wl_header(&out, 1, 1, 12);
		put32(&out, id);
	} else {
		wl_global(&out, id, 1, "wl_compositor", 6);
		wl_global(&out, id, 2, "wl_shm", 2);
		wl_global(&out, id, 3, "xdg_wm_base", 6);
		wl_global(&out, id, 4, "wl_seat", 9);
	}
	relay_send(r, &out, -1);
	vmapp_buf_finish(&out);
	return true;
}

/* Reads what the bridge wrote to one channel.  Returns the bytes moved. */
static size_t relay_read(struct fuzz *f, struct relay_end *r)
{
	size_t moved = 0;

	while (r->fd >= 0) {
		uint8_t *p = vmapp_buf_reserve(&r->in, 16384);
		FUZZ_CHECK(p);
		union {
			char buf[CMSG_SPACE(sizeof(int) * 253)];
			struct cmsghdr align;
		} control;
		struct iovec iov = { .iov_base = p, .iov_len = 16384 };
		struct msghdr m = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		ssize_t n = recvmsg(r->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			FUZZ_CHECK(errno == EAGAIN || errno == ECONNRESET);
			if (errno == ECONNRESET)
				relay_close(r);
			break;
		}
		FUZZ_CHECK(!(m.msg_flags & MSG_CTRUNC));
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			FUZZ_CHECK(c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS);
			size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < count; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				relay_fd(f, fd);
				moved++;
			}
		}
		if (n == 0) {
			/* The bridge closed the channel. */
			relay_close(r);
			break;
		}
		r->in.len += (size_t)n;
		moved += (size_t)n;

		/* Whole messages only: the transport let nothing else through. */
		bool keep = true;
		while (keep && vmapp_buf_size(&r->in) >= 8) {
			const uint8_t *msg = vmapp_buf_head(&r->in);
			uint32_t size = fuzz_u32(msg + 4) >> 16;
			FUZZ_CHECK(size >= 8 && size <= VMAPP_TRANSPORT_MAX_WL_MESSAGE && size % 4 == 0);
			if (vmapp_buf_size(&r->in) < size)
				break;
			keep = relay_request(r, msg, size);
			vmapp_buf_consume(&r->in, size);
		}
		if (!keep) {
			relay_close(r);
			break;
		}
		FUZZ_CHECK(vmapp_buf_size(&r->in) < RELAY_IN_MAX);
	}
	return moved;
}

static size_t drain_held(struct fuzz *f)
{
	size_t moved = 0;
	uint8_t buf[4096];

	for (size_t i = 0; i < f->n_held;) {
		ssize_t n = read(f->held[i], buf, sizeof(buf));
		if (n > 0) {
			moved += (size_t)n;
			continue;
		}
		FUZZ_CHECK(n == 0 || errno == EAGAIN);
		if (n == 0) {
			/* The bridge ended the pipe: the relay closes it. */
			close(f->held[i]);
			f->held[i] = f->held[--f->n_held];
			moved++;
			continue;
		}
		i++;
	}
	return moved;
}

/* ---- the control channel ---- */

static void control(void *data, struct vmapp_bridge *b, const struct vmapp_transport_frame *fr)
{
	struct fuzz *f = data;

	if (fuzz_trace())
		fprintf(stderr, "control: %s\n", vmapp_transport_kind_name(fr->kind));
	FUZZ_CHECK(b == f->bridge && fr->channel == 0 && fr->rule == VMAPP_TRANSPORT_RULE_OK);
	if (fr->kind == VMAPP_TRANSPORT_EXIT) {
		/* Once per RUN sent. */
		FUZZ_CHECK(fr->exit.run_id == 1 || fr->exit.run_id == 2);
		FUZZ_CHECK(!f->exited[fr->exit.run_id]);
		f->exited[fr->exit.run_id] = true;
		FUZZ_CHECK(fr->exit.status >= -64 && fr->exit.status <= 255);
		return;
	}
	if (fr->kind == VMAPP_TRANSPORT_OUTPUT) {
		FUZZ_CHECK(fr->output.run_id == 1 || fr->output.run_id == 2);
		FUZZ_CHECK(!f->exited[fr->output.run_id]);
		FUZZ_CHECK(fr->output.stream == 1 || fr->output.stream == 2);
		FUZZ_CHECK(fr->output.size >= 1 && fr->output.size <= VMAPP_TRANSPORT_MAX_OUTPUT);
		FUZZ_CHECK(fr->output.data == fr->payload + 8 &&
			   fr->output.size == fr->length - 8);
		FUZZ_CHECK(vmapp_bridge_send_output_credit(b, fr->output.run_id,
							   fr->output.size) == 0);
		return;
	}
	FUZZ_CHECK(fr->kind == VMAPP_TRANSPORT_APPS);
	FUZZ_CHECK(f->apps_received++ == 0);
	/* VMAPP_TRANSPORT_APP_STRINGS * count strings fill exactly the bytes
	 * decode points at, each ended by its NUL there, the desktop ids not
	 * empty. */
	const char *s = fr->apps.strings, *end = s + fr->apps.strings_size;
	FUZZ_CHECK(fr->apps.count <= VMAPP_TRANSPORT_MAX_APPS);
	FUZZ_CHECK((const uint8_t *)s >= fr->payload &&
		   (const uint8_t *)end <= fr->payload + fr->length);
	for (uint32_t i = 0; i < VMAPP_TRANSPORT_APP_STRINGS * fr->apps.count; i++) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		FUZZ_CHECK(nul && (i % VMAPP_TRANSPORT_APP_STRINGS != 0 || nul > s));
		s = nul + 1;
	}
	FUZZ_CHECK(s == end);
}

/* Once the handshake is done: something for the guest to answer. */
static void send_control(struct fuzz *f)
{
	static const char *const argv[] = { "foot", "-e", "sh" };
	static const char *const envp[] = { "LANG=C.UTF-8" };

	if (f->control_sent || !vmapp_bridge_ready(f->bridge))
		return;
	f->control_sent = true;
	FUZZ_CHECK(vmapp_bridge_send_run(f->bridge, 1, argv, 3, envp, 1) == 0);
	FUZZ_CHECK(vmapp_bridge_send_run(f->bridge, 2, argv, 1, NULL, 0) == 0);
	FUZZ_CHECK(vmapp_bridge_send_list_apps(f->bridge) == 0);
	FUZZ_CHECK(vmapp_bridge_send_signal(f->bridge, 1, 15) == 0);
	/* What the guest would refuse, or has no run for, is not sent. */
	FUZZ_CHECK(vmapp_bridge_send_signal(f->bridge, 1, 19) == -EINVAL);
	FUZZ_CHECK(vmapp_bridge_send_signal(f->bridge, 3, 15) == -ENOENT);
}

/* ---- the guest side of the stream ---- */

static void answer(struct fuzz *f, uint32_t channel, uint16_t kind, uint32_t value)
{
	uint8_t p[4] = { (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
			 (uint8_t)(value >> 24) };
	if (fuzz_trace())
		fprintf(stderr, "guest answers: ch %u %s %u\n", channel,
			vmapp_transport_kind_name(kind), value);
	FUZZ_CHECK(vmapp_transport_append_frame(&f->answers, channel, kind, 0, p, 4) == 0);
}

static size_t find_ended(const struct fuzz *f, uint32_t channel, uint32_t ref)
{
	for (size_t i = 0; i < f->n_ended; i++)
		if (f->ended[i].channel == channel && f->ended[i].ref == ref)
			return i;
	return SIZE_MAX;
}

/* The guest's terminal frame for a pipe, unless it sent one already:
 * each side sends exactly one per pipe. */
static void answer_pipe(struct fuzz *f, uint32_t channel, uint16_t kind, uint32_t ref)
{
	size_t i = find_ended(f, channel, ref);
	if (i != SIZE_MAX) {
		f->ended[i] = f->ended[--f->n_ended];
		return;
	}
	answer(f, channel, kind, ref);
}

/* The walker saw the guest's PIPE_OPEN (forget the ref), or its
 * PIPE_END or PIPE_CANCEL (remember it). */
static void guest_pipe(struct fuzz *f, uint32_t channel, uint32_t ref, bool ended)
{
	size_t i = find_ended(f, channel, ref);
	if (!ended && i != SIZE_MAX)
		f->ended[i] = f->ended[--f->n_ended];
	else if (ended && i == SIZE_MAX && f->n_ended < ENDED_MAX)
		f->ended[f->n_ended++] = (struct pipe_ref){ channel, ref };
}

/* One whole frame from the bridge. */
static void guest_frame(struct fuzz *f, const uint8_t *data, uint32_t size)
{
	struct vmapp_transport_frame fr;

	FUZZ_CHECK(vmapp_transport_decode(data, size, &fr) == VMAPP_TRANSPORT_RULE_OK);
	if (fuzz_trace())
		fprintf(stderr, "bridge: ch %u %s (%u bytes)\n", fr.channel,
			vmapp_transport_kind_name(fr.kind), fr.length);
	/* HELLO first, and once; nothing after an ERROR. */
	FUZZ_CHECK(!f->error_from_bridge);
	FUZZ_CHECK((f->frames_from_bridge == 0) == (fr.kind == VMAPP_TRANSPORT_HELLO));
	f->frames_from_bridge++;
	if (fr.kind == VMAPP_TRANSPORT_ERROR) {
		f->error_from_bridge = true;
		return;
	}
	if (fr.kind == VMAPP_TRANSPORT_HELLO)
		return;
	/* Only after the guest's HELLO, and within what it accepts. */
	FUZZ_CHECK(f->guest_max_payload != 0 && fr.length <= f->guest_max_payload);
	if (fr.kind == VMAPP_TRANSPORT_RUN || fr.kind == VMAPP_TRANSPORT_LIST_APPS ||
	    fr.kind == VMAPP_TRANSPORT_SIGNAL || fr.kind == VMAPP_TRANSPORT_OUTPUT_CREDIT)
		return;
	FUZZ_CHECK(fr.channel >= 1 && fr.channel <= CHANNELS);

	if (!(f->mode & MODE_ANSWER))
		return;
	switch (fr.kind) {
	case VMAPP_TRANSPORT_WAYLAND:
	case VMAPP_TRANSPORT_FD_CONTENT:
	case VMAPP_TRANSPORT_PIPE_DATA:
		answer(f, fr.channel, VMAPP_TRANSPORT_CREDIT, fr.length);
		break;
	case VMAPP_TRANSPORT_CLOSE:
		if (!f->guest_closed[fr.channel])
			answer(f, fr.channel, VMAPP_TRANSPORT_CLOSE, VMAPP_TRANSPORT_REASON_NORMAL);
		f->guest_closed[fr.channel] = true;
		break;
	case VMAPP_TRANSPORT_PIPE_END:
		answer_pipe(f, fr.channel, VMAPP_TRANSPORT_PIPE_CANCEL, fr.ref.ref);
		break;
	case VMAPP_TRANSPORT_PIPE_CANCEL:
		answer_pipe(f, fr.channel, VMAPP_TRANSPORT_PIPE_END, fr.ref.ref);
		break;
	default:
		break;
	}
}

static size_t guest_read(struct fuzz *f)
{
	size_t moved = 0;

	while (f->stream >= 0) {
		uint8_t *p = vmapp_buf_reserve(&f->from_bridge, 65536);
		FUZZ_CHECK(p);
		ssize_t n = recv(f->stream, p, 65536, MSG_DONTWAIT);
		if (n < 0) {
			/* ECONNRESET: the bridge is gone with input unread. */
			FUZZ_CHECK(errno == EAGAIN || errno == ECONNRESET);
			break;
		}
		if (n == 0)
			break;
		f->from_bridge.len += (size_t)n;
		moved += (size_t)n;
	}
	for (;;) {
		uint32_t size;
		enum vmapp_transport_rule rule = vmapp_transport_peek(
			vmapp_buf_head(&f->from_bridge), vmapp_buf_size(&f->from_bridge), &size);
		if (rule != VMAPP_TRANSPORT_RULE_OK) {
			FUZZ_CHECK(rule == VMAPP_TRANSPORT_RULE_HEADER_TRUNCATED ||
				   rule == VMAPP_TRANSPORT_RULE_FRAME_TRUNCATED);
			break;
		}
		guest_frame(f, vmapp_buf_head(&f->from_bridge), size);
		vmapp_buf_consume(&f->from_bridge, size);
	}
	return moved;
}

/* Walks the input's frames up to what has been written, for the
 * guest's own account: where frames start, its HELLO, its CLOSEs. */
static void walk_input(struct fuzz *f)
{
	while (!f->walk_stuck && f->next_frame < f->in_off) {
		const uint8_t *p = f->in + f->next_frame;
		size_t left = f->in_len - f->next_frame;
		uint32_t size;
		enum vmapp_transport_rule rule = vmapp_transport_peek(p, left, &size);
		if (left >= VMAPP_TRANSPORT_HEADER_SIZE && rule != VMAPP_TRANSPORT_RULE_FRAME_FLAGS &&
		    vmapp_transport_le32(p + 8) > MAX_PAYLOAD)
			rule = VMAPP_TRANSPORT_RULE_FRAME_TOO_LARGE;
		if (rule != VMAPP_TRANSPORT_RULE_OK) {
			f->walk_stuck = true;
			/* The specification: a flag or a length over the
			 * receiver's max_payload is refused from the header,
			 * before a byte of the payload is buffered. */
			if (rule == VMAPP_TRANSPORT_RULE_FRAME_FLAGS ||
			    rule == VMAPP_TRANSPORT_RULE_FRAME_TOO_LARGE)
				f->bad_header = f->next_frame + VMAPP_TRANSPORT_HEADER_SIZE;
			return;
		}
		struct vmapp_transport_frame fr;
		enum vmapp_transport_rule d = vmapp_transport_decode(p, size, &fr);
		if (f->next_frame == 0 && d == VMAPP_TRANSPORT_RULE_OK &&
		    fr.kind == VMAPP_TRANSPORT_HELLO && fr.channel == 0)
			f->guest_max_payload = fr.hello.max_payload;
		if (fr.channel >= 1 && fr.channel <= CHANNELS && d == VMAPP_TRANSPORT_RULE_OK) {
			if (fr.kind == VMAPP_TRANSPORT_OPEN)
				f->guest_closed[fr.channel] = false;
			else if (fr.kind == VMAPP_TRANSPORT_CLOSE)
				f->guest_closed[fr.channel] = true;
			else if (fr.kind == VMAPP_TRANSPORT_PIPE_OPEN)
				guest_pipe(f, fr.channel, fr.pipe_open.ref, false);
			else if (fr.kind == VMAPP_TRANSPORT_PIPE_END ||
				 fr.kind == VMAPP_TRANSPORT_PIPE_CANCEL)
				guest_pipe(f, fr.channel, fr.ref.ref, true);
		}
		f->next_frame += size;
	}
}

/* The next end of an input frame after the write position, or 0. */
static size_t frame_end(const struct fuzz *f)
{
	uint32_t size;

	if (f->walk_stuck)
		return 0;
	if (f->next_frame > f->in_off)
		return f->next_frame;
	if (vmapp_transport_peek(f->in + f->in_off, f->in_len - f->in_off, &size) !=
	    VMAPP_TRANSPORT_RULE_OK)
		return 0;
	return f->in_off + size;
}

static size_t pump(struct fuzz *f)
{
	size_t moved = guest_read(f);
	for (uint32_t c = 1; c <= CHANNELS; c++)
		moved += relay_read(f, &f->relay[c]);
	return moved + drain_held(f);
}

static void check(struct fuzz *f)
{
	bool error;
	bool closed = vmapp_bridge_closed(f->bridge, &error);

	FUZZ_CHECK(!f->was_closed || closed);
	f->was_closed = closed;
	FUZZ_CHECK(vmapp_bridge_n_channels(f->bridge) <= CHANNELS);
	if (f->error_from_bridge)
		FUZZ_CHECK(closed && error);
	if (f->bad_header && f->in_off >= f->bad_header)
		FUZZ_CHECK(closed);
}

/* Dispatches until nothing moves. */
static void settle(struct fuzz *f)
{
	for (int round = 0; round < ROUNDS_MAX; round++) {
		vmapp_bridge_dispatch(f->bridge);
		send_control(f);
		size_t moved = pump(f);
		if (vmapp_bridge_closed(f->bridge, NULL) && moved == 0)
			break;
		struct pollfd p = { .fd = vmapp_bridge_fd(f->bridge), .events = POLLIN };
		if (moved == 0 && poll(&p, 1, 0) == 0)
			break;
	}
	check(f);
}

/* Writes bytes into the stream; false when the bridge stopped reading. */
static bool guest_write(struct fuzz *f, const uint8_t *data, size_t len)
{
	for (int stalls = 0; len > 0;) {
		if (f->stream < 0)
			return false;
		ssize_t n = send(f->stream, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			FUZZ_CHECK(errno == EAGAIN);
			if (++stalls == STALLS_MAX || vmapp_bridge_closed(f->bridge, NULL))
				return false;
			settle(f);
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* The guest's answers, between two of the input's frames. */
static void send_answers(struct fuzz *f)
{
	if (vmapp_buf_size(&f->answers) == 0 || f->walk_stuck || f->next_frame != f->in_off)
		return;
	struct vmapp_buf a = f->answers;
	memset(&f->answers, 0, sizeof(f->answers));
	guest_write(f, vmapp_buf_head(&a), vmapp_buf_size(&a));
	vmapp_buf_finish(&a);
	settle(f);
}

static size_t chunk_size(const struct fuzz *f, uint8_t b)
{
	if (b == 255) {
		size_t end = frame_end(f);
		return end > f->in_off ? end - f->in_off : 64;
	}
	return b < 128 ? (size_t)b + 1 : (size_t)(b - 127) * 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	struct fuzz f;
	struct vmapp_transport_limits limits;
	int sv[2];

	if (size < 2)
		return 0;
	size_t n_chunks = data[1] & 15;
	if (size < 2 + n_chunks)
		return 0;
	if (!once) {
		FUZZ_CHECK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
		once = true;
	}
	int fds_before = count_fds();

	memset(&f, 0, sizeof(f));
	f.mode = data[0];
	f.in = data + 2 + n_chunks;
	f.in_len = size - 2 - n_chunks;
	for (uint32_t c = 0; c <= CHANNELS; c++)
		f.relay[c].fd = -1;

	vmapp_transport_limits_default(&limits);
	limits.max_payload = MAX_PAYLOAD;
	limits.max_channels = CHANNELS;
	limits.initial_credit = CREDIT;
	limits.max_refs = MAX_REFS;
	limits.shm_bytes = SHM_BYTES;
	const struct vmapp_bridge_config config = {
		.role = VMAPP_TRANSPORT_HOST,
		.name = "fuzz-bridge",
		.verbose = fuzz_trace(),
		.limits = &limits,
		.open_channel = open_channel,
		.control = control,
		.data = &f,
	};

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	f.stream = sv[1];
	f.bridge = vmapp_bridge_create(&config, sv[0]);
	FUZZ_CHECK(f.bridge);
	settle(&f);

	size_t k = 0;
	while (f.in_off < f.in_len && !vmapp_bridge_closed(f.bridge, NULL)) {
		size_t n = n_chunks ? chunk_size(&f, data[2 + k++ % n_chunks]) : CHUNK_MAX;
		if (n > f.in_len - f.in_off)
			n = f.in_len - f.in_off;
		/* Answers wait for the end of a frame of the input: stop the
		 * chunk there. */
		size_t end = vmapp_buf_size(&f.answers) > 0 ? frame_end(&f) : 0;
		if (end > f.in_off && end - f.in_off < n)
			n = end - f.in_off;
		if (!guest_write(&f, f.in + f.in_off, n))
			break;
		f.in_off += n;
		if (f.in_off == f.in_len && (f.mode & MODE_CLOSE_STREAM)) {
			close(f.stream);
			f.stream = -1;
		}
		walk_input(&f);
		settle(&f);
		send_answers(&f);
	}
	/* Answers to answers, while there are any. */
	for (int i = 0; i < 8 && vmapp_buf_size(&f.answers) > 0 &&
			!vmapp_bridge_closed(f.bridge, NULL); i++)
		send_answers(&f);

	if (f.mode & MODE_HANG_UP_CLIENTS) {
		for (uint32_t c = 1; c <= CHANNELS; c++)
			relay_close(&f.relay[c]);
		settle(&f);
	}
	if ((f.mode & MODE_HANG_UP_STREAM) && f.stream >= 0) {
		FUZZ_CHECK(shutdown(f.stream, SHUT_WR) == 0);
		settle(&f);
	}
	if ((f.mode & MODE_HANG_UP_STREAM) || f.stream < 0)
		FUZZ_CHECK(vmapp_bridge_closed(f.bridge, NULL));

	vmapp_bridge_destroy(f.bridge);
	f.bridge = NULL;
	guest_read(&f);
	if (f.stream >= 0)
		close(f.stream);
	for (uint32_t c = 1; c <= CHANNELS; c++)
		relay_close(&f.relay[c]);
	for (size_t i = 0; i < f.n_held; i++)
		close(f.held[i]);
	vmapp_buf_finish(&f.from_bridge);
	vmapp_buf_finish(&f.answers);

	int fds_after = count_fds();
	if (fds_after != fds_before) {
		fprintf(stderr, "fd leaked: %d open before, %d after\n", fds_before, fds_after);
		abort();
	}
	return 0;
}
