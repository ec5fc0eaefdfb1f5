/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "hooks-impl.h"

int vmapp_fd_check(int fd, enum vmapp_fd_kind kind, uint64_t min_size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	switch (kind) {
	case VMAPP_FD_SHM:
		/* A memfd is a regular file to fstat.  A device or socket
		 * would make the compositor mmap something it can not trust. */
		if (!S_ISREG(st.st_mode))
			return -EBADF;
		if (st.st_size < 0 || (uint64_t)st.st_size < min_size)
			return -EFBIG;
		return 0;
	case VMAPP_FD_PIPE:
		if (!S_ISFIFO(st.st_mode))
			return -EBADF;
		/* The compositor's client writes into it: it must be a write end. */
		int flags = fcntl(fd, F_GETFL);
		if (flags < 0)
			return -errno;
		if ((flags & O_ACCMODE) == O_RDONLY)
			return -EBADF;
		return 0;
	}
	return -EINVAL;
}
