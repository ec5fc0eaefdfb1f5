/* SPDX-License-Identifier: MIT */
/*
 * vmapp-vsockd against a vhost-user front-end and a guest emulated here:
 * guest RAM is a memfd, the rings are laid out in it as a virtio driver
 * would, and this test plays both QEMU (the vhost-user messages) and the
 * guest's vsock driver (packets on the rings), with a unix listener
 * behind the forwarded port.
 *
 *   VMAPP_VSOCKD=path/to/vmapp-vsockd test-vsockd
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "test-vsockd: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(1); \
	} \
} while (0)

#define GUEST_CID 3
#define PORT 1234
#define HDR 44

enum { OP_REQUEST = 1, OP_RESPONSE, OP_RST, OP_SHUTDOWN, OP_RW, OP_CREDIT_UPDATE, OP_CREDIT_REQUEST };

/* vhost-user requests used here. */
enum {
	GET_FEATURES = 1, SET_FEATURES = 2, SET_OWNER = 3, SET_MEM_TABLE = 5,
	SET_VRING_NUM = 8, SET_VRING_ADDR = 9, SET_VRING_BASE = 10, GET_VRING_BASE = 11,
	SET_VRING_KICK = 12, SET_VRING_CALL = 13, GET_PROTOCOL_FEATURES = 15,
	SET_PROTOCOL_FEATURES = 16, SET_VRING_ENABLE = 18, GET_CONFIG = 24, SET_CONFIG = 25,
};
#define NEED_REPLY 0x8

/* Guest RAM: guest physical GPA_BASE.., front-end address UVA_BASE.. */
#define RAM_SIZE (4u << 20)
#define GPA_BASE 0x100000ull
#define UVA_BASE 0x7f1200000000ull
#define NUM 64

#define RX_RING 0x0000
#define TX_RING 0x4000
#define RX_BUFS 0x10000		/* 32 buffers of 8 KiB: 44 + 4096 used */
#define TX_BUF 0x80000		/* one packet at a time, up to 128 KiB */
#define RX_PAYLOAD 4096

static uint8_t *ram;
static int ram_fd;
static int fe = -1;		/* the front-end's connection */
static pid_t daemon_pid;
static char dir[32], sock_path[64], fwd_path[64], log_path[64];

struct ring {
	uint64_t off;		/* desc at off, avail at off + 0x1000, used at off + 0x2000 */
	uint16_t avail_idx;
	uint16_t used_seen;
	int kick, call;
};
static struct ring rx = { .off = RX_RING }, tx = { .off = TX_RING };

struct pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

/* ---- vhost-user front-end ---- */

static void send_msg(uint32_t request, uint32_t flags, const void *payload, uint32_t size,
		const int *fds, size_t n_fds)
{
	uint8_t buf[12 + 512];
	uint32_t h[3] = { htole32(request), htole32(0x1 | flags), htole32(size) };
	memcpy(buf, h, 12);
	if (size)
		memcpy(buf + 12, payload, size);
	struct iovec iov = { .iov_base = buf, .iov_len = 12 + size };
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} control;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n_fds) {
		mh.msg_control = control.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	CHECK(sendmsg(fe, &mh, MSG_NOSIGNAL) == (ssize_t)(12 + size));
}

/* Reads a reply to request; returns its payload size. */
static uint32_t recv_reply(uint32_t request, void *payload, uint32_t max)
{
	struct pollfd p = { .fd = fe, .events = POLLIN };
	CHECK(poll(&p, 1, 5000) == 1);
	uint32_t h[3];
	CHECK(recv(fe, h, 12, MSG_WAITALL) == 12);
	CHECK(le32toh(h[0]) == request);
	CHECK(le32toh(h[1]) == (0x1 | 0x4));
	uint32_t size = le32toh(h[2]);
	CHECK(size <= max);
	if (size)
		CHECK(recv(fe, payload, size, MSG_WAITALL) == (ssize_t)size);
	return size;
}

static uint64_t get_u64(uint32_t request)
{
	uint64_t v;
	send_msg(request, 0, NULL, 0, NULL, 0);
	CHECK(recv_reply(request, &v, 8) == 8);
	return le64toh(v);
}

static void set_u64(uint32_t request, uint64_t v, const int *fds, size_t n_fds)
{
	v = htole64(v);
	send_msg(request, 0, &v, 8, fds, n_fds);
}

static void set_state(uint32_t request, uint32_t index, uint32_t num)
{
	uint32_t s[2] = { htole32(index), htole32(num) };
	send_msg(request, 0, s, 8, NULL, 0);
}

static uint32_t get_vring_base(uint32_t index)
{
	uint32_t s[2] = { htole32(index), 0 };
	send_msg(GET_VRING_BASE, 0, s, 8, NULL, 0);
	CHECK(recv_reply(GET_VRING_BASE, s, 8) == 8);
	CHECK(le32toh(s[0]) == index);
	return le32toh(s[1]);
}

/* A request the back-end answers with u64 0 (success) or not. */
static uint64_t need_reply(uint32_t request, const void *payload, uint32_t size)
{
	uint64_t v;
	send_msg(request, NEED_REPLY, payload, size, NULL, 0);
	CHECK(recv_reply(request, &v, 8) == 8);
	return le64toh(v);
}

static void setup_ring(uint32_t index, struct ring *r)
{
	memset(ram + r->off, 0, 0x3000);
	r->avail_idx = r->used_seen = 0;
	set_state(SET_VRING_NUM, index, NUM);
	set_state(SET_VRING_BASE, index, 0);
	uint64_t addr[5] = {
		htole64(index),		/* u32 index, u32 flags */
		htole64(UVA_BASE + r->off),
		htole64(UVA_BASE + r->off + 0x2000),
		htole64(UVA_BASE + r->off + 0x1000),
		0,
	};
	send_msg(SET_VRING_ADDR, 0, addr, 40, NULL, 0);
	set_u64(SET_VRING_KICK, index, &r->kick, 1);
	set_u64(SET_VRING_CALL, index, &r->call, 1);
	set_state(SET_VRING_ENABLE, index, 1);
}

static void start_daemon(const char *extra_forward)
{
	snprintf(sock_path, sizeof(sock_path), "%s/vhost.sock", dir);
	char fwd[160], fwd2[160];
	snprintf(fwd, sizeof(fwd), "%d:%s", PORT, fwd_path);
	snprintf(fwd2, sizeof(fwd2), "%s", extra_forward);
	daemon_pid = fork();
	CHECK(daemon_pid >= 0);
	if (daemon_pid == 0) {
		const char *bin = getenv("VMAPP_VSOCKD");
		/* Its log, to count lines in. */
		int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (log < 0 || dup2(log, 2) < 0)
			_exit(127);
		execl(bin, bin, "--socket", sock_path, "--guest-cid", "3", "--forward", fwd,
				"--forward", fwd2, "--verbose", (char *)NULL);
		_exit(127);
	}
	fe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	for (int i = 0;; i++) {
		if (connect(fe, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		CHECK(i < 500);
		usleep(10000);
	}
}

static int wait_daemon(void)
{
	int status;
	for (int i = 0; i < 500; i++) {
		pid_t p = waitpid(daemon_pid, &status, WNOHANG);
		CHECK(p >= 0);
		if (p == daemon_pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(10000);
	}
	CHECK(!"vmapp-vsockd did not exit");
	return -1;
}

/* The daemon's log so far, NUL-terminated; the caller frees it. */
static char *read_log(void)
{
	FILE *f = fopen(log_path, "re");
	CHECK(f);
	char *text = calloc(1, 1 << 20);
	CHECK(text);
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The daemon serves the guest under its seccomp filter (mode 2) with
 * no new privileges. */
static void check_sandboxed(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)daemon_pid);
	FILE *f = fopen(path, "re");
	CHECK(f);
	char line[256];
	bool seccomp = false, nnp = false;
	while (fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "Seccomp:\t2\n"))
			seccomp = true;
		if (!strcmp(line, "NoNewPrivs:\t1\n"))
			nnp = true;
	}
	fclose(f);
	CHECK(seccomp);
	CHECK(nnp);
	fprintf(stderr, "test-vsockd: seccomp filter on, no new privileges\n");
}

/* ---- the guest's driver ---- */

static void put_desc(struct ring *r, unsigned i, uint64_t gpa, uint32_t len, uint16_t flags,
		uint16_t next)
{
	uint8_t *d = ram + r->off + 16 * i;
	uint64_t a = htole64(gpa);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);
	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 12, &f, 2);
	memcpy(d + 14, &n, 2);
}

static void post(struct ring *r, uint16_t head, bool kick)
{
	uint16_t h = htole16(head);
	memcpy(ram + r->off + 0x1000 + 4 + 2 * (r->avail_idx % NUM), &h, 2);
	r->avail_idx++;
	__atomic_store_n((uint16_t *)(ram + r->off + 0x1000 + 2), htole16(r->avail_idx),
			__ATOMIC_RELEASE);
	if (kick) {
		uint64_t one = 1;
		CHECK(write(r->kick, &one, 8) == 8);
	}
}

static uint16_t used_idx(const struct ring *r)
{
	return le16toh(__atomic_load_n((uint16_t *)(ram + r->off + 0x2000 + 2), __ATOMIC_ACQUIRE));
}

static void used_elem(const struct ring *r, uint16_t at, uint32_t *ret_id, uint32_t *ret_len)
{
	const uint8_t *e = ram + r->off + 0x2000 + 4 + 8 * (at % NUM);
	memcpy(ret_id, e, 4);
	memcpy(ret_len, e + 4, 4);
	*ret_id = le32toh(*ret_id);
	*ret_len = le32toh(*ret_len);
}

/* Waits up to ms for the used ring to pass used_seen; false on timeout. */
static bool wait_used(struct ring *r, int ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (used_idx(r) != r->used_seen)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (spent >= ms)
			return false;
		struct pollfd p = { .fd = r->call, .events = POLLIN };
		if (poll(&p, 1, (int)(ms - spent)) == 1) {
			uint64_t v;
			CHECK(read(r->call, &v, 8) == 8);
		}
	}
}

static void rx_post_all(void)
{
	for (unsigned i = 0; i < NUM / 2; i++) {
		uint64_t buf = GPA_BASE + RX_BUFS + 8192 * i;
		/* As Linux does: the header and the payload apart. */
		put_desc(&rx, 2 * i, buf, HDR, 2 | 1, 2 * i + 1);
		put_desc(&rx, 2 * i + 1, buf + 64, RX_PAYLOAD, 2, 0);
		post(&rx, 2 * i, false);
	}
	uint64_t one = 1;
	CHECK(write(rx.kick, &one, 8) == 8);
}

static void encode(const struct pkt *p, uint8_t *w)
{
	uint64_t q;
	uint32_t d;
	uint16_t s;
	q = htole64(p->src_cid); memcpy(w, &q, 8);
	q = htole64(p->dst_cid); memcpy(w + 8, &q, 8);
	d = htole32(p->src_port); memcpy(w + 16, &d, 4);
	d = htole32(p->dst_port); memcpy(w + 20, &d, 4);
	d = htole32(p->len); memcpy(w + 24, &d, 4);
	s = htole16(p->type); memcpy(w + 28, &s, 2);
	s = htole16(p->op); memcpy(w + 30, &s, 2);
	d = htole32(p->flags); memcpy(w + 32, &d, 4);
	d = htole32(p->buf_alloc); memcpy(w + 36, &d, 4);
	d = htole32(p->fwd_cnt); memcpy(w + 40, &d, 4);
}

static void decode(const uint8_t *w, struct pkt *p)
{
	memcpy(&p->src_cid, w, 8); p->src_cid = le64toh(p->src_cid);
	memcpy(&p->dst_cid, w + 8, 8); p->dst_cid = le64toh(p->dst_cid);
	memcpy(&p->src_port, w + 16, 4); p->src_port = le32toh(p->src_port);
	memcpy(&p->dst_port, w + 20, 4); p->dst_port = le32toh(p->dst_port);
	memcpy(&p->len, w + 24, 4); p->len = le32toh(p->len);
	memcpy(&p->type, w + 28, 2); p->type = le16toh(p->type);
	memcpy(&p->op, w + 30, 2); p->op = le16toh(p->op);
	memcpy(&p->flags, w + 32, 4); p->flags = le32toh(p->flags);
	memcpy(&p->buf_alloc, w + 36, 4); p->buf_alloc = le32toh(p->buf_alloc);
	memcpy(&p->fwd_cnt, w + 40, 4); p->fwd_cnt = le32toh(p->fwd_cnt);
}

/* Waits for the TX chain just posted to come back, with length 0. */
static void tx_wait(void)
{
	CHECK(wait_used(&tx, 5000));
	uint32_t id, len;
	used_elem(&tx, tx.used_seen, &id, &len);
	CHECK(len == 0);
	tx.used_seen++;
	CHECK(used_idx(&tx) == tx.used_seen);
}

/* Sends a packet as one descriptor or as header and payload apart. */
static void tx_send(const struct pkt *p, const void *payload, uint32_t payload_len, bool split)
{
	uint8_t *b = ram + TX_BUF;
	encode(p, b);
	if (payload_len)
		memcpy(b + 4096, payload, payload_len);
	if (split || payload_len == 0) {
		put_desc(&tx, 0, GPA_BASE + TX_BUF, HDR, payload_len ? 1 : 0, 1);
		put_desc(&tx, 1, GPA_BASE + TX_BUF + 4096, payload_len, 0, 0);
	} else {
		memmove(b + HDR, b + 4096, payload_len);
		put_desc(&tx, 0, GPA_BASE + TX_BUF, HDR + payload_len, 0, 0);
	}
	post(&tx, 0, true);
	tx_wait();
}

/* What the guest has read of the current connection: every packet
 * carries it, as the credit it gives. */
static uint32_t guest_fwd_cnt;

static struct pkt guest_pkt(uint32_t src_port, uint32_t dst_port, uint16_t op)
{
	return (struct pkt){
		.src_cid = GUEST_CID, .dst_cid = 2,
		.src_port = src_port, .dst_port = dst_port,
		.type = 1, .op = op,
		.buf_alloc = 65536,
		.fwd_cnt = guest_fwd_cnt,
	};
}

/* Takes the next packet from RX (false on timeout) and posts its buffer
 * again. */
static bool rx_recv(struct pkt *p, uint8_t *payload, int ms)
{
	if (!wait_used(&rx, ms))
		return false;
	uint32_t id, len;
	used_elem(&rx, rx.used_seen, &id, &len);
	rx.used_seen++;
	CHECK(id < NUM && id % 2 == 0);
	CHECK(len >= HDR && len <= HDR + RX_PAYLOAD);
	const uint8_t *buf = ram + RX_BUFS + 8192 * (id / 2);
	decode(buf, p);
	CHECK(p->len == len - HDR);
	/* From the host, but for a reset of a request to another CID: it
	 * comes back from where the guest sent it. */
	CHECK((p->src_cid == 2 || p->op == OP_RST) && p->dst_cid == GUEST_CID);
	if (payload)
		memcpy(payload, buf + 64, p->len);
	post(&rx, (uint16_t)id, true);
	return true;
}

static int accept_forward(int lfd)
{
	struct pollfd pf = { .fd = lfd, .events = POLLIN };
	CHECK(poll(&pf, 1, 5000) == 1);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	CHECK(fd >= 0);
	return fd;
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

/* ---- the scenarios ---- */

static void handshake(void)
{
	CHECK(get_u64(GET_FEATURES) == ((1ull << 32) | (1ull << 30)));
	CHECK(get_u64(GET_PROTOCOL_FEATURES) == (1ull << 9));
	set_u64(SET_PROTOCOL_FEATURES, 1ull << 9, NULL, 0);

	uint8_t cfg[12 + 8] = { 0 };
	uint32_t size = htole32(8);
	memcpy(cfg + 4, &size, 4);
	send_msg(GET_CONFIG, 0, cfg, sizeof(cfg), NULL, 0);
	CHECK(recv_reply(GET_CONFIG, cfg, sizeof(cfg)) == sizeof(cfg));
	uint64_t cid;
	memcpy(&cid, cfg + 12, 8);
	CHECK(le64toh(cid) == GUEST_CID);
	/* Outside the 8-byte config: an empty reply. */
	uint32_t off = htole32(4);
	memcpy(cfg, &off, 4);
	send_msg(GET_CONFIG, 0, cfg, sizeof(cfg), NULL, 0);
	CHECK(recv_reply(GET_CONFIG, cfg, sizeof(cfg)) == 0);

	send_msg(SET_OWNER, 0, NULL, 0, NULL, 0);
	/* need_reply is answered even though REPLY_ACK was not offered. */
	CHECK(need_reply(SET_OWNER, NULL, 0) == 0);
	CHECK(need_reply(SET_CONFIG, cfg, sizeof(cfg)) != 0);
	CHECK(need_reply(99, NULL, 0) != 0);
	/* A feature we did not offer is refused. */
	uint64_t bad = htole64(1ull << 29);
	CHECK(need_reply(SET_FEATURES, &bad, 8) != 0);
	set_u64(SET_FEATURES, (1ull << 32) | (1ull << 30), NULL, 0);

	uint8_t mem[8 + 32] = { 1 };
	uint64_t region[4] = { htole64(GPA_BASE), htole64(RAM_SIZE), htole64(UVA_BASE), 0 };
	memcpy(mem + 8, region, 32);
	send_msg(SET_MEM_TABLE, 0, mem, sizeof(mem), &ram_fd, 1);

	rx.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rx.call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	tx.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	tx.call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(rx.kick >= 0 && rx.call >= 0 && tx.kick >= 0 && tx.call >= 0);
	setup_ring(0, &rx);
	setup_ring(1, &tx);
	/* A round trip, so that everything above was handled. */
	CHECK(get_u64(GET_FEATURES) != 0);
	rx_post_all();
}

/* Connects guest port gport to PORT; returns the host end. */
static int guest_connect(int lfd, uint32_t gport, bool split)
{
	guest_fwd_cnt = 0;
	struct pkt p = guest_pkt(gport, PORT, OP_REQUEST);
	tx_send(&p, NULL, 0, split);
	int fd = accept_forward(lfd);
	struct pkt r;
	CHECK(rx_recv(&r, NULL, 5000));
	CHECK(r.op == OP_RESPONSE && r.src_port == PORT && r.dst_port == gport && r.type == 1);
	CHECK(r.buf_alloc == 256 * 1024);
	return fd;
}

static void expect_rst_from(uint64_t cid, uint32_t gport, uint32_t hport)
{
	struct pkt r;
	CHECK(rx_recv(&r, NULL, 5000));
	CHECK(r.op == OP_RST && r.dst_port == gport && r.src_port == hport && r.src_cid == cid);
}

static void expect_rst(uint32_t gport, uint32_t hport)
{
	expect_rst_from(2, gport, hport);
}

static void guest_to_host(int fd, uint32_t gport, size_t total)
{
	static uint8_t chunk[16384];
	uint32_t credit_alloc = 256 * 1024, credit_fwd = 0, sent = 0;
	size_t received = 0, n_updates = 0;

	while (received < total) {
		uint32_t credit = credit_alloc - (sent - credit_fwd);
		if (sent < total && credit > 0) {
			uint32_t n = sizeof(chunk);
			if (n > credit)
				n = credit;
			if (n > total - sent)
				n = (uint32_t)(total - sent);
			for (uint32_t i = 0; i < n; i++)
				chunk[i] = pattern(sent + i);
			struct pkt p = guest_pkt(gport, PORT, OP_RW);
			p.len = n;
			tx_send(&p, chunk, n, sent % 2);
			sent += n;
			continue;
		}
		/* Out of credit or done: the host reads, the back-end
		 * forwards and tells the guest. */
		uint8_t buf[65536];
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got > 0) {
			for (ssize_t i = 0; i < got; i++)
				CHECK(buf[i] == pattern(received + (size_t)i));
			received += (size_t)got;
		} else {
			CHECK(got < 0 && errno == EAGAIN);
		}
		struct pkt r;
		while (rx_recv(&r, NULL, got > 0 ? 0 : 20)) {
			CHECK(r.op == OP_CREDIT_UPDATE);
			credit_alloc = r.buf_alloc;
			credit_fwd = r.fwd_cnt;
			n_updates++;
		}
	}
	/* More than one buf_alloc went through: the credit came back. */
	CHECK(n_updates > 0);
	fprintf(stderr, "test-vsockd: guest to host: %zu bytes, %zu credit updates\n", total,
			n_updates);
}

static void host_to_guest(int fd, uint32_t gport, size_t total)
{
	static uint8_t buf[65536];
	size_t written = 0, received = 0;
	uint32_t guest_fwd = 0, told = 0;
	const uint32_t guest_alloc = 65536;

	while (received < total) {
		if (written < total) {
			size_t n = total - written < sizeof(buf) ? total - written : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(written + i);
			ssize_t w = write(fd, buf, n);
			if (w > 0)
				written += (size_t)w;
			else
				CHECK(errno == EAGAIN);
		}
		struct pkt r;
		uint8_t payload[RX_PAYLOAD];
		if (!rx_recv(&r, payload, 20))
			continue;
		CHECK(r.op == OP_RW && r.dst_port == gport);
		/* The back-end keeps to the guest's credit. */
		CHECK(received + r.len - told <= guest_alloc);
		for (uint32_t i = 0; i < r.len; i++)
			CHECK(payload[i] == pattern(received + i));
		received += r.len;
		guest_fwd += r.len;
		guest_fwd_cnt = guest_fwd;
		/* The guest's application read it: half the credit back. */
		if (guest_fwd - told >= guest_alloc / 2) {
			struct pkt u = guest_pkt(gport, PORT, OP_CREDIT_UPDATE);
			u.buf_alloc = guest_alloc;
			u.fwd_cnt = guest_fwd;
			tx_send(&u, NULL, 0, false);
			told = guest_fwd;
		}
	}
	fprintf(stderr, "test-vsockd: host to guest: %zu bytes\n", total);
}

static void hostile_chains(int lfd)
{
	/* A descriptor outside guest memory: that chain comes back empty. */
	put_desc(&tx, 0, GPA_BASE + RAM_SIZE - 8, HDR, 0, 0);
	post(&tx, 0, true);
	tx_wait();
	/* A loop of two descriptors. */
	put_desc(&tx, 0, GPA_BASE + TX_BUF, HDR, 1, 1);
	put_desc(&tx, 1, GPA_BASE + TX_BUF, HDR, 1, 0);
	post(&tx, 0, true);
	tx_wait();
	/* next out of range, and an address that wraps around. */
	put_desc(&tx, 0, GPA_BASE + TX_BUF, HDR, 1, NUM);
	post(&tx, 0, true);
	tx_wait();
	put_desc(&tx, 0, UINT64_MAX - 10, HDR, 0, 0);
	post(&tx, 0, true);
	tx_wait();
	/* A header-only buffer too short for a header. */
	put_desc(&tx, 0, GPA_BASE + TX_BUF, 10, 0, 0);
	post(&tx, 0, true);
	tx_wait();

	/* A packet claiming more payload than its buffer: dropped. */
	struct pkt p = guest_pkt(7000, 999, OP_REQUEST);
	p.len = 100;
	encode(&p, ram + TX_BUF);
	put_desc(&tx, 0, GPA_BASE + TX_BUF, HDR + 10, 0, 0);
	post(&tx, 0, true);
	tx_wait();
	expect_rst(7000, 999);
	/* Not from the guest's own CID: dropped without a word. */
	p = guest_pkt(7001, PORT, OP_REQUEST);
	p.src_cid = 77;
	tx_send(&p, NULL, 0, false);
	struct pkt r;
	CHECK(!rx_recv(&r, NULL, 200));

	/* Still serving. */
	int fd = guest_connect(lfd, 7002, true);
	CHECK(write(fd, "ok", 2) == 2);
	uint8_t payload[RX_PAYLOAD];
	CHECK(rx_recv(&r, payload, 5000));
	CHECK(r.op == OP_RW && r.len == 2 && !memcmp(payload, "ok", 2));
	struct pkt rst = guest_pkt(7002, PORT, OP_RST);
	tx_send(&rst, NULL, 0, false);
	uint8_t b;
	for (int i = 0; i < 500; i++) {
		ssize_t n = read(fd, &b, 1);
		if (n == 0)
			break;
		CHECK(n < 0 && errno == EAGAIN);
		CHECK(i < 499);
		usleep(10000);
	}
	close(fd);

	/* The avail index far ahead: the TX ring is no longer served... */
	uint16_t jump = htole16(tx.avail_idx + NUM + 5);
	__atomic_store_n((uint16_t *)(ram + tx.off + 0x1000 + 2), jump, __ATOMIC_RELEASE);
	uint64_t one = 1;
	CHECK(write(tx.kick, &one, 8) == 8);
	CHECK(!wait_used(&tx, 200));
	/* ...until the front-end sets it up again, GET_VRING_BASE telling
	 * where the back-end stopped. */
	CHECK(get_vring_base(1) == tx.used_seen);
	CHECK(get_vring_base(0) == rx.used_seen);
	tx.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	setup_ring(1, &tx);
	rx.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	set_u64(SET_VRING_KICK, 0, &rx.kick, 1);
	fd = guest_connect(lfd, 7003, false);
	tx_send(&(struct pkt){ .src_cid = GUEST_CID, .dst_cid = 2, .src_port = 7003,
			.dst_port = PORT, .type = 1, .op = OP_RST }, NULL, 0, false);
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("VMAPP_VSOCKD")) {
		fprintf(stderr, "test-vsockd: VMAPP_VSOCKD not set\n");
		return 99;
	}
	snprintf(dir, sizeof(dir), "/tmp/test-vsockd.XXXXXX");
	CHECK(mkdtemp(dir));
	snprintf(fwd_path, sizeof(fwd_path), "%s/fwd.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/vsockd.log", dir);

	ram_fd = memfd_create("guest-ram", MFD_CLOEXEC);
	CHECK(ram_fd >= 0 && ftruncate(ram_fd, RAM_SIZE) == 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	CHECK(ram != MAP_FAILED);

	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", fwd_path);
	CHECK(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 8) == 0);

	char missing[160];
	snprintf(missing, sizeof(missing), "4321:%s/missing.sock", dir);
	start_daemon(missing);
	handshake();
	fprintf(stderr, "test-vsockd: handshake done\n");
	check_sandboxed();

	/* Refused: a port without a forward, a forward whose socket is
	 * not there, a type other than stream, a CID other than the host,
	 * and packets for no connection. */
	struct pkt p = guest_pkt(5000, 999, OP_REQUEST);
	tx_send(&p, NULL, 0, false);
	expect_rst(5000, 999);
	p = guest_pkt(5001, 4321, OP_REQUEST);
	tx_send(&p, NULL, 0, true);
	expect_rst(5001, 4321);
	p = guest_pkt(5002, PORT, OP_REQUEST);
	p.type = 2;
	tx_send(&p, NULL, 0, false);
	expect_rst(5002, PORT);
	p = guest_pkt(5003, PORT, OP_REQUEST);
	p.dst_cid = 5;
	tx_send(&p, NULL, 0, false);
	expect_rst_from(5, 5003, PORT);
	p = guest_pkt(5004, PORT, OP_RW);
	tx_send(&p, NULL, 0, false);
	expect_rst(5004, PORT);
	fprintf(stderr, "test-vsockd: refusals done\n");

	/* A guest looping over a bad packet does not fill the host's disk:
	 * after the burst, its lines are held back, and counted. */
	char *log = read_log();
	size_t before = count(log, "a packet from CID 77");
	free(log);
	CHECK(before == 0);
	for (int i = 0; i < 500; i++) {
		p = guest_pkt(5100, PORT, OP_REQUEST);
		p.src_cid = 77;
		tx_send(&p, NULL, 0, false);
	}
	log = read_log();
	size_t flood = count(log, "a packet from CID 77");
	free(log);
	/* Bounded by the burst, and the time the loop took at five a
	 * second. */
	CHECK(flood > 0 && flood < 100);
	fprintf(stderr, "test-vsockd: 500 bad packets, %zu lines\n", flood);

	/* A connection: data both ways, more than a buf_alloc each. */
	int fd = guest_connect(lfd, 6000, false);
	guest_to_host(fd, 6000, 600 * 1024);
	host_to_guest(fd, 6000, 600 * 1024);

	/* Guest SHUTDOWN(SEND): the host reads EOF. */
	p = guest_pkt(6000, PORT, OP_SHUTDOWN);
	p.flags = 2;
	tx_send(&p, NULL, 0, false);
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	CHECK(poll(&pf, 1, 5000) == 1);
	char c;
	CHECK(read(fd, &c, 1) == 0);
	/* The host closes: SHUTDOWN(SEND) to the guest, then, both ways
	 * done, RST. */
	close(fd);
	struct pkt r;
	CHECK(rx_recv(&r, NULL, 5000));
	CHECK(r.op == OP_SHUTDOWN && (r.flags & 2) && r.dst_port == 6000);
	expect_rst(6000, PORT);
	fprintf(stderr, "test-vsockd: connection and shutdown done\n");

	/* A guest that sends beyond its credit is reset. */
	fd = guest_connect(lfd, 6100, false);
	static uint8_t big[65536];
	bool reset = false;
	for (int i = 0; i < 40 && !reset; i++) {
		p = guest_pkt(6100, PORT, OP_RW);
		p.len = sizeof(big);
		tx_send(&p, big, sizeof(big), true);
		while (rx_recv(&r, NULL, 0)) {
			if (r.op == OP_RST) {
				CHECK(r.dst_port == 6100);
				reset = true;
			}
		}
	}
	CHECK(reset);
	close(fd);
	fprintf(stderr, "test-vsockd: credit violation done\n");

	/* A guest close: SHUTDOWN(RCV|SEND) gets the RST it waits for. */
	fd = guest_connect(lfd, 6200, true);
	p = guest_pkt(6200, PORT, OP_SHUTDOWN);
	p.flags = 3;
	tx_send(&p, NULL, 0, false);
	expect_rst(6200, PORT);
	close(fd);

	hostile_chains(lfd);
	fprintf(stderr, "test-vsockd: hostile chains done\n");

	/* The front-end goes: the back-end exits 0, and says how many
	 * lines it held back. */
	close(fe);
	CHECK(wait_daemon() == 0);
	log = read_log();
	CHECK(count(log, " suppressed (more than 5 a second)\n") > 0);
	fprintf(stderr, "--- vmapp-vsockd's log\n%s---\n", log);
	free(log);

	/* A malformed message ends it with 1: SET_MEM_TABLE without its fd. */
	start_daemon(missing);
	uint8_t mem[8 + 32] = { 1 };
	send_msg(SET_MEM_TABLE, 0, mem, sizeof(mem), NULL, 0);
	CHECK(wait_daemon() == 1);
	close(fe);
	/* And a size that is not the message's. */
	start_daemon(missing);
	send_msg(SET_FEATURES, 0, mem, 4, NULL, 0);
	CHECK(wait_daemon() == 1);
	close(fe);

	unlink(fwd_path);
	unlink(log_path);
	rmdir(dir);
	fprintf(stderr, "test-vsockd: all passed\n");
	return 0;
}
