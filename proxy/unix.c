/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unix.h"

int vmapp_unix_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static bool socket_is_stale(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	int fd = vmapp_unix_connect(path);
	if (fd >= 0)
		close(fd);
	return fd == -ECONNREFUSED;
}

int vmapp_unix_listen(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
	if (r == -EADDRINUSE && socket_is_stale(path)) {
		/* Left behind by a proxy that was killed: nobody listens. */
		unlink(path);
		r = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
	}
	if (r == 0 && listen(fd, 128) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int vmapp_compositor_path(char *buf, size_t size)
{
	const char *display = getenv("WAYLAND_DISPLAY");
	const char *runtime = getenv("XDG_RUNTIME_DIR");

	if (!display || !*display)
		display = "wayland-0";
	if (display[0] == '/') {
		if ((size_t)snprintf(buf, size, "%s", display) >= size)
			return -ENAMETOOLONG;
		return 0;
	}
	if (!runtime || !*runtime)
		return -ENOENT;
	if ((size_t)snprintf(buf, size, "%s/%s", runtime, display) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int vmapp_compositor_find(char *buf, size_t size)
{
	int r = vmapp_compositor_path(buf, size);
	if (r < 0) {
		fprintf(stderr, "vmapp-proxy: can not find the compositor's socket: %s\n",
			r == -ENOENT ? "XDG_RUNTIME_DIR is not set" : strerror(-r));
		return r;
	}
	int fd = vmapp_unix_connect(buf);
	if (fd < 0) {
		fprintf(stderr, "vmapp-proxy: can not reach the compositor at %s: %s\n", buf,
			strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}
