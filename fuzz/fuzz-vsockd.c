/* SPDX-License-Identifier: MIT */
/*
 * vmapp-vsockd's rings and vsock device, driven by a guest that writes
 * what it likes into its memory, and a host whose unix sockets talk
 * back (socketpairs, in-process).  The input is a script:
 *
 *   byte 0: ring sizes: RX 2^(1 + (b & 7)), TX 2^(1 + (b >> 3 & 7)),
 *           each at most 128; bit 7 set: vhost-user mode, below
 *   then operations, each an opcode byte and its operands:
 *     0 OFF16 LEN8 BYTES  the guest writes guest RAM at OFF (little-endian)
 *     1                   the device processes its rings
 *     2                   every connection is ready (EPOLLIN | EPOLLOUT)
 *     3 N LEN8 BYTES      the host end of the Nth connection writes
 *     4 N                 ... closes
 *     5 N                 ... shuts its writing side
 *     6                   every host end reads all it can
 *     7                   device reset (the front-end restarted the rings)
 *
 * Guest RAM is 64 KiB at guest physical and front-end address 0x10000:
 * RX descriptors at +0x0000, avail +0x0800, used +0x0a00; TX at +0x1000,
 * +0x1800, +0x1a00; the rest is for buffers.  The guest CID is 3; ports
 * 1 and 2 are forwarded.
 *
 * vhost-user mode: the rest of the input is what the front-end sends,
 * without fds; every message is dispatched until the stream ends.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "vhost-user.h"
#include "vring.h"
#include "vsock.h"

#define RAM_SIZE 0x10000
#define RAM_BASE 0x10000
#define MAX_PEERS 64

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static int peers[MAX_PEERS];
static size_t n_peers;

/* A clock that jumps a second a line: the limiter never holds one back. */
static uint64_t trace_clock(void *data)
{
	uint64_t *now = data;
	return *now += UINT64_C(1000000000);
}

/* Every line the guest causes under VMAPP_FUZZ_TRACE; none otherwise, so
 * that the fuzzer runs at full speed. */
static struct vmapp_log *fuzz_log(void)
{
	static struct vmapp_log log;
	static uint64_t now;
	static bool ready;

	if (!fuzz_trace())
		return NULL;
	if (!ready) {
		vmapp_log_init(&log, stderr, trace_clock, &now);
		ready = true;
	}
	return &log;
}

static int connect_pair(void *data, const struct vmapp_vsock_forward *forward,
		bool *ret_connecting)
{
	int sv[2];

	*ret_connecting = false;
	if (n_peers == MAX_PEERS)
		return -ECONNREFUSED;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	peers[n_peers++] = sv[1];
	return sv[0];
}

static void setup_ring(struct vmapp_vring *vr, const struct vmapp_mem *mem, uint32_t num,
		uint64_t base)
{
	vmapp_vring_init(vr);
	FUZZ_CHECK(vmapp_vring_set_num(vr, num) == 0);
	vr->desc_addr = base;
	vr->avail_addr = base + 0x800;
	vr->used_addr = base + 0xa00;
	vr->addr_set = true;
	FUZZ_CHECK(vmapp_vring_map(vr, mem, true) == 0);
	vr->started = vr->enabled = true;
}

/* Every chain taken is given back within the same call: none in flight. */
static void check_ring(const struct vmapp_vring *vr)
{
	FUZZ_CHECK(vr->broken || vr->last_avail == vr->used_idx);
}

static void fuzz_vhost(const uint8_t *data, size_t size)
{
	int sv[2];

	/* Whole messages only within a socket buffer's reach, so that the
	 * write below never blocks. */
	if (size > 65536)
		return;
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(sv[1], data + done, size - done);
		FUZZ_CHECK(n > 0);
		done += (size_t)n;
	}
	/* The end of the input is the front-end hanging up, and no reply
	 * may block: the replies go to a socket nobody reads, within its
	 * buffer for any input this size. */
	shutdown(sv[1], SHUT_WR);
	struct vmapp_vhost *vh = vmapp_vhost_create(sv[0], 3, fuzz_trace(), fuzz_log(), -1, 0);
	FUZZ_CHECK(vh);
	int r;
	for (int i = 0; i < 4096 && (r = vmapp_vhost_dispatch(vh)) > 0; i++)
		;
	vmapp_vhost_destroy(vh);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		fuzz_vhost(data + 1, size - 1);
		return 0;
	}

	memset(ram, 0, sizeof(ram));
	struct vmapp_mem mem = {
		.n_regions = 1,
		.regions = { { .gpa = RAM_BASE, .uva = RAM_BASE, .size = RAM_SIZE, .ptr = ram } },
	};
	struct vmapp_vring rx, tx;
	setup_ring(&rx, &mem, 1u << (1 + (data[0] & 7) % 7), RAM_BASE);
	setup_ring(&tx, &mem, 1u << (1 + (data[0] >> 3 & 7) % 7), RAM_BASE + 0x1000);

	static const struct vmapp_vsock_forward forwards[] = {
		{ .port = 1, .path = "one" },
		{ .port = 2, .path = "two" },
	};
	struct vmapp_vsock_config config = {
		.guest_cid = 3,
		.forwards = forwards,
		.n_forwards = 2,
		.verbose = fuzz_trace(),
		.log = fuzz_log(),
		/* Small, so that inputs reach the limits. */
		.buf_alloc = 4096,
		.max_conns = 4,
		.epoll_fd = -1,
		.connect = connect_pair,
	};
	n_peers = 0;
	struct vmapp_vsock *vs = vmapp_vsock_create(&config, &rx, &tx, &mem);
	FUZZ_CHECK(vs);

	size_t i = 1;
	while (i < size) {
		uint8_t op = data[i++];
		switch (op % 8) {
		case 0: {
			if (size - i < 3)
				goto out;
			size_t off = data[i] | (size_t)data[i + 1] << 8;
			size_t len = data[i + 2];
			i += 3;
			if (len > size - i)
				len = size - i;
			if (off + len <= RAM_SIZE)
				memcpy(ram + off, data + i, len);
			i += len;
			break;
		}
		case 2:
			for (uint32_t s = 0; s < config.max_conns; s++)
				vmapp_vsock_handle_conn(vs, s, EPOLLIN | EPOLLOUT);
			break;
		case 3: {
			if (size - i < 2)
				goto out;
			size_t n = data[i], len = data[i + 1];
			i += 2;
			if (len > size - i)
				len = size - i;
			if (n < n_peers && peers[n] >= 0 && len > 0) {
				ssize_t w = send(peers[n], data + i, len, MSG_NOSIGNAL);
				(void)w;
			}
			i += len;
			break;
		}
		case 4:
		case 5: {
			if (size - i < 1)
				goto out;
			size_t n = data[i++];
			if (n < n_peers && peers[n] >= 0) {
				if (op % 8 == 4) {
					close(peers[n]);
					peers[n] = -1;
				} else {
					shutdown(peers[n], SHUT_WR);
				}
			}
			break;
		}
		case 6:
			for (size_t n = 0; n < n_peers; n++) {
				uint8_t buf[4096];
				while (peers[n] >= 0 && read(peers[n], buf, sizeof(buf)) > 0)
					;
			}
			break;
		case 7:
			vmapp_vsock_reset(vs);
			break;
		default:
			vmapp_vsock_process(vs);
			break;
		}
		check_ring(&rx);
		check_ring(&tx);
		FUZZ_CHECK(vmapp_vsock_n_conns(vs) <= config.max_conns);
	}
out:
	vmapp_vsock_process(vs);
	check_ring(&rx);
	check_ring(&tx);
	vmapp_vsock_destroy(vs);
	vmapp_vring_finish(&rx);
	vmapp_vring_finish(&tx);
	for (size_t n = 0; n < n_peers; n++)
		if (peers[n] >= 0)
			close(peers[n]);
	return 0;
}
