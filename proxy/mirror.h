/* SPDX-License-Identifier: MIT */
/*
 * Host-side fds made from content: a file descriptor can not cross a VM
 * boundary, so the host half creates every fd it hands the compositor
 * itself.  A shm pool becomes a memfd sealed against shrinking (the
 * compositor's mapping can not be cut under it), filled from "these bytes
 * changed at this offset" updates; a keymap or other file content becomes
 * a memfd sealed against any change.
 */
#ifndef VMAPP_MIRROR_H
#define VMAPP_MIRROR_H

#include <stddef.h>
#include <stdint.h>

struct vmapp_mirror_pool {
	int fd;       /* owned; -1 when finished */
	uint8_t *map; /* shared mapping of the whole pool */
	uint64_t size;
};

/* A new pool of `size` bytes (1 .. INT32_MAX, as wl_shm allows).
 * -EINVAL for a bad size, -errno from memfd_create/ftruncate/mmap. */
int vmapp_mirror_pool_create(uint64_t size, struct vmapp_mirror_pool *ret_pool);

/* Grows the pool (wl_shm_pool.resize only grows); -EINVAL to shrink or
 * past INT32_MAX.  The fd stays the same; the mapping may move. */
int vmapp_mirror_pool_resize(struct vmapp_mirror_pool *pool, uint64_t new_size);

/* Copies len untrusted bytes to offset; -ERANGE unless offset + len fits
 * the pool (computed in 64 bits, so no wrap-around). */
int vmapp_mirror_pool_update(struct vmapp_mirror_pool *pool, uint64_t offset,
			     const uint8_t *untrusted_data, size_t len);

void vmapp_mirror_pool_finish(struct vmapp_mirror_pool *pool); /* idempotent */

/* A read-only memfd holding exactly these bytes, sealed against writes,
 * growth and shrinking; the fd, or -errno. */
int vmapp_mirror_fd_from_content(const char *name, const uint8_t *data, size_t len);

/* Reads a regular file or memfd (e.g. a keymap from the compositor) of at
 * most max_size bytes into a new buffer the caller frees.  -EFBIG when it
 * is larger, -EBADF when it is not a regular file. */
int vmapp_mirror_read_fd(int fd, size_t max_size, uint8_t **ret_data, size_t *ret_len);

#endif
