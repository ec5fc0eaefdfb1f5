/* SPDX-License-Identifier: MIT */
/*
 * The guest half of shm mirroring: the agent watches one client's requests
 * (wl_shm pools, buffers, surfaces, damage, commits) and says which bytes
 * of which pool must cross to the host before each message is forwarded,
 * as SHM_CREATE / SHM_RESIZE / SHM_UPDATE / SHM_DESTROY frames of
 * vmapp-transport(7).
 *
 * Which bytes: before a wl_surface.commit that shows a shm buffer, the
 * damage that buffer has gathered since it was last sent (a buffer is
 * redrawn by its age: the damage of every commit since its own last one),
 * in buffer coordinates; a buffer's first commit sends it whole.  Within
 * those spans, a shadow copy of what the host already has finds the bytes
 * that really changed (toolkits over-declare damage); a pool whose commits
 * change nearly every byte they declare drops its shadow and sends the
 * damage as it is (see BENCHMARKS.md, bench-shmdiff).
 *
 * No I/O but mmap of the client's pool fds; no logging.
 */
#ifndef VMAPP_AGENT_SHM_H
#define VMAPP_AGENT_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

enum vmapp_shm_op_kind {
	VMAPP_SHM_OP_CREATE,  /* SHM_CREATE ref, size */
	VMAPP_SHM_OP_RESIZE,  /* SHM_RESIZE ref, size */
	VMAPP_SHM_OP_UPDATE,  /* SHM_UPDATE ref, offset, size bytes read with vmapp_shm_data() */
	VMAPP_SHM_OP_DESTROY, /* SHM_DESTROY ref; then call vmapp_shm_release(ref) */
};

struct vmapp_shm_op {
	enum vmapp_shm_op_kind kind;
	uint32_t ref;
	uint64_t offset; /* UPDATE */
	uint64_t size;   /* CREATE, RESIZE: the pool's size; UPDATE: bytes */
};

/* Grown by the tracker; the caller empties it (n = 0) when it likes and
 * frees ops at the end.  Within one call, UPDATEs of a pool come in
 * ascending order, near ones merged; one may be many MB (the caller cuts
 * it into frames). */
struct vmapp_shm_ops {
	struct vmapp_shm_op *ops;
	size_t n, cap;
};

enum vmapp_shm_diff {
	VMAPP_SHM_DIFF_AUTO = 0, /* shadow within damage; damage alone for pools that change whole */
	VMAPP_SHM_DIFF_DAMAGE,   /* the damage as declared, never a shadow */
	VMAPP_SHM_DIFF_SHADOW,   /* always compare against a shadow within the damage */
};

struct vmapp_shm_pool;
struct vmapp_shm_buffer;
struct vmapp_shm_surface;
struct vmapp_shm_slot;
struct vmapp_span;

struct vmapp_shm_tracker {
	enum vmapp_shm_diff diff;
	uint32_t next_ref; /* the next pool ref to hand out: 1, 2, ... (the guest's range) */
	struct vmapp_shm_pool *pools;       /* implementation's own lists */
	struct vmapp_shm_buffer *buffers;
	struct vmapp_shm_surface *surfaces;
	uint64_t bytes_sent;  /* UPDATE bytes so far, for benchmarks and tests */
	uint64_t bytes_declared; /* damage bytes those updates were found in */
	/* Private: the objects above by object id and by ref (an open
	 * addressing table), and room for the spans of one commit. */
	struct vmapp_shm_slot *slots;
	size_t n_slots, cap_slots;
	struct vmapp_span *scratch;
};

void vmapp_shm_tracker_init(struct vmapp_shm_tracker *t, enum vmapp_shm_diff diff);
/* Unmaps and closes everything. */
void vmapp_shm_tracker_finish(struct vmapp_shm_tracker *t);

/*
 * Called for every request the client sends, in order, after
 * vmapp_wire_decode() accepted it against the agent's object map and before
 * the map tracks it; `fds` are the message's fds (view->args[i].fd_index
 * indexes them).  Appends to `ops` the frames to send before the message.
 *
 * wl_shm.create_pool takes its own dup of the pool fd (the caller still
 * closes its own), maps it read-only and sets *ret_fd_ref to the new pool's
 * ref, which the WAYLAND frame names in place of the fd; for every other
 * message *ret_fd_ref is set to 0.
 *
 * Only buffers made by wl_shm_pool.create_buffer are shm buffers; any
 * other wl_buffer (dmabuf...) is ignored.
 *
 * 0, or -errno: -EINVAL for a pool fd smaller than its size or not
 * mappable (at create_pool, at resize, and at a commit that would read a
 * pool the client has since cut short), for a shrinking resize; -ENOSPC
 * when the guest's refs run out; -ENOMEM.  An error costs the client its
 * channel (the tracker stays consistent, but is of no further use).
 */
int vmapp_shm_request(struct vmapp_shm_tracker *t, const struct vmapp_message_view *view,
		      const int *fds, struct vmapp_shm_ops *ops, uint32_t *ret_fd_ref);

/* The `size` bytes at `offset` of pool `ref` as the client has them now,
 * or NULL when the pool is gone or its file is now shorter (checked with
 * fstat, so that a shrunk file does not SIGBUS the agent).  Valid until
 * the next call into the tracker. */
const uint8_t *vmapp_shm_data(struct vmapp_shm_tracker *t, uint32_t ref, uint64_t offset,
			      uint64_t size);

/* After SHM_DESTROY of `ref` went out: unmaps and closes the pool.  Does
 * nothing for a ref that is unknown or was not DESTROYed. */
void vmapp_shm_release(struct vmapp_shm_tracker *t, uint32_t ref);

#endif
