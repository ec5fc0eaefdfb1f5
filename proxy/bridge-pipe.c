/* SPDX-License-Identifier: MIT */
/* Pipes carried as streams: PIPE_OPEN, PIPE_DATA, PIPE_END, PIPE_CANCEL. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge-impl.h"

void vmapp_bridge_pipe_free(struct vmapp_bridge_channel *ch, struct pipe *p)
{
	struct pipe **pp = &ch->pipes;
	while (*pp && *pp != p)
		pp = &(*pp)->next;
	if (*pp)
		*pp = p->next;
	if (p->fd >= 0) {
		close(p->fd); /* leaves the epoll set with it */
		ch->bridge->fds_held--;
	}
	p->fd = -1;
	vmapp_buf_finish(&p->pending);
	p->next = ch->bridge->dead_pipes;
	ch->bridge->dead_pipes = p;
}

struct pipe *vmapp_bridge_pipe_find(struct vmapp_bridge_channel *ch, uint32_t ref)
{
	for (struct pipe *p = ch->pipes; p; p = p->next)
		if (p->ref == ref)
			return p;
	return NULL;
}

struct pipe *vmapp_bridge_pipe_add(struct vmapp_bridge_channel *ch, uint32_t ref, int fd, bool we_read,
			     bool armed)
{
	struct vmapp_bridge *b = ch->bridge;
	struct pipe *p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return NULL;
	}
	b->fds_held++;
	p->ch = ch;
	p->ref = ref;
	p->fd = fd;
	p->we_read = we_read;
	p->armed = armed;
	p->source.kind = SOURCE_PIPE;
	p->source.data = p;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (vmapp_bridge_epoll_set(b, EPOLL_CTL_ADD, fd, 0, &p->source) < 0) {
		b->fds_held--;
		close(fd);
		free(p);
		return NULL;
	}
	p->next = ch->pipes;
	ch->pipes = p;
	return p;
}

/* A pipe fd from the Wayland side becomes a ref of ours and a PIPE_OPEN. */
int vmapp_bridge_ref_from_pipe(struct vmapp_bridge_channel *ch, int fd, uint32_t *ret_ref)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -EBADF;
	int mode = fcntl(fd, F_GETFL);
	if (mode < 0)
		return -EBADF;
	/* A write end: the peer's side writes the data (it reads the
	 * compositor's or the client's other end); a read end: we send. */
	bool we_read = (mode & O_ACCMODE) == O_RDONLY;
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return -errno;
	uint32_t ref = ch->next_ref++;
	struct op *op = vmapp_bridge_op_push(ch, OP_PIPE_OPEN);
	if (!op) {
		close(dup_fd);
		return -ENOMEM;
	}
	op->ref = ref;
	op->direction = we_read ? VMAPP_TRANSPORT_PIPE_FROM_CREATOR : VMAPP_TRANSPORT_PIPE_TO_CREATOR;
	if (!vmapp_bridge_pipe_add(ch, ref, dup_fd, we_read, false))
		return -ENOMEM;
	*ret_ref = ref;
	return 0;
}

int vmapp_bridge_deliver_pipe(struct vmapp_bridge_channel *ch, const struct vmapp_transport_frame *f)
{
	struct vmapp_bridge *b = ch->bridge;
	struct pipe *p;

	switch (f->kind) {
	case VMAPP_TRANSPORT_PIPE_OPEN:
		return 0; /* made when a WAYLAND frame passes it */
	case VMAPP_TRANSPORT_PIPE_DATA:
		p = vmapp_bridge_pipe_find(ch, f->pipe_data.ref);
		if (!p || p->we_read) {
			vmapp_bridge_credit(ch, f->length); /* nobody to write it to */
			return 0;
		}
		if (vmapp_buf_append(&p->pending, f->pipe_data.data, f->pipe_data.size) < 0)
			return -ENOMEM;
		/* Credit for the fixed field now, for the bytes once written. */
		vmapp_bridge_credit(ch, PIPE_DATA_FIXED);
		vmapp_bridge_pipe_write(b, p);
		return 0;
	case VMAPP_TRANSPORT_PIPE_END:
		p = vmapp_bridge_pipe_find(ch, f->ref.ref);
		if (!p) {
			vmapp_transport_send_pipe_cancel(&b->state, &b->out, ch->id, f->ref.ref);
			return 0;
		}
		p->end_received = true;
		vmapp_bridge_pipe_write(b, p);
		return 0;
	case VMAPP_TRANSPORT_PIPE_CANCEL:
		p = vmapp_bridge_pipe_find(ch, f->ref.ref);
		if (p)
			vmapp_bridge_pipe_free(ch, p);
		vmapp_transport_send_pipe_end(&b->state, &b->out, ch->id, f->ref.ref);
		return 0;
	}
	return -EINVAL;
}

void vmapp_bridge_pipe_update(struct vmapp_bridge *b, struct pipe *p)
{
	uint32_t events = 0;
	if (p->we_read && p->armed && p->ch->head_op == p->ch->n_ops &&
	    vmapp_transport_send_room(&b->state, p->ch->id) > PIPE_DATA_FIXED && !vmapp_bridge_stream_full(b))
		events = EPOLLIN;
	if (!p->we_read && vmapp_buf_size(&p->pending) > 0)
		events = EPOLLOUT;
	if (events != p->events && vmapp_bridge_epoll_set(b, EPOLL_CTL_MOD, p->fd, events, &p->source) == 0)
		p->events = events;
}

void vmapp_bridge_pipe_write(struct vmapp_bridge *b, struct pipe *p)
{
	struct vmapp_bridge_channel *ch = p->ch;
	while (vmapp_buf_size(&p->pending) > 0) {
		ssize_t n = write(p->fd, vmapp_buf_head(&p->pending), vmapp_buf_size(&p->pending));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* The reader went away: stop the writer. */
			vmapp_bridge_credit(ch, (uint32_t)vmapp_buf_size(&p->pending));
			vmapp_transport_send_pipe_cancel(&b->state, &b->out, ch->id, p->ref);
			vmapp_bridge_pipe_free(ch, p);
			return;
		}
		vmapp_buf_consume(&p->pending, (size_t)n);
		vmapp_bridge_credit(ch, (uint32_t)n);
	}
	if (p->end_received && vmapp_buf_size(&p->pending) == 0) {
		vmapp_transport_send_pipe_cancel(&b->state, &b->out, ch->id, p->ref);
		vmapp_bridge_pipe_free(ch, p);
		return;
	}
	vmapp_bridge_pipe_update(b, p);
}

void vmapp_bridge_pipe_read(struct vmapp_bridge *b, struct pipe *p)
{
	struct vmapp_bridge_channel *ch = p->ch;
	uint32_t room = vmapp_transport_send_room(&b->state, ch->id);
	if (room <= PIPE_DATA_FIXED || ch->head_op < ch->n_ops) {
		vmapp_bridge_pipe_update(b, p);
		return;
	}
	uint32_t want = room - PIPE_DATA_FIXED;
	if (want > PIPE_CHUNK)
		want = PIPE_CHUNK;
	uint8_t buf[PIPE_CHUNK];
	ssize_t n = read(p->fd, buf, want);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		vmapp_transport_send_pipe_end(&b->state, &b->out, ch->id, p->ref);
		vmapp_bridge_pipe_free(ch, p);
		return;
	}
	if (vmapp_transport_send_pipe_data(&b->state, &b->out, ch->id, p->ref, buf,
					   (uint32_t)n) < 0) {
		/* The peer cancelled it. */
		vmapp_bridge_pipe_free(ch, p);
		return;
	}
	vmapp_bridge_pipe_update(b, p);
}
