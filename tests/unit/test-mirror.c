/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mirror.h"
#include "msg.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int main(void)
{
	int fds_before = count_fds();
	struct vmapp_mirror_pool pool;

	CHECK(vmapp_mirror_pool_create(0, &pool) == -EINVAL);
	CHECK(vmapp_mirror_pool_create(UINT64_C(0x80000000), &pool) == -EINVAL);
	CHECK(vmapp_mirror_pool_create(4096, &pool) == 0);
	CHECK(pool.fd >= 0 && pool.size == 4096);
	CHECK((fcntl(pool.fd, F_GETFD) & FD_CLOEXEC) != 0);
	/* the compositor's mapping can not be cut short under it */
	CHECK((fcntl(pool.fd, F_GET_SEALS) & F_SEAL_SHRINK) != 0);
	CHECK(ftruncate(pool.fd, 100) < 0 && errno == EPERM);

	uint8_t bytes[16] = "0123456789abcdef";
	CHECK(vmapp_mirror_pool_update(&pool, 0, bytes, 16) == 0);
	CHECK(vmapp_mirror_pool_update(&pool, 4080, bytes, 16) == 0);
	CHECK(memcmp(pool.map + 4080, bytes, 16) == 0);
	CHECK(vmapp_mirror_pool_update(&pool, 4081, bytes, 16) == -ERANGE);
	CHECK(vmapp_mirror_pool_update(&pool, 4096, bytes, 1) == -ERANGE);
	CHECK(vmapp_mirror_pool_update(&pool, 4096, bytes, 0) == 0);
	CHECK(vmapp_mirror_pool_update(&pool, 4097, bytes, 0) == -ERANGE);
	CHECK(vmapp_mirror_pool_update(&pool, UINT64_MAX, bytes, 2) == -ERANGE);
	CHECK(vmapp_mirror_pool_update(&pool, UINT64_MAX - 1, bytes, 16) == -ERANGE);

	/* what the compositor maps is what was written */
	uint8_t *seen = mmap(NULL, 4096, PROT_READ, MAP_SHARED, pool.fd, 0);
	CHECK(seen != MAP_FAILED && memcmp(seen, bytes, 16) == 0);
	munmap(seen, 4096);

	CHECK(vmapp_mirror_pool_resize(&pool, 2048) == -EINVAL);
	CHECK(vmapp_mirror_pool_resize(&pool, UINT64_C(0x80000000)) == -EINVAL);
	CHECK(vmapp_mirror_pool_resize(&pool, 1 << 20) == 0);
	CHECK(vmapp_mirror_pool_update(&pool, (1 << 20) - 16, bytes, 16) == 0);
	CHECK(memcmp(pool.map + 4080, bytes, 16) == 0); /* kept across the move */
	vmapp_mirror_pool_finish(&pool);
	vmapp_mirror_pool_finish(&pool);

	const uint8_t keymap[] = "xkb_keymap { };";
	int fd = vmapp_mirror_fd_from_content("vmapp-keymap", keymap, sizeof(keymap));
	CHECK(fd >= 0);
	int seals = fcntl(fd, F_GET_SEALS);
	CHECK((seals & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
	      (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	CHECK(write(fd, "x", 1) < 0);
	uint8_t *data;
	size_t len;
	CHECK(vmapp_mirror_read_fd(fd, 4096, &data, &len) == 0);
	CHECK(len == sizeof(keymap) && memcmp(data, keymap, len) == 0);
	free(data);
	CHECK(vmapp_mirror_read_fd(fd, 4, &data, &len) == -EFBIG);
	close(fd);
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK(vmapp_mirror_read_fd(p[0], 4096, &data, &len) == -EBADF);
	close(p[0]);
	close(p[1]);

	CHECK(count_fds() == fds_before); /* nothing leaked */
	TEST_DONE();
}
