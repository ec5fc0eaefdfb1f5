/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost-user.h"

#define OFFERED_FEATURES ((UINT64_C(1) << VMAPP_VIRTIO_F_VERSION_1) | \
		(UINT64_C(1) << VMAPP_VHOST_USER_F_PROTOCOL_FEATURES))
/* Only CONFIG: QEMU's vhost-user-vsock will not realize without
 * GET_CONFIG.  No REPLY_ACK, MQ or BACKEND_REQ. */
#define OFFERED_PROTOCOL_FEATURES (UINT64_C(1) << VMAPP_VHOST_USER_PROTOCOL_F_CONFIG)

/* struct virtio_vsock_config: le64 guest_cid. */
#define VSOCK_CONFIG_SIZE 8

struct msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[VMAPP_VHOST_MAX_PAYLOAD];
	int fds[VMAPP_MEM_MAX_REGIONS];
	size_t n_fds;
};

static const char *const request_names[] = {
	[VMAPP_VHOST_GET_FEATURES] = "GET_FEATURES",
	[VMAPP_VHOST_SET_FEATURES] = "SET_FEATURES",
	[VMAPP_VHOST_SET_OWNER] = "SET_OWNER",
	[VMAPP_VHOST_RESET_OWNER] = "RESET_OWNER",
	[VMAPP_VHOST_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VMAPP_VHOST_SET_LOG_BASE] = "SET_LOG_BASE",
	[VMAPP_VHOST_SET_LOG_FD] = "SET_LOG_FD",
	[VMAPP_VHOST_SET_VRING_NUM] = "SET_VRING_NUM",
	[VMAPP_VHOST_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VMAPP_VHOST_SET_VRING_BASE] = "SET_VRING_BASE",
	[VMAPP_VHOST_GET_VRING_BASE] = "GET_VRING_BASE",
	[VMAPP_VHOST_SET_VRING_KICK] = "SET_VRING_KICK",
	[VMAPP_VHOST_SET_VRING_CALL] = "SET_VRING_CALL",
	[VMAPP_VHOST_SET_VRING_ERR] = "SET_VRING_ERR",
	[VMAPP_VHOST_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VMAPP_VHOST_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VMAPP_VHOST_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VMAPP_VHOST_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VMAPP_VHOST_GET_CONFIG] = "GET_CONFIG",
	[VMAPP_VHOST_SET_CONFIG] = "SET_CONFIG",
};

const char *vmapp_vhost_request_name(uint32_t request)
{
	if (request < sizeof(request_names) / sizeof(request_names[0]) && request_names[request])
		return request_names[request];
	return "unknown request";
}

static void unmap_table(struct vmapp_vhost *vh)
{
	for (unsigned i = 0; i < VMAPP_MEM_MAX_REGIONS; i++) {
		if (vh->maps[i])
			munmap(vh->maps[i], vh->map_lens[i]);
		vh->maps[i] = NULL;
		vh->map_lens[i] = 0;
	}
	vh->mem = (struct vmapp_mem){ 0 };
}

static void remap_rings(struct vmapp_vhost *vh)
{
	for (int i = 0; i < VMAPP_VHOST_N_RINGS; i++) {
		struct vmapp_vring *vr = &vh->rings[i];
		if (vr->num && vr->addr_set && vmapp_vring_map(vr, &vh->mem, false) < 0)
			vmapp_log_limited(vh->log, "ring %d: not inside the new memory table", i);
	}
}

/* Replaces a ring's kick fd (-1: none); -errno if epoll refuses it. */
static int set_kick(struct vmapp_vhost *vh, int index, int fd)
{
	int old = vh->kick_fds[index];

	if (old >= 0) {
		if (vh->epoll_fd >= 0)
			epoll_ctl(vh->epoll_fd, EPOLL_CTL_DEL, old, NULL);
		close(old);
	}
	vh->kick_fds[index] = fd;
	if (fd >= 0 && vh->epoll_fd >= 0) {
		struct epoll_event ev = {
			.events = EPOLLIN,
			.data.u64 = vh->kick_base + (uint64_t)index,
		};
		if (epoll_ctl(vh->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int r = -errno;
			close(fd);
			vh->kick_fds[index] = -1;
			return r;
		}
	}
	return 0;
}

static void reset_rings(struct vmapp_vhost *vh)
{
	for (int i = 0; i < VMAPP_VHOST_N_RINGS; i++) {
		vmapp_vring_finish(&vh->rings[i]);
		set_kick(vh, i, -1);
	}
}

struct vmapp_vhost *vmapp_vhost_create(int fd, uint64_t guest_cid, bool verbose,
		struct vmapp_log *log, int epoll_fd, uint64_t kick_base)
{
	struct vmapp_vhost *vh = calloc(1, sizeof(*vh));
	if (!vh) {
		close(fd);
		return NULL;
	}
	vh->fd = fd;
	vh->guest_cid = guest_cid;
	vh->verbose = verbose;
	vh->log = log;
	vh->epoll_fd = epoll_fd;
	vh->kick_base = kick_base;
	for (int i = 0; i < VMAPP_VHOST_N_RINGS; i++) {
		vmapp_vring_init(&vh->rings[i]);
		vh->kick_fds[i] = -1;
	}
	return vh;
}

void vmapp_vhost_destroy(struct vmapp_vhost *vh)
{
	if (!vh)
		return;
	reset_rings(vh);
	unmap_table(vh);
	close(vh->fd);
	free(vh);
}

static void close_fds(struct msg *m)
{
	for (size_t i = 0; i < m->n_fds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->n_fds = 0;
}

/* 1: a message; 0: EOF before one; -EBADMSG or -errno. */
static int read_msg(struct vmapp_vhost *vh, struct msg *m)
{
	uint8_t hdr[VMAPP_VHOST_HDR_SIZE];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VMAPP_MEM_MAX_REGIONS)];
	} control;
	struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(hdr) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;

	m->n_fds = 0;
	do {
		n = recvmsg(vh->fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	/* Take every fd first, so that each one has an owner on any path. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (m->n_fds < VMAPP_MEM_MAX_REGIONS)
				m->fds[m->n_fds++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0) {
		close_fds(m);
		return 0;
	}
	if ((size_t)n != sizeof(hdr) || (mh.msg_flags & MSG_CTRUNC)) {
		close_fds(m);
		return -EBADMSG;
	}

	uint32_t untrusted_request, untrusted_flags, untrusted_size;
	memcpy(&untrusted_request, hdr, 4);
	memcpy(&untrusted_flags, hdr + 4, 4);
	memcpy(&untrusted_size, hdr + 8, 4);
	m->request = le32toh(untrusted_request);
	m->flags = le32toh(untrusted_flags);
	m->size = le32toh(untrusted_size);
	if ((m->flags & 0x3) != VMAPP_VHOST_VERSION || (m->flags & VMAPP_VHOST_FLAG_REPLY) ||
	    m->size > VMAPP_VHOST_MAX_PAYLOAD) {
		close_fds(m);
		return -EBADMSG;
	}
	if (m->size > 0) {
		do {
			n = recv(vh->fd, m->payload, m->size, MSG_WAITALL);
		} while (n < 0 && errno == EINTR);
		if (n < 0 || (size_t)n != m->size) {
			int r = n < 0 ? -errno : -EBADMSG;
			close_fds(m);
			return r;
		}
	}
	return 1;
}

static int send_reply(struct vmapp_vhost *vh, const struct msg *m, const void *payload,
		uint32_t size)
{
	uint8_t buf[VMAPP_VHOST_HDR_SIZE + VMAPP_VHOST_MAX_PAYLOAD];
	uint32_t request = htole32(m->request);
	uint32_t flags = htole32(VMAPP_VHOST_VERSION | VMAPP_VHOST_FLAG_REPLY);
	uint32_t le_size = htole32(size);

	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &le_size, 4);
	if (size)
		memcpy(buf + VMAPP_VHOST_HDR_SIZE, payload, size);
	size_t total = VMAPP_VHOST_HDR_SIZE + size, done = 0;
	while (done < total) {
		ssize_t n = send(vh->fd, buf + done, total - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

static int reply_u64(struct vmapp_vhost *vh, const struct msg *m, uint64_t value)
{
	uint64_t le = htole64(value);
	return send_reply(vh, m, &le, sizeof(le));
}

static uint64_t payload_u64(const struct msg *m)
{
	uint64_t v;
	memcpy(&v, m->payload, 8);
	return le64toh(v);
}

static uint32_t payload_u32(const struct msg *m, size_t offset)
{
	uint32_t v;
	memcpy(&v, m->payload + offset, 4);
	return le32toh(v);
}

static const char *ring_name(unsigned index)
{
	return index == VMAPP_VHOST_RING_RX ? "rx" : "tx";
}

static int set_mem_table(struct vmapp_vhost *vh, struct msg *m)
{
	if (m->size < 8)
		return -EBADMSG;
	uint32_t untrusted_n = payload_u32(m, 0);
	if (untrusted_n == 0 || untrusted_n > VMAPP_MEM_MAX_REGIONS ||
	    m->size != 8 + 32 * untrusted_n || m->n_fds != untrusted_n)
		return -EBADMSG;
	unsigned n = untrusted_n;

	/* The old table goes first: the rings are remapped below, and a
	 * table that fails to map leaves none rather than a stale one. */
	unmap_table(vh);
	int r = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = m->payload + 8 + 32 * i;
		uint64_t gpa, size, uva, offset;
		memcpy(&gpa, p, 8);
		memcpy(&size, p + 8, 8);
		memcpy(&uva, p + 16, 8);
		memcpy(&offset, p + 24, 8);
		gpa = le64toh(gpa);
		size = le64toh(size);
		uva = le64toh(uva);
		offset = le64toh(offset);
		if (size == 0 || offset > SIZE_MAX - size || gpa > UINT64_MAX - size ||
		    uva > UINT64_MAX - size) {
			vmapp_log_limited(vh->log, "SET_MEM_TABLE: region %u: bad size or offset", i);
			r = -EINVAL;
			break;
		}
		size_t len = (size_t)(offset + size);
		void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fds[i], 0);
		if (map == MAP_FAILED) {
			r = -errno;
			fprintf(stderr, "vmapp-vsockd: SET_MEM_TABLE: region %u: mmap: %s\n",
					i, strerror(errno));
			break;
		}
		vh->maps[i] = map;
		vh->map_lens[i] = len;
		vh->mem.regions[i] = (struct vmapp_mem_region){
			.gpa = gpa, .uva = uva, .size = size,
			.ptr = (uint8_t *)map + offset,
		};
		if (vh->verbose)
			vmapp_log_limited(vh->log, "memory region %u: guest 0x%" PRIx64
					", %" PRIu64 " MiB", i, gpa, size >> 20);
	}
	close_fds(m);
	if (r < 0)
		unmap_table(vh);
	else
		vh->mem.n_regions = n;
	remap_rings(vh);
	return r;
}

/* The ring index of a vring state or address message; -EINVAL if none
 * of ours. */
static int ring_index(struct vmapp_vhost *vh, const struct msg *m, uint32_t index)
{
	if (index >= VMAPP_VHOST_N_RINGS) {
		vmapp_log_limited(vh->log, "%s: no ring %" PRIu32,
				vmapp_vhost_request_name(m->request), index);
		return -EINVAL;
	}
	return (int)index;
}

static int set_vring_fd(struct vmapp_vhost *vh, struct msg *m)
{
	if (m->size != 8)
		return -EBADMSG;
	uint64_t untrusted_v = payload_u64(m);
	bool nofd = untrusted_v & VMAPP_VHOST_VRING_NOFD;
	if (m->n_fds != (nofd ? 0u : 1u))
		return -EBADMSG;
	int fd = nofd ? -1 : m->fds[0];
	m->n_fds = 0;
	int index = ring_index(vh, m, (uint32_t)(untrusted_v & 0xff));
	if (index < 0) {
		if (fd >= 0)
			close(fd);
		return index;
	}
	struct vmapp_vring *vr = &vh->rings[index];

	switch (m->request) {
	case VMAPP_VHOST_SET_VRING_KICK:
		if (set_kick(vh, index, fd) < 0) {
			fprintf(stderr, "vmapp-vsockd: epoll_ctl: %s\n", strerror(errno));
			return -EIO;
		}
		/* The kick starts the ring; without PROTOCOL_FEATURES it
		 * is enabled from the start as well. */
		vr->started = true;
		if (!(vh->features & (1ull << VMAPP_VHOST_USER_F_PROTOCOL_FEATURES)))
			vr->enabled = true;
		if (vh->verbose)
			vmapp_log_limited(vh->log, "ring %d (%s) started: %u entries%s%s",
					index, ring_name(index), vr->num,
					vr->desc ? "" : ", not mapped",
					vr->enabled ? ", enabled" : "");
		break;
	case VMAPP_VHOST_SET_VRING_CALL:
		if (vr->call_fd >= 0)
			close(vr->call_fd);
		vr->call_fd = fd;
		break;
	default:
		/* SET_VRING_ERR: we report no ring errors that way. */
		if (fd >= 0)
			close(fd);
		break;
	}
	return 0;
}

static int handle(struct vmapp_vhost *vh, struct msg *m)
{
	/* Every request but the fd-carrying ones comes without fds. */
	if (m->request != VMAPP_VHOST_SET_MEM_TABLE &&
	    m->request != VMAPP_VHOST_SET_VRING_KICK &&
	    m->request != VMAPP_VHOST_SET_VRING_CALL &&
	    m->request != VMAPP_VHOST_SET_VRING_ERR &&
	    m->n_fds != 0 && m->request < sizeof(request_names) / sizeof(request_names[0]) &&
	    request_names[m->request])
		return -EBADMSG;

	switch (m->request) {
	case VMAPP_VHOST_GET_FEATURES:
		if (m->size != 0 && m->size != 8)
			return -EBADMSG;
		return reply_u64(vh, m, OFFERED_FEATURES);
	case VMAPP_VHOST_SET_FEATURES: {
		if (m->size != 8)
			return -EBADMSG;
		uint64_t untrusted_features = payload_u64(m);
		if (untrusted_features & ~OFFERED_FEATURES) {
			vmapp_log_limited(vh->log, "SET_FEATURES: 0x%" PRIx64 " not offered",
					untrusted_features & ~OFFERED_FEATURES);
			return -EINVAL;
		}
		vh->features = untrusted_features;
		return 0;
	}
	case VMAPP_VHOST_GET_PROTOCOL_FEATURES:
		if (m->size != 0 && m->size != 8)
			return -EBADMSG;
		return reply_u64(vh, m, OFFERED_PROTOCOL_FEATURES);
	case VMAPP_VHOST_SET_PROTOCOL_FEATURES: {
		if (m->size != 8)
			return -EBADMSG;
		uint64_t untrusted_features = payload_u64(m);
		if (untrusted_features & ~OFFERED_PROTOCOL_FEATURES) {
			vmapp_log_limited(vh->log, "SET_PROTOCOL_FEATURES: 0x%" PRIx64
					" not offered",
					untrusted_features & ~OFFERED_PROTOCOL_FEATURES);
			return -EINVAL;
		}
		vh->protocol_features = untrusted_features;
		return 0;
	}
	case VMAPP_VHOST_SET_OWNER:
		if (m->size != 0)
			return -EBADMSG;
		vh->owner = true;
		return 0;
	case VMAPP_VHOST_RESET_OWNER:
		if (m->size != 0)
			return -EBADMSG;
		vh->owner = false;
		vh->features = 0;
		reset_rings(vh);
		vh->reset = true;
		return 0;
	case VMAPP_VHOST_SET_MEM_TABLE:
		return set_mem_table(vh, m);
	case VMAPP_VHOST_SET_VRING_NUM:
	case VMAPP_VHOST_SET_VRING_BASE:
	case VMAPP_VHOST_SET_VRING_ENABLE:
	case VMAPP_VHOST_GET_VRING_BASE: {
		if (m->size != 8)
			return -EBADMSG;
		int index = ring_index(vh, m, payload_u32(m, 0));
		if (index < 0) {
			if (m->request == VMAPP_VHOST_GET_VRING_BASE)
				return -EBADMSG;	/* it waits for an answer we can not give */
			return index;
		}
		struct vmapp_vring *vr = &vh->rings[index];
		uint32_t untrusted_num = payload_u32(m, 4);
		if (m->request == VMAPP_VHOST_SET_VRING_NUM) {
			int r = vmapp_vring_set_num(vr, untrusted_num);
			if (r < 0) {
				vmapp_log_limited(vh->log, "SET_VRING_NUM: ring %d: bad size %"
						PRIu32, index, untrusted_num);
				return r;
			}
			if (vr->addr_set)
				vmapp_vring_map(vr, &vh->mem, false);
			return 0;
		}
		if (m->request == VMAPP_VHOST_SET_VRING_BASE) {
			if (untrusted_num > UINT16_MAX)
				return -EINVAL;
			vr->last_avail = (uint16_t)untrusted_num;
			return 0;
		}
		if (m->request == VMAPP_VHOST_SET_VRING_ENABLE) {
			if (untrusted_num > 1)
				return -EINVAL;
			vr->enabled = untrusted_num;
			if (vh->verbose)
				vmapp_log_limited(vh->log, "ring %d (%s) %s", index,
						ring_name(index), vr->enabled ? "enabled" : "disabled");
			return 0;
		}
		/* GET_VRING_BASE stops the ring and tells where to resume. */
		vr->started = false;
		set_kick(vh, index, -1);
		if (vh->verbose)
			vmapp_log_limited(vh->log, "ring %d (%s) stopped at %u", index,
					ring_name(index), vr->last_avail);
		uint32_t state[2] = { htole32((uint32_t)index), htole32(vr->last_avail) };
		return send_reply(vh, m, state, sizeof(state));
	}
	case VMAPP_VHOST_SET_VRING_ADDR: {
		if (m->size != 40)
			return -EBADMSG;
		int index = ring_index(vh, m, payload_u32(m, 0));
		if (index < 0)
			return index;
		struct vmapp_vring *vr = &vh->rings[index];
		uint64_t desc, used, avail;
		memcpy(&desc, m->payload + 8, 8);
		memcpy(&used, m->payload + 16, 8);
		memcpy(&avail, m->payload + 24, 8);
		vr->desc_addr = le64toh(desc);
		vr->used_addr = le64toh(used);
		vr->avail_addr = le64toh(avail);
		vr->addr_set = true;
		vr->broken = false;
		if (vmapp_vring_map(vr, &vh->mem, true) < 0) {
			vmapp_log_limited(vh->log, "SET_VRING_ADDR: ring %d: not inside guest "
					"memory, or misaligned", index);
			return -EINVAL;
		}
		return 0;
	}
	case VMAPP_VHOST_SET_VRING_KICK:
	case VMAPP_VHOST_SET_VRING_CALL:
	case VMAPP_VHOST_SET_VRING_ERR:
		return set_vring_fd(vh, m);
	case VMAPP_VHOST_GET_QUEUE_NUM:
		if (m->size != 0 && m->size != 8)
			return -EBADMSG;
		return reply_u64(vh, m, VMAPP_VHOST_N_RINGS);
	case VMAPP_VHOST_GET_CONFIG: {
		if (m->size < 12)
			return -EBADMSG;
		uint32_t untrusted_offset = payload_u32(m, 0);
		uint32_t untrusted_size = payload_u32(m, 4);
		if (untrusted_size > VMAPP_VHOST_MAX_CONFIG || m->size != 12 + untrusted_size)
			return -EBADMSG;
		if (untrusted_offset > VSOCK_CONFIG_SIZE ||
		    untrusted_size > VSOCK_CONFIG_SIZE - untrusted_offset) {
			vmapp_log_limited(vh->log, "GET_CONFIG: bytes %" PRIu32 "+%" PRIu32
					" outside the config", untrusted_offset, untrusted_size);
			/* An empty reply is the failure the front-end sees. */
			return send_reply(vh, m, NULL, 0);
		}
		uint8_t config[VSOCK_CONFIG_SIZE];
		uint64_t cid = htole64(vh->guest_cid);
		memcpy(config, &cid, sizeof(cid));
		memcpy(m->payload + 12, config + untrusted_offset, untrusted_size);
		return send_reply(vh, m, m->payload, m->size);
	}
	case VMAPP_VHOST_SET_CONFIG:
		/* The guest CID is ours to set, not the front-end's. */
		vmapp_log_limited(vh->log, "SET_CONFIG refused");
		return -EINVAL;
	default:
		vmapp_log_limited(vh->log, "front-end request %" PRIu32 " (%s) not supported",
				m->request, vmapp_vhost_request_name(m->request));
		close_fds(m);
		return -EINVAL;
	}
}

static bool has_own_reply(uint32_t request)
{
	return request == VMAPP_VHOST_GET_FEATURES ||
		request == VMAPP_VHOST_GET_PROTOCOL_FEATURES ||
		request == VMAPP_VHOST_GET_VRING_BASE ||
		request == VMAPP_VHOST_GET_QUEUE_NUM ||
		request == VMAPP_VHOST_GET_CONFIG;
}

int vmapp_vhost_dispatch(struct vmapp_vhost *vh)
{
	static struct msg m;
	int r = read_msg(vh, &m);
	if (r <= 0)
		return r;

	if (vh->verbose)
		vmapp_log_limited(vh->log, "front-end: %s", vmapp_vhost_request_name(m.request));
	size_t n_fds = m.n_fds;
	r = handle(vh, &m);
	close_fds(&m);
	if (r == -EBADMSG) {
		fprintf(stderr, "vmapp-vsockd: front-end: malformed %s (size %" PRIu32
				", %zu fds)\n", vmapp_vhost_request_name(m.request), m.size, n_fds);
		return r;
	}
	/* Refusals (-EINVAL) were logged and the front-end goes on; any
	 * other failure is ours (I/O, memory) and ends the connection. */
	if (r < 0 && r != -EINVAL)
		return r;
	/* Replies of their own were sent in handle(). */
	if (has_own_reply(m.request))
		return 1;
	/* We never offer REPLY_ACK, but a front-end that asks anyway gets
	 * the truth: 0 on success, 1 on failure. */
	if (m.flags & VMAPP_VHOST_FLAG_NEED_REPLY) {
		int s = reply_u64(vh, &m, r < 0 ? 1 : 0);
		if (s < 0)
			return s;
	}
	return 1;
}
