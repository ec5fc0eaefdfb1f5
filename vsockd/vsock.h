/* SPDX-License-Identifier: MIT */
/*
 * The vsock device behind the rings (virtio spec, "Socket Device"):
 * packets from the guest's TX ring, packets to its RX ring, and the
 * guest's stream connections to the host, each delivered to a unix
 * socket ("hybrid vsock").  Credit flow control both ways; a cap on
 * connections and on what each may have buffered.
 *
 * Every header field read from the TX ring is the guest's and checked
 * before use; a violation resets that connection (or drops the packet)
 * and is logged, never more, and rate-limited (log.h): a guest looping
 * over bad packets does not fill the host's disk.
 */
#ifndef VMAPP_VSOCK_H
#define VMAPP_VSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "vring.h"

#define VMAPP_VSOCK_HOST_CID 2
#define VMAPP_VSOCK_MIN_GUEST_CID 3
#define VMAPP_VSOCK_MAX_GUEST_CID 0xfffffffeu

/* struct virtio_vsock_hdr: 44 bytes, little-endian, packed. */
#define VMAPP_VSOCK_HDR_SIZE 44

enum vmapp_vsock_op {
	VMAPP_VSOCK_OP_REQUEST = 1,
	VMAPP_VSOCK_OP_RESPONSE = 2,
	VMAPP_VSOCK_OP_RST = 3,
	VMAPP_VSOCK_OP_SHUTDOWN = 4,
	VMAPP_VSOCK_OP_RW = 5,
	VMAPP_VSOCK_OP_CREDIT_UPDATE = 6,
	VMAPP_VSOCK_OP_CREDIT_REQUEST = 7,
};
#define VMAPP_VSOCK_TYPE_STREAM 1
#define VMAPP_VSOCK_SHUTDOWN_RCV 1
#define VMAPP_VSOCK_SHUTDOWN_SEND 2

struct vmapp_vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

/* Host byte order to the 44 wire bytes and back. */
void vmapp_vsock_hdr_encode(const struct vmapp_vsock_hdr *hdr, uint8_t out[VMAPP_VSOCK_HDR_SIZE]);
void vmapp_vsock_hdr_decode(const uint8_t in[VMAPP_VSOCK_HDR_SIZE], struct vmapp_vsock_hdr *ret_hdr);

struct vmapp_vsock_forward {
	uint32_t port;
	const char *path;	/* a unix stream socket on the host */
};

struct vmapp_vsock_config {
	uint64_t guest_cid;
	const struct vmapp_vsock_forward *forwards;	/* borrowed */
	size_t n_forwards;
	bool verbose;
	/* Every line this device writes is the guest's doing: all go
	 * through this limiter.  Borrowed; NULL: nothing is written. */
	struct vmapp_log *log;
	uint32_t buf_alloc;	/* per connection; 0: 256 KiB */
	unsigned max_conns;	/* 0: 64 */
	/* Connection fds go into this epoll set with data.u64 = epoll_base
	 * plus the connection's slot; -1: none (the caller drives
	 * vmapp_vsock_handle_conn itself). */
	int epoll_fd;
	uint64_t epoll_base;
	/* Opens the host end of a forward: a non-blocking, close-on-exec
	 * stream socket, *ret_connecting set while the connect is in
	 * progress; or -errno.  NULL: connect to the forward's path. */
	int (*connect)(void *data, const struct vmapp_vsock_forward *forward,
			bool *ret_connecting);
	void *connect_data;
};

struct vmapp_vsock;

/* rx, tx and mem are borrowed and must outlive the device. */
struct vmapp_vsock *vmapp_vsock_create(const struct vmapp_vsock_config *config,
		struct vmapp_vring *rx, struct vmapp_vring *tx, const struct vmapp_mem *mem);
void vmapp_vsock_destroy(struct vmapp_vsock *vs);	/* NULL allowed */

/* Closes every connection without telling the guest: after a device
 * reset it has forgotten them. */
void vmapp_vsock_reset(struct vmapp_vsock *vs);

/* The connection in slot is ready (epoll events); a slot no longer in
 * use is ignored. */
void vmapp_vsock_handle_conn(struct vmapp_vsock *vs, uint32_t slot, uint32_t events);

/*
 * Serves the rings: takes the guest's packets from TX, fills RX with
 * what is pending, and updates which connection fds are polled.  Call
 * after every batch of events.  Returns true when work is left that no
 * event will announce (a budget ran out): call again without waiting.
 */
bool vmapp_vsock_process(struct vmapp_vsock *vs);

/* The number of open connections, for tests. */
size_t vmapp_vsock_n_conns(const struct vmapp_vsock *vs);

#endif
