/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "side.h"

#define READ_CHUNK 16384
/* Enough room for any fd count the kernel lets one sendmsg carry. */
#define CMSG_FDS_MAX 253

void vmapp_side_init(struct vmapp_side *s, int fd, int kind, void *data)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->source.kind = kind;
	s->source.data = data;
}

void vmapp_side_finish(struct vmapp_side *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	vmapp_buf_finish(&s->in);
	vmapp_buf_finish(&s->out);
	vmapp_fdq_finish(&s->in_fds);
	vmapp_fdq_finish(&s->out_fds);
}

int vmapp_side_push_fd(struct vmapp_side *s, int fd, uint64_t at)
{
	if (vmapp_fdq_push(&s->out_fds, fd) < 0) {
		close(fd);
		return -ENOSPC;
	}
	s->out_fd_at[s->out_fds.n - 1] = at;
	return 0;
}

int vmapp_side_update(int epoll_fd, struct vmapp_side *s, bool want_read)
{
	uint32_t events = 0;

	if (want_read && !s->eof)
		events |= EPOLLIN;
	if (vmapp_side_pending(s))
		events |= EPOLLOUT;
	if (events == s->events)
		return 0;
	struct epoll_event ev = { .events = events, .data.ptr = &s->source };
	s->events = events;
	return epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

int vmapp_side_flush(struct vmapp_side *s)
{
	while (vmapp_buf_size(&s->out) > 0) {
		size_t n_fds = s->out_fds.n < VMAPP_SIDE_FDS_PER_SENDMSG
				       ? s->out_fds.n : VMAPP_SIDE_FDS_PER_SENDMSG;
		size_t len = vmapp_buf_size(&s->out);
		if (s->out_fds.n > n_fds) {
			uint64_t before = s->out_fd_at[n_fds] - s->out_base;
			if (before < len)
				len = before;
		}
		if (len == 0)
			return -EPROTO; /* one message with more fds than a flush carries */

		struct iovec iov = { .iov_base = s->out.data + s->out.start, .iov_len = len };
		union {
			char buf[CMSG_SPACE(sizeof(int) * VMAPP_SIDE_FDS_PER_SENDMSG)];
			struct cmsghdr align;
		} control;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (n_fds > 0) {
			memset(&control, 0, sizeof(control));
			msg.msg_control = control.buf;
			msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
			struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
			memcpy(CMSG_DATA(cmsg), s->out_fds.fds, sizeof(int) * n_fds);
		}
		ssize_t n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		/* The receiver has its own copies now. */
		vmapp_fdq_drop(&s->out_fds, n_fds);
		memmove(s->out_fd_at, s->out_fd_at + n_fds, s->out_fds.n * sizeof(uint64_t));
		vmapp_buf_consume(&s->out, (size_t)n);
		s->out_base += (uint64_t)n;
	}
	return 0;
}

int vmapp_side_read(struct vmapp_side *s)
{
	uint8_t *p = vmapp_buf_reserve(&s->in, READ_CHUNK);
	if (!p)
		return -ENOMEM;

	union {
		char buf[CMSG_SPACE(sizeof(int) * CMSG_FDS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = p, .iov_len = READ_CHUNK };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n = recvmsg(s->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;

	int r = 0;
	for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
			if (vmapp_fdq_push(&s->in_fds, fd) < 0) {
				close(fd);
				r = -EMFILE;
			}
		}
	}
	if (msg.msg_flags & MSG_CTRUNC)
		r = -EMFILE;
	if (n == 0 && r == 0)
		return 1;
	s->in.len += (size_t)n;
	return r;
}
