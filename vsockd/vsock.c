/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsock.h"

#define DEFAULT_BUF_ALLOC (256 * 1024)
#define DEFAULT_MAX_CONNS 64
/* Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE: no driver sends more at once. */
#define MAX_PKT_PAYLOAD (64 * 1024)
/* Replies without a connection (RST), waiting for RX buffers.  When it is
 * full the TX ring is not served until the guest gives RX buffers, as
 * Linux's vhost-vsock does: a guest can not make us queue without end. */
#define CTRL_QUEUE_MAX 256
/* TX chains per vmapp_vsock_process(), so that a guest that refills its
 * ring as fast as we empty it does not starve the front-end and the
 * unix sockets. */
#define TX_BUDGET 1024
/* Host-to-guest packets per readiness event of one connection. */
#define READ_BUDGET 16
#define MAX_IOV 64

struct conn {
	bool used;
	int fd;
	uint32_t guest_port;
	uint32_t host_port;
	const char *path;

	bool connecting;	/* the unix connect is in progress */
	bool connected;		/* the unix side is there: RESPONSE owed or sent */
	bool need_response;
	bool need_credit_update;
	bool need_shutdown;	/* the unix side hit EOF: SHUTDOWN(SEND) owed */
	bool shutdown_sent;
	bool host_eof;
	bool guest_shut_send;	/* the guest sends no more */
	bool guest_shut_rcv;	/* the guest receives no more */
	bool shut_wr_done;
	uint32_t events;	/* what epoll watches; 0: not registered */

	/* Guest to host: what the guest sent and the unix side did not take
	 * yet, at most buf_alloc bytes (the credit we gave). */
	uint8_t *buf;		/* buf_alloc bytes, allocated on first data */
	uint32_t buf_head, buf_len;
	uint32_t rx_cnt;	/* bytes the guest sent */
	uint32_t fwd_cnt;	/* bytes written to the unix side */
	uint32_t fwd_cnt_sent;	/* fwd_cnt as the guest last heard it */

	/* Host to guest: the guest's credit. */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;	/* bytes sent to the guest */
};

struct vmapp_vsock {
	struct vmapp_vsock_config config;
	struct vmapp_vring *rx, *tx;
	const struct vmapp_mem *mem;

	struct conn *conns;
	size_t n_conns;

	struct vmapp_vsock_hdr ctrl[CTRL_QUEUE_MAX];
	size_t ctrl_head, ctrl_len;

	size_t rr;		/* the connection served first, in turn */
	bool signal_rx, signal_tx;
};

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

void vmapp_vsock_hdr_encode(const struct vmapp_vsock_hdr *hdr, uint8_t out[VMAPP_VSOCK_HDR_SIZE])
{
	put64(out, hdr->src_cid);
	put64(out + 8, hdr->dst_cid);
	put32(out + 16, hdr->src_port);
	put32(out + 20, hdr->dst_port);
	put32(out + 24, hdr->len);
	put16(out + 28, hdr->type);
	put16(out + 30, hdr->op);
	put32(out + 32, hdr->flags);
	put32(out + 36, hdr->buf_alloc);
	put32(out + 40, hdr->fwd_cnt);
}

void vmapp_vsock_hdr_decode(const uint8_t in[VMAPP_VSOCK_HDR_SIZE], struct vmapp_vsock_hdr *ret_hdr)
{
	*ret_hdr = (struct vmapp_vsock_hdr){
		.src_cid = get64(in),
		.dst_cid = get64(in + 8),
		.src_port = get32(in + 16),
		.dst_port = get32(in + 20),
		.len = get32(in + 24),
		.type = get16(in + 28),
		.op = get16(in + 30),
		.flags = get32(in + 32),
		.buf_alloc = get32(in + 36),
		.fwd_cnt = get32(in + 40),
	};
}

static int connect_unix(void *data, const struct vmapp_vsock_forward *forward,
		bool *ret_connecting)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	*ret_connecting = false;
	if (strlen(forward->path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, forward->path, strlen(forward->path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		/* EAGAIN from a unix socket is a full backlog, not a
		 * connect in progress: nothing would complete it. */
		if (errno != EINPROGRESS) {
			int r = -errno;
			close(fd);
			return r;
		}
		*ret_connecting = true;
	}
	return fd;
}

struct vmapp_vsock *vmapp_vsock_create(const struct vmapp_vsock_config *config,
		struct vmapp_vring *rx, struct vmapp_vring *tx, const struct vmapp_mem *mem)
{
	struct vmapp_vsock *vs = calloc(1, sizeof(*vs));
	if (!vs)
		return NULL;
	vs->config = *config;
	if (!vs->config.buf_alloc)
		vs->config.buf_alloc = DEFAULT_BUF_ALLOC;
	if (!vs->config.max_conns)
		vs->config.max_conns = DEFAULT_MAX_CONNS;
	if (!vs->config.connect)
		vs->config.connect = connect_unix;
	vs->rx = rx;
	vs->tx = tx;
	vs->mem = mem;
	vs->conns = calloc(vs->config.max_conns, sizeof(*vs->conns));
	if (!vs->conns) {
		free(vs);
		return NULL;
	}
	return vs;
}

static void log_conn(const struct vmapp_vsock *vs, const struct conn *c, const char *what)
{
	vmapp_log_limited(vs->config.log, "guest port %" PRIu32 " to port %" PRIu32 ": %s",
			c->guest_port, c->host_port, what);
}

static void free_conn(struct vmapp_vsock *vs, struct conn *c)
{
	/* close() takes the fd out of the epoll set as well. */
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	*c = (struct conn){ .fd = -1 };
	vs->n_conns--;
}

static void ctrl_push(struct vmapp_vsock *vs, const struct vmapp_vsock_hdr *hdr)
{
	if (vs->ctrl_len == CTRL_QUEUE_MAX) {
		/* Not reached while TX is held back when the queue is full;
		 * kept for the connection resets from the unix side. */
		vmapp_log_limited(vs->config.log, "reply queue full, RST dropped");
		return;
	}
	vs->ctrl[(vs->ctrl_head + vs->ctrl_len) % CTRL_QUEUE_MAX] = *hdr;
	vs->ctrl_len++;
}

static struct vmapp_vsock_hdr conn_hdr(const struct vmapp_vsock *vs, struct conn *c, uint16_t op)
{
	return (struct vmapp_vsock_hdr){
		.src_cid = VMAPP_VSOCK_HOST_CID,
		.dst_cid = vs->config.guest_cid,
		.src_port = c->host_port,
		.dst_port = c->guest_port,
		.type = VMAPP_VSOCK_TYPE_STREAM,
		.op = op,
		.buf_alloc = vs->config.buf_alloc,
		.fwd_cnt = c->fwd_cnt,
	};
}

/* Ends a connection; with rst, the guest is told. */
static void close_conn(struct vmapp_vsock *vs, struct conn *c, bool rst, const char *why)
{
	if (vs->config.verbose)
		log_conn(vs, c, why);
	if (rst) {
		struct vmapp_vsock_hdr hdr = conn_hdr(vs, c, VMAPP_VSOCK_OP_RST);
		ctrl_push(vs, &hdr);
	}
	free_conn(vs, c);
}

void vmapp_vsock_reset(struct vmapp_vsock *vs)
{
	for (size_t i = 0; i < vs->config.max_conns; i++)
		if (vs->conns[i].used)
			free_conn(vs, &vs->conns[i]);
	vs->ctrl_len = 0;
}

void vmapp_vsock_destroy(struct vmapp_vsock *vs)
{
	if (!vs)
		return;
	vmapp_vsock_reset(vs);
	free(vs->conns);
	free(vs);
}

size_t vmapp_vsock_n_conns(const struct vmapp_vsock *vs)
{
	return vs->n_conns;
}

/* The credit the guest gave us.  Its numbers are its own and may lie:
 * a fwd_cnt that claims more than we sent gives no extra credit. */
static uint32_t peer_credit(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	if (in_flight > c->peer_buf_alloc)
		return 0;
	return c->peer_buf_alloc - in_flight;
}

/* Takes the next RX chain that can hold a packet, dropping those that
 * can not.  1: *chain; 0: none. */
static int pop_rx(struct vmapp_vsock *vs, struct vmapp_vring_chain *chain)
{
	for (;;) {
		enum vmapp_vring_rule rule;
		int r = vmapp_vring_pop(vs->rx, vs->mem, chain, &rule);
		if (r == 0)
			return 0;
		if (r < 0) {
			vmapp_log_limited(vs->config.log, "guest: rx ring: %s%s",
					vmapp_vring_rule_name(rule),
					vs->rx->broken ? ", ring no longer served" : ", chain dropped");
			vs->signal_rx = true;
			if (vs->rx->broken)
				return 0;
			continue;
		}
		if (chain->readable > 0 || chain->writable < VMAPP_VSOCK_HDR_SIZE) {
			vmapp_log_limited(vs->config.log, "guest: rx ring: a buffer that is not a "
					"writable %d bytes or more, dropped", VMAPP_VSOCK_HDR_SIZE);
			vmapp_vring_push(vs->rx, chain->head, 0);
			vs->signal_rx = true;
			continue;
		}
		return 1;
	}
}

/* Sends a packet without payload.  false: no RX buffer for it now. */
static bool send_ctrl(struct vmapp_vsock *vs, const struct vmapp_vsock_hdr *hdr)
{
	struct vmapp_vring_chain chain;
	uint8_t wire[VMAPP_VSOCK_HDR_SIZE];

	if (pop_rx(vs, &chain) <= 0)
		return false;
	vmapp_vsock_hdr_encode(hdr, wire);
	vmapp_vring_chain_write(&chain, 0, wire, sizeof(wire));
	vmapp_vring_push(vs->rx, chain.head, VMAPP_VSOCK_HDR_SIZE);
	vs->signal_rx = true;
	return true;
}

static bool send_conn_ctrl(struct vmapp_vsock *vs, struct conn *c, uint16_t op, uint32_t flags)
{
	struct vmapp_vsock_hdr hdr = conn_hdr(vs, c, op);
	hdr.flags = flags;
	if (!send_ctrl(vs, &hdr))
		return false;
	c->fwd_cnt_sent = c->fwd_cnt;
	return true;
}

/* Writes what the guest sent to the unix side.  -errno: the unix side is
 * gone. */
static int conn_flush(struct vmapp_vsock *vs, struct conn *c)
{
	uint32_t cap = vs->config.buf_alloc;

	while (c->buf_len > 0) {
		uint32_t chunk = cap - c->buf_head;
		if (chunk > c->buf_len)
			chunk = c->buf_len;
		ssize_t n = send(c->fd, c->buf + c->buf_head, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -errno;
		c->buf_head = (uint32_t)((c->buf_head + (size_t)n) % cap);
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	/* The guest's SHUTDOWN(SEND) reaches the unix side after its data. */
	if (c->buf_len == 0 && c->guest_shut_send && !c->shut_wr_done) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr_done = true;
	}
	/* Tell the guest once a good share of its credit is free again. */
	if (c->fwd_cnt - c->fwd_cnt_sent >= cap / 4)
		c->need_credit_update = true;
	return 0;
}

/* Reads from the unix side straight into one RX buffer.  1: progress;
 * 0: nothing to do now; -errno: the unix side failed. */
static int conn_read(struct vmapp_vsock *vs, struct conn *c)
{
	if (!c->connected || c->need_response || c->host_eof || c->guest_shut_rcv)
		return 0;
	uint32_t credit = peer_credit(c);
	if (credit == 0)
		return 0;
	struct vmapp_vring_chain chain;
	if (pop_rx(vs, &chain) <= 0)
		return 0;

	uint64_t room = chain.writable - VMAPP_VSOCK_HDR_SIZE;
	uint64_t want = credit;
	if (want > room)
		want = room;
	if (want > MAX_PKT_PAYLOAD)
		want = MAX_PKT_PAYLOAD;

	/* The payload goes after the header, wherever the guest split the
	 * buffer. */
	struct iovec iov[MAX_IOV];
	int n_iov = 0;
	uint64_t skip = VMAPP_VSOCK_HDR_SIZE, left = want;
	for (size_t i = 0; i < chain.n_segs && left > 0 && n_iov < MAX_IOV; i++) {
		const struct vmapp_vring_seg *s = &chain.segs[i];
		if (skip >= s->len) {
			skip -= s->len;
			continue;
		}
		uint64_t n = s->len - skip;
		if (n > left)
			n = left;
		iov[n_iov++] = (struct iovec){ .iov_base = s->ptr + skip, .iov_len = n };
		left -= n;
		skip = 0;
	}
	if (n_iov == 0) {
		/* A zero-byte payload room: a header-only buffer. */
		vmapp_vring_unpop(vs->rx);
		return 0;
	}

	ssize_t n;
	do {
		n = readv(c->fd, iov, n_iov);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		vmapp_vring_unpop(vs->rx);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		c->host_eof = true;
		c->need_shutdown = true;
		return 1;
	}

	struct vmapp_vsock_hdr hdr = conn_hdr(vs, c, VMAPP_VSOCK_OP_RW);
	hdr.len = (uint32_t)n;
	uint8_t wire[VMAPP_VSOCK_HDR_SIZE];
	vmapp_vsock_hdr_encode(&hdr, wire);
	vmapp_vring_chain_write(&chain, 0, wire, sizeof(wire));
	vmapp_vring_push(vs->rx, chain.head, VMAPP_VSOCK_HDR_SIZE + (uint32_t)n);
	vs->signal_rx = true;
	c->tx_cnt += (uint32_t)n;
	c->fwd_cnt_sent = c->fwd_cnt;
	return 1;
}

void vmapp_vsock_handle_conn(struct vmapp_vsock *vs, uint32_t slot, uint32_t events)
{
	if (slot >= vs->config.max_conns || !vs->conns[slot].used)
		return;
	struct conn *c = &vs->conns[slot];

	if (c->connecting) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return;
		if (err) {
			vmapp_log_limited(vs->config.log, "port %" PRIu32 ": connect %s: %s",
					c->host_port, c->path, strerror(err));
			close_conn(vs, c, true, "connect failed");
			return;
		}
		c->connecting = false;
		c->connected = true;
		c->need_response = true;
		return;
	}

	if (c->buf_len > 0 && conn_flush(vs, c) < 0) {
		close_conn(vs, c, true, "unix side gone");
		return;
	}
	for (int i = 0; i < READ_BUDGET; i++) {
		int r = conn_read(vs, c);
		if (r < 0) {
			close_conn(vs, c, true, "unix side failed");
			return;
		}
		if (r == 0)
			break;
	}
}

static struct conn *find_conn(struct vmapp_vsock *vs, uint32_t guest_port, uint32_t host_port)
{
	for (size_t i = 0; i < vs->config.max_conns; i++) {
		struct conn *c = &vs->conns[i];
		if (c->used && c->guest_port == guest_port && c->host_port == host_port)
			return c;
	}
	return NULL;
}

/* A reset for a packet that has no connection: back to where it came
 * from, as the guest addressed it. */
static void reply_rst(struct vmapp_vsock *vs, const struct vmapp_vsock_hdr *untrusted_hdr)
{
	if (untrusted_hdr->op == VMAPP_VSOCK_OP_RST)
		return;	/* never answer a reset with one: two peers could ping-pong */
	struct vmapp_vsock_hdr hdr = {
		.src_cid = untrusted_hdr->dst_cid,
		.dst_cid = vs->config.guest_cid,
		.src_port = untrusted_hdr->dst_port,
		.dst_port = untrusted_hdr->src_port,
		.type = untrusted_hdr->type,
		.op = VMAPP_VSOCK_OP_RST,
		.buf_alloc = vs->config.buf_alloc,
	};
	ctrl_push(vs, &hdr);
}

static void guest_violation(struct vmapp_vsock *vs, struct conn *c, const char *rule)
{
	vmapp_log_limited(vs->config.log, "guest: port %" PRIu32 " to port %" PRIu32
			": %s, connection reset", c->guest_port, c->host_port, rule);
	close_conn(vs, c, true, "reset after a protocol violation");
}

static void open_conn(struct vmapp_vsock *vs, const struct vmapp_vsock_hdr *untrusted_hdr)
{
	const struct vmapp_vsock_forward *forward = NULL;
	for (size_t i = 0; i < vs->config.n_forwards; i++)
		if (vs->config.forwards[i].port == untrusted_hdr->dst_port)
			forward = &vs->config.forwards[i];
	if (!forward) {
		if (vs->config.verbose)
			vmapp_log_limited(vs->config.log, "guest port %" PRIu32 " to port %" PRIu32
					": no such forward, reset",
					untrusted_hdr->src_port, untrusted_hdr->dst_port);
		reply_rst(vs, untrusted_hdr);
		return;
	}
	struct conn *c = NULL;
	for (size_t i = 0; i < vs->config.max_conns && !c; i++)
		if (!vs->conns[i].used)
			c = &vs->conns[i];
	if (!c) {
		vmapp_log_limited(vs->config.log, "guest port %" PRIu32 " to port %" PRIu32
				": %u connections already, reset", untrusted_hdr->src_port,
				untrusted_hdr->dst_port, vs->config.max_conns);
		reply_rst(vs, untrusted_hdr);
		return;
	}

	bool connecting;
	int fd = vs->config.connect(vs->config.connect_data, forward, &connecting);
	if (fd < 0) {
		vmapp_log_limited(vs->config.log, "port %" PRIu32 ": connect %s: %s",
				forward->port, forward->path, strerror(-fd));
		reply_rst(vs, untrusted_hdr);
		return;
	}
	*c = (struct conn){
		.used = true,
		.fd = fd,
		.guest_port = untrusted_hdr->src_port,
		.host_port = untrusted_hdr->dst_port,
		.path = forward->path,
		.connecting = connecting,
		.connected = !connecting,
		.need_response = !connecting,
		.peer_buf_alloc = untrusted_hdr->buf_alloc,
		.peer_fwd_cnt = untrusted_hdr->fwd_cnt,
	};
	vs->n_conns++;
	if (vs->config.verbose)
		log_conn(vs, c, connecting ? "connecting" : "connected");
}

static void conn_data(struct vmapp_vsock *vs, struct conn *c,
		const struct vmapp_vring_chain *chain, uint32_t len)
{
	uint32_t cap = vs->config.buf_alloc;

	if (!c->connected || c->need_response) {
		guest_violation(vs, c, "data before the connection was accepted");
		return;
	}
	if (c->guest_shut_send) {
		guest_violation(vs, c, "data after SHUTDOWN(SEND)");
		return;
	}
	/* The credit the guest was told: buf_alloc minus what it sent since
	 * the fwd_cnt we last gave it.  It bounds what we hold, too: we
	 * forwarded at least that much. */
	if (len > cap - (c->rx_cnt - c->fwd_cnt_sent)) {
		guest_violation(vs, c, "data beyond the credit given");
		return;
	}
	if (len == 0)
		return;
	if (!c->buf) {
		c->buf = malloc(cap);
		if (!c->buf) {
			vmapp_log_limited(vs->config.log, "out of memory");
			close_conn(vs, c, true, "out of memory");
			return;
		}
	}
	uint32_t tail = (uint32_t)(((size_t)c->buf_head + c->buf_len) % cap);
	uint32_t first = cap - tail < len ? cap - tail : len;
	vmapp_vring_chain_read(chain, VMAPP_VSOCK_HDR_SIZE, c->buf + tail, first);
	if (first < len)
		vmapp_vring_chain_read(chain, VMAPP_VSOCK_HDR_SIZE + (uint64_t)first, c->buf,
				len - first);
	c->buf_len += len;
	c->rx_cnt += len;
	if (conn_flush(vs, c) < 0)
		close_conn(vs, c, true, "unix side gone");
}

/* One packet from the guest, its chain not yet returned. */
static void handle_packet(struct vmapp_vsock *vs, const struct vmapp_vring_chain *chain)
{
	uint8_t wire[VMAPP_VSOCK_HDR_SIZE];
	struct vmapp_vsock_hdr untrusted_hdr;

	if (chain->writable > 0 || chain->readable < VMAPP_VSOCK_HDR_SIZE) {
		vmapp_log_limited(vs->config.log, "guest: tx ring: a packet that is not a "
				"readable header and payload, dropped");
		return;
	}
	vmapp_vring_chain_read(chain, 0, wire, sizeof(wire));
	vmapp_vsock_hdr_decode(wire, &untrusted_hdr);

	/* The guest speaks for its own CID only. */
	if (untrusted_hdr.src_cid != vs->config.guest_cid) {
		vmapp_log_limited(vs->config.log, "guest: a packet from CID %" PRIu64
				", not its own, dropped", untrusted_hdr.src_cid);
		return;
	}
	if (untrusted_hdr.len > chain->readable - VMAPP_VSOCK_HDR_SIZE ||
	    untrusted_hdr.len > MAX_PKT_PAYLOAD) {
		vmapp_log_limited(vs->config.log, "guest: a packet whose length %" PRIu32
				" is not in its buffer, dropped", untrusted_hdr.len);
		struct conn *c = find_conn(vs, untrusted_hdr.src_port, untrusted_hdr.dst_port);
		if (c)
			guest_violation(vs, c, "bad packet length");
		else
			reply_rst(vs, &untrusted_hdr);
		return;
	}
	/* Only the host is here, and only streams. */
	if (untrusted_hdr.dst_cid != VMAPP_VSOCK_HOST_CID ||
	    untrusted_hdr.type != VMAPP_VSOCK_TYPE_STREAM) {
		if (vs->config.verbose)
			vmapp_log_limited(vs->config.log, "guest port %" PRIu32 " to CID %" PRIu64
					" port %" PRIu32 " type %u: reset",
					untrusted_hdr.src_port, untrusted_hdr.dst_cid,
					untrusted_hdr.dst_port, untrusted_hdr.type);
		reply_rst(vs, &untrusted_hdr);
		return;
	}

	struct conn *c = find_conn(vs, untrusted_hdr.src_port, untrusted_hdr.dst_port);
	if (untrusted_hdr.op == VMAPP_VSOCK_OP_REQUEST) {
		/* The guest picks its ports: a request on a pair we still
		 * hold means it forgot the old connection (a reset). */
		if (c)
			close_conn(vs, c, false, "replaced by a new request");
		open_conn(vs, &untrusted_hdr);
		return;
	}
	if (!c) {
		reply_rst(vs, &untrusted_hdr);
		return;
	}

	/* Every packet carries the guest's credit. */
	c->peer_buf_alloc = untrusted_hdr.buf_alloc;
	c->peer_fwd_cnt = untrusted_hdr.fwd_cnt;

	switch (untrusted_hdr.op) {
	case VMAPP_VSOCK_OP_RW:
		conn_data(vs, c, chain, untrusted_hdr.len);
		break;
	case VMAPP_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VMAPP_VSOCK_OP_CREDIT_REQUEST:
		c->need_credit_update = true;
		break;
	case VMAPP_VSOCK_OP_SHUTDOWN:
		if (untrusted_hdr.flags & VMAPP_VSOCK_SHUTDOWN_RCV)
			c->guest_shut_rcv = true;
		if (untrusted_hdr.flags & VMAPP_VSOCK_SHUTDOWN_SEND)
			c->guest_shut_send = true;
		if (c->connected && !c->connecting && conn_flush(vs, c) < 0)
			close_conn(vs, c, true, "unix side gone");
		break;
	case VMAPP_VSOCK_OP_RST:
		close_conn(vs, c, false, "reset by the guest");
		break;
	default:
		guest_violation(vs, c, "unexpected operation");
		break;
	}
}

/* Returns false when the budget ran out with chains left. */
static bool process_tx(struct vmapp_vsock *vs)
{
	for (int i = 0; i < TX_BUDGET; i++) {
		/* Each packet may need one reply slot. */
		if (vs->ctrl_len >= CTRL_QUEUE_MAX)
			return true;
		struct vmapp_vring_chain chain;
		enum vmapp_vring_rule rule;
		int r = vmapp_vring_pop(vs->tx, vs->mem, &chain, &rule);
		if (r == 0)
			return true;
		vs->signal_tx = true;
		if (r < 0) {
			vmapp_log_limited(vs->config.log, "guest: tx ring: %s%s",
					vmapp_vring_rule_name(rule),
					vs->tx->broken ? ", ring no longer served" : ", chain dropped");
			if (vs->tx->broken)
				return true;
			continue;
		}
		handle_packet(vs, &chain);
		vmapp_vring_push(vs->tx, chain.head, 0);
	}
	return !vmapp_vring_has_avail(vs->tx);
}

/* Sends what waits for RX buffers: replies, then each connection's
 * control packets, taking turns. */
static void flush_rx(struct vmapp_vsock *vs)
{
	while (vs->ctrl_len > 0) {
		if (!send_ctrl(vs, &vs->ctrl[vs->ctrl_head]))
			return;
		vs->ctrl_head = (vs->ctrl_head + 1) % CTRL_QUEUE_MAX;
		vs->ctrl_len--;
	}
	size_t n = vs->config.max_conns;
	for (size_t k = 0; k < n; k++) {
		struct conn *c = &vs->conns[(vs->rr + k) % n];
		if (!c->used)
			continue;
		if (c->need_response) {
			if (!send_conn_ctrl(vs, c, VMAPP_VSOCK_OP_RESPONSE, 0))
				return;
			c->need_response = false;
		}
		if (c->need_credit_update) {
			if (!send_conn_ctrl(vs, c, VMAPP_VSOCK_OP_CREDIT_UPDATE, 0))
				return;
			c->need_credit_update = false;
		}
		if (c->need_shutdown) {
			if (!send_conn_ctrl(vs, c, VMAPP_VSOCK_OP_SHUTDOWN, VMAPP_VSOCK_SHUTDOWN_SEND))
				return;
			c->need_shutdown = false;
			c->shutdown_sent = true;
		}
		/* Both directions done: the reset closes it for the guest,
		 * as a close() on its side waits for. */
		bool guest_done = c->guest_shut_send && c->buf_len == 0;
		bool host_done = c->shutdown_sent || c->guest_shut_rcv;
		if (guest_done && host_done)
			close_conn(vs, c, true, "closed");
	}
	vs->rr = (vs->rr + 1) % n;
	/* The resets of connections just closed. */
	while (vs->ctrl_len > 0) {
		if (!send_ctrl(vs, &vs->ctrl[vs->ctrl_head]))
			return;
		vs->ctrl_head = (vs->ctrl_head + 1) % CTRL_QUEUE_MAX;
		vs->ctrl_len--;
	}
}

static void rearm(struct vmapp_vsock *vs)
{
	bool rx_avail = vmapp_vring_has_avail(vs->rx);

	for (size_t i = 0; i < vs->config.max_conns; i++) {
		struct conn *c = &vs->conns[i];
		if (!c->used)
			continue;
		uint32_t want = 0;
		if (c->connecting || c->buf_len > 0)
			want |= EPOLLOUT;
		if (c->connected && !c->need_response && !c->host_eof && !c->guest_shut_rcv &&
		    peer_credit(c) > 0 && rx_avail)
			want |= EPOLLIN;
		if (want == c->events || vs->config.epoll_fd < 0)
			continue;
		/* Nothing wanted: out of the set, or a hung-up peer would
		 * report EPOLLHUP on every wait. */
		int r;
		if (want == 0) {
			r = epoll_ctl(vs->config.epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
		} else {
			struct epoll_event ev = {
				.events = want,
				.data.u64 = vs->config.epoll_base + i,
			};
			r = epoll_ctl(vs->config.epoll_fd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
					c->fd, &ev);
		}
		if (r < 0) {
			vmapp_log_limited(vs->config.log, "epoll_ctl: %s", strerror(errno));
			close_conn(vs, c, true, "epoll failed");
			continue;
		}
		c->events = want;
	}
}

bool vmapp_vsock_process(struct vmapp_vsock *vs)
{
	flush_rx(vs);
	bool done = process_tx(vs);
	flush_rx(vs);
	/* The replies may have made room for the TX chains held back. */
	if (done && vs->ctrl_len < CTRL_QUEUE_MAX && vmapp_vring_has_avail(vs->tx))
		done = false;
	rearm(vs);
	if (vs->signal_rx)
		vmapp_vring_signal(vs->rx);
	if (vs->signal_tx)
		vmapp_vring_signal(vs->tx);
	vs->signal_rx = vs->signal_tx = false;
	return !done;
}
