/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror.h"

#define POOL_MAX_SIZE UINT64_C(0x7fffffff)

int vmapp_mirror_pool_create(uint64_t size, struct vmapp_mirror_pool *ret_pool)
{
	ret_pool->fd = -1;
	ret_pool->map = NULL;
	ret_pool->size = 0;
	if (size == 0 || size > POOL_MAX_SIZE)
		return -EINVAL;

	int fd = memfd_create("vmapp-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		goto fail;
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		goto fail;
	ret_pool->fd = fd;
	ret_pool->map = map;
	ret_pool->size = size;
	return 0;
fail:;
	int r = -errno;
	close(fd);
	return r;
}

int vmapp_mirror_pool_resize(struct vmapp_mirror_pool *pool, uint64_t new_size)
{
	if (new_size < pool->size || new_size > POOL_MAX_SIZE)
		return -EINVAL;
	if (new_size == pool->size)
		return 0;
	if (ftruncate(pool->fd, (off_t)new_size) < 0)
		return -errno;
	void *map = mremap(pool->map, pool->size, new_size, MREMAP_MAYMOVE);
	if (map == MAP_FAILED)
		return -errno;
	pool->map = map;
	pool->size = new_size;
	return 0;
}

int vmapp_mirror_pool_update(struct vmapp_mirror_pool *pool, uint64_t offset,
			     const uint8_t *untrusted_data, size_t len)
{
	if (offset > pool->size || (uint64_t)len > pool->size - offset)
		return -ERANGE;
	memcpy(pool->map + offset, untrusted_data, len);
	return 0;
}

void vmapp_mirror_pool_finish(struct vmapp_mirror_pool *pool)
{
	if (pool->map)
		munmap(pool->map, pool->size);
	if (pool->fd >= 0)
		close(pool->fd);
	pool->map = NULL;
	pool->fd = -1;
	pool->size = 0;
}

int vmapp_mirror_fd_from_content(const char *name, const uint8_t *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		goto fail;
	if (lseek(fd, 0, SEEK_SET) < 0)
		goto fail;
	return fd;
fail:;
	int r = -errno;
	close(fd);
	return r;
}

int vmapp_mirror_read_fd(int fd, size_t max_size, uint8_t **ret_data, size_t *ret_len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADF;
	if (st.st_size < 0 || (uint64_t)st.st_size > max_size)
		return -EFBIG;
	size_t len = (size_t)st.st_size;
	uint8_t *data = malloc(len ? len : 1);
	if (!data)
		return -ENOMEM;
	size_t done = 0;
	while (done < len) {
		/* pread: the compositor's offset in a shared fd is not ours to move */
		ssize_t n = pread(fd, data + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(data);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	*ret_data = data;
	*ret_len = len;
	return 0;
}
