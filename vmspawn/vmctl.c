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

ssize_t vmapp_ctl_format(char *buf, const char *verb, const char *const *fields, size_t n)
{
	size_t len = 0;

	if (n > VMAPP_CTL_MAX_FIELDS)
		return -EMSGSIZE;
	for (size_t i = 0; i <= n; i++) {
		const char *s = i == 0 ? verb : fields[i - 1];
		size_t l = strlen(s) + 1;
		if (l > VMAPP_CTL_MAX - len)
			return -EMSGSIZE;
		memcpy(buf + len, s, l);
		len += l;
	}
	return (ssize_t)len;
}

int vmapp_ctl_send(int fd, const char *verb, const char *const *fields, size_t n)
{
	char buf[VMAPP_CTL_MAX];
	ssize_t formatted = vmapp_ctl_format(buf, verb, fields, n);
	if (formatted < 0)
		return (int)formatted;
	size_t len = (size_t)formatted;
	ssize_t w;
	do
		w = send(fd, buf, len, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EMSGSIZE;
}

size_t vmapp_ctl_output_message(unsigned stream, const void *data, size_t len, char *buf,
				size_t *ret_used)
{
	static const char head[] = "OUTPUT\0" "1\0";
	const char *p = data;
	/* The verb, the stream and the last piece's NUL take room and
	 * fields: the bytes are split at no more NULs than fields are left. */
	size_t room = VMAPP_CTL_MAX - sizeof(head), n = 0, nuls = 0;
	while (n < len && n < room) {
		if (p[n] == '\0') {
			if (nuls == VMAPP_CTL_MAX_FIELDS - 2)
				break;
			nuls++;
		}
		n++;
	}
	memcpy(buf, head, sizeof(head) - 1);
	buf[sizeof("OUTPUT")] = stream == 2 ? '2' : '1';
	memcpy(buf + sizeof(head) - 1, p, n);
	buf[sizeof(head) - 1 + n] = '\0';
	*ret_used = n;
	return sizeof(head) + n;
}

size_t vmapp_ctl_output_bytes(const struct vmapp_ctl_msg *msg, char *out)
{
	size_t len = 0;
	for (size_t i = 1; i < msg->n_fields; i++) {
		size_t n = strlen(msg->fields[i]);
		if (i > 1)
			out[len++] = '\0';
		memcpy(out + len, msg->fields[i], n);
		len += n;
	}
	return len;
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
