/* SPDX-License-Identifier: MIT */
/*
 * One end of a Wayland socket, non-blocking: what came in (bytes and fds),
 * and what waits to go out, each fd held back so that it leaves with its
 * message's first byte or earlier, and never more of them in one sendmsg
 * than libwayland receives.  Shared by the relay, the transport bridge and
 * the agent.
 */
#ifndef VMAPP_SIDE_H
#define VMAPP_SIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "buffer.h"

/* libwayland receives at most 28 fds per recvmsg (MAX_FDS_OUT); more in one
 * sendmsg would be cut off and lost on the other side. */
#define VMAPP_SIDE_FDS_PER_SENDMSG 28

/* What an epoll event's data.ptr points at: the owner says what kind. */
struct vmapp_source {
	int kind;
	void *data;
};

struct vmapp_side {
	int fd; /* owned; -1 when closed */
	struct vmapp_source source;
	struct vmapp_buf in;
	struct vmapp_fdq in_fds;
	struct vmapp_buf out;
	struct vmapp_fdq out_fds;
	/* For each fd of out_fds: the stream offset where its message
	 * starts.  It must leave with that message's first byte or earlier. */
	uint64_t out_fd_at[VMAPP_FDQ_MAX];
	uint64_t out_base; /* stream offset of out's first pending byte */
	uint32_t events;   /* epoll interest now */
	bool eof;
};

void vmapp_side_init(struct vmapp_side *s, int fd, int kind, void *data);
void vmapp_side_finish(struct vmapp_side *s); /* closes fd and the fds held */

static inline bool vmapp_side_pending(const struct vmapp_side *s)
{
	return vmapp_buf_size(&s->out) > 0 || s->out_fds.n > 0;
}

/* The stream offset the next byte appended to out will have. */
static inline uint64_t vmapp_side_out_end(const struct vmapp_side *s)
{
	return s->out_base + vmapp_buf_size(&s->out);
}

/* Queues fd (owned from now on) to leave with the byte at stream offset
 * `at` or earlier.  -ENOSPC when the queue is full (fd is closed). */
int vmapp_side_push_fd(struct vmapp_side *s, int fd, uint64_t at);

/* Sends what it can without blocking.  0, or -errno when the peer is gone. */
int vmapp_side_flush(struct vmapp_side *s);

/* Reads once.  0 on data or EAGAIN, 1 at end of stream, -errno on error,
 * -EMFILE when more fds arrived than may be held. */
int vmapp_side_read(struct vmapp_side *s);

/* Sets the epoll interest: EPOLLIN when want_read and not at EOF, EPOLLOUT
 * while something is pending.  The fd must be in epoll_fd already. */
int vmapp_side_update(int epoll_fd, struct vmapp_side *s, bool want_read);

#endif
