/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user back-end side of one front-end connection (QEMU's
 * docs/interop/vhost-user.rst): feature negotiation, the guest memory
 * table, the two vsock rings and their eventfds, and the device config.
 *
 * The front-end is QEMU, which the guest can reach but not drive at will;
 * its messages are still checked for size and fd count, and a malformed
 * one ends the connection rather than the process's memory safety.
 *
 * What ends the connection is logged as is; what does not (a refused
 * request, the verbose log of rings the guest resets) goes through the
 * rate limit of log.h: a guest that resets its device in a loop makes
 * the front-end send the same messages in a loop.
 */
#ifndef VMAPP_VHOST_USER_H
#define VMAPP_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "vring.h"

/* vhost-user-vsock's back-end rings; the event queue stays in QEMU. */
enum {
	VMAPP_VHOST_RING_RX = 0,	/* host to guest, guest-writable buffers */
	VMAPP_VHOST_RING_TX = 1,	/* guest to host */
	VMAPP_VHOST_N_RINGS = 2,
};

/* Feature bits we offer: nothing else, so no EVENT_IDX, no indirect
 * descriptors, and rings that start disabled until SET_VRING_ENABLE. */
#define VMAPP_VIRTIO_F_VERSION_1 32
#define VMAPP_VHOST_USER_F_PROTOCOL_FEATURES 30
#define VMAPP_VHOST_USER_PROTOCOL_F_CONFIG 9

/* Requests (vhost-user.rst, "Front-end message types"). */
enum vmapp_vhost_request {
	VMAPP_VHOST_GET_FEATURES = 1,
	VMAPP_VHOST_SET_FEATURES = 2,
	VMAPP_VHOST_SET_OWNER = 3,
	VMAPP_VHOST_RESET_OWNER = 4,
	VMAPP_VHOST_SET_MEM_TABLE = 5,
	VMAPP_VHOST_SET_LOG_BASE = 6,
	VMAPP_VHOST_SET_LOG_FD = 7,
	VMAPP_VHOST_SET_VRING_NUM = 8,
	VMAPP_VHOST_SET_VRING_ADDR = 9,
	VMAPP_VHOST_SET_VRING_BASE = 10,
	VMAPP_VHOST_GET_VRING_BASE = 11,
	VMAPP_VHOST_SET_VRING_KICK = 12,
	VMAPP_VHOST_SET_VRING_CALL = 13,
	VMAPP_VHOST_SET_VRING_ERR = 14,
	VMAPP_VHOST_GET_PROTOCOL_FEATURES = 15,
	VMAPP_VHOST_SET_PROTOCOL_FEATURES = 16,
	VMAPP_VHOST_GET_QUEUE_NUM = 17,
	VMAPP_VHOST_SET_VRING_ENABLE = 18,
	VMAPP_VHOST_GET_CONFIG = 24,
	VMAPP_VHOST_SET_CONFIG = 25,
};

/* Header flags: the version in the low two bits, then these. */
#define VMAPP_VHOST_VERSION 0x1
#define VMAPP_VHOST_FLAG_REPLY 0x4
#define VMAPP_VHOST_FLAG_NEED_REPLY 0x8
/* In the u64 of SET_VRING_KICK/CALL/ERR: the ring index in the low byte,
 * and this bit when no fd comes with it. */
#define VMAPP_VHOST_VRING_NOFD 0x100

#define VMAPP_VHOST_HDR_SIZE 12
/* Our largest accepted payload: the memory table is 8 + 8 * 32 bytes and
 * a config message 12 + 256. */
#define VMAPP_VHOST_MAX_PAYLOAD 4096
#define VMAPP_VHOST_MAX_CONFIG 256

struct vmapp_vhost {
	int fd;			/* the front-end connection, owned */
	uint64_t guest_cid;
	bool verbose;
	struct vmapp_log *log;	/* borrowed; NULL: refusals are not logged */

	uint64_t features;	/* acked by SET_FEATURES */
	uint64_t protocol_features;
	bool owner;

	struct vmapp_mem mem;
	void *maps[VMAPP_MEM_MAX_REGIONS];	/* our mappings of mem's regions */
	size_t map_lens[VMAPP_MEM_MAX_REGIONS];

	struct vmapp_vring rings[VMAPP_VHOST_N_RINGS];
	int kick_fds[VMAPP_VHOST_N_RINGS];	/* -1: none */
	/* Kick fds are in this epoll set (data.u64 = kick_base + ring) while
	 * we hold them; -1: none.  They are taken out before they are
	 * closed: the front-end keeps the same open file, so a close alone
	 * would leave them in the set. */
	int epoll_fd;
	uint64_t kick_base;
	/* Set by RESET_OWNER: the guest's connections are gone. */
	bool reset;
};

/* Takes ownership of fd; NULL on allocation failure (fd then closed).
 * log may be NULL. */
struct vmapp_vhost *vmapp_vhost_create(int fd, uint64_t guest_cid, bool verbose,
		struct vmapp_log *log, int epoll_fd, uint64_t kick_base);
void vmapp_vhost_destroy(struct vmapp_vhost *vh);	/* NULL allowed */

/*
 * Reads one message from the front-end and acts on it.  Returns 1 when
 * handled (a refused request included: it was logged and, if asked,
 * answered with failure), 0 when the front-end hung up, -EBADMSG for a
 * malformed message and other -errno on I/O failure: both end the
 * connection.
 */
int vmapp_vhost_dispatch(struct vmapp_vhost *vh);

const char *vmapp_vhost_request_name(uint32_t request);

#endif
