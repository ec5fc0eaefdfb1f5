/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmctl.h"

static int address(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int vmapp_ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	int r = address(path, &sa);
	if (r < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int vmapp_ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	int r = address(path, &sa);
	if (r < 0)
		return r;
	/* A socket somebody serves is theirs: only a stale one goes. */
	int probe = vmapp_ctl_connect(path);
	if (probe >= 0) {
		close(probe);
		return -EADDRINUSE;
	}
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int vmapp_ctl_send(int fd, const char *verb, const char *const *fields, size_t n)
{
	char buf[VMAPP_CTL_MAX];
	size_t len = 0;

	if (n > VMAPP_CTL_MAX_FIELDS)
		return -EMSGSIZE;
	for (size_t i = 0; i <= n; i++) {
		const char *s = i == 0 ? verb : fields[i - 1];
		size_t l = strlen(s) + 1;
		if (l > sizeof(buf) - len)
			return -EMSGSIZE;
		memcpy(buf + len, s, l);
		len += l;
	}
	ssize_t w;
	do
		w = send(fd, buf, len, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EMSGSIZE;
}

int vmapp_ctl_recv(int fd, char *buf, struct vmapp_ctl_msg *msg)
{
	ssize_t len;
	do
		len = recv(fd, buf, VMAPP_CTL_MAX + 1, MSG_TRUNC);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (len == 0)
		return 0;
	if ((size_t)len > VMAPP_CTL_MAX || buf[len - 1] != '\0' || buf[0] == '\0')
		return -EBADMSG;
	msg->verb = buf;
	msg->n_fields = 0;
	for (ssize_t i = (ssize_t)strlen(buf) + 1; i < len; i += (ssize_t)strlen(buf + i) + 1) {
		if (msg->n_fields == VMAPP_CTL_MAX_FIELDS)
			return -EBADMSG;
		msg->fields[msg->n_fields++] = buf + i;
	}
	msg->fields[msg->n_fields] = NULL;
	return 1;
}
