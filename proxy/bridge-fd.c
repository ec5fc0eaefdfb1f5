/* SPDX-License-Identifier: MIT */
/* The fds a frame's refs stand for, made here; the guard around reading a
 * guest client's pool. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge-impl.h"

/*
 * The guest's client may shrink its pool's file between the size check and
 * the copy; the copy would then raise SIGBUS.  That costs the client its
 * channel, not the agent every client's (as wl_shm_buffer_begin_access
 * does for a compositor).
 */
static sigjmp_buf *volatile sigbus_jump;

static struct host_pool *host_pool_find(struct vmapp_bridge_channel *ch, uint32_t ref)
{
	for (uint32_t i = 0; i < ch->n_pools; i++)
		if (ch->pools[i].ref == ref)
			return &ch->pools[i];
	return NULL;
}

static struct content *content_find(struct vmapp_bridge_channel *ch, uint32_t ref)
{
	for (uint32_t i = 0; i < ch->n_contents; i++)
		if (ch->contents[i].ref == ref)
			return &ch->contents[i];
	return NULL;
}

static void content_remove(struct vmapp_bridge_channel *ch, struct content *c)
{
	vmapp_buf_finish(&c->data);
	*c = ch->contents[--ch->n_contents];
}

/* A complete content becomes a sealed memfd, passed once. */
static int content_fd(struct vmapp_bridge_channel *ch, uint32_t ref)
{
	struct content *c = content_find(ch, ref);
	if (!c)
		return -ENOENT;
	int fd = vmapp_mirror_fd_from_content("vmapp-content", vmapp_buf_head(&c->data),
					      vmapp_buf_size(&c->data));
	content_remove(ch, c);
	return fd;
}

/* The fd a ref of the peer stands for in a WAYLAND frame, made here. */
int vmapp_bridge_fd_for_ref(struct vmapp_bridge_channel *ch, uint32_t ref)
{
	const struct vmapp_transport_ref *info =
		vmapp_transport_ref_get(&ch->bridge->state, ch->id, ref);
	if (!info) {
		/* The codec forgets a content as the frame that passes it
		 * arrives: what is left of it is ours. */
		return content_fd(ch, ref);
	}
	switch (info->type) {
	case VMAPP_TRANSPORT_REF_SHM: {
		struct host_pool *hp = host_pool_find(ch, ref);
		if (!hp)
			return -ENOENT;
		int fd = fcntl(hp->pool.fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	}
	case VMAPP_TRANSPORT_REF_CONTENT:
		return content_fd(ch, ref);
	case VMAPP_TRANSPORT_REF_PIPE: {
		int ends[2];
		if (ch->bridge->fds_held >= ch->bridge->fd_budget)
			return -EMFILE;
		if (pipe2(ends, O_CLOEXEC) < 0)
			return -errno;
		/* we_write: this side sends PIPE_DATA, so it reads what the
		 * client writes; otherwise it writes what the client reads. */
		int ours = info->we_write ? ends[0] : ends[1];
		int theirs = info->we_write ? ends[1] : ends[0];
		if (!vmapp_bridge_pipe_add(ch, ref, ours, info->we_write, true)) {
			close(theirs);
			return -ENOMEM;
		}
		return theirs;
	}
	}
	return -EINVAL;
}

/* Host: a regular file from the compositor (a keymap) crosses as content. */
int vmapp_bridge_ref_from_file(struct vmapp_bridge_channel *ch, int fd, uint32_t *ret_ref)
{
	uint8_t *data;
	size_t len;
	int r = vmapp_mirror_read_fd(fd, CONTENT_MAX, &data, &len);
	if (r < 0)
		return r;
	struct op *op = vmapp_bridge_op_push(ch, OP_CONTENT);
	if (!op) {
		free(data);
		return -ENOMEM;
	}
	op->ref = ch->next_ref++;
	op->content = data;
	op->content_len = len;
	*ret_ref = op->ref;
	return 0;
}

int vmapp_bridge_deliver_shm(struct vmapp_bridge_channel *ch, const struct vmapp_transport_frame *f)
{
	struct host_pool *hp;
	int r;

	switch (f->kind) {
	case VMAPP_TRANSPORT_SHM_CREATE:
		if (ch->n_pools == ch->cap_pools) {
			uint32_t cap = ch->cap_pools ? ch->cap_pools * 2 : 8;
			struct host_pool *pools = realloc(ch->pools, cap * sizeof(*pools));
			if (!pools)
				return -ENOMEM;
			ch->pools = pools;
			ch->cap_pools = cap;
		}
		if (ch->bridge->fds_held >= ch->bridge->fd_budget)
			return -EMFILE;
		hp = &ch->pools[ch->n_pools];
		hp->ref = f->shm.ref;
		r = vmapp_mirror_pool_create(f->shm.size, &hp->pool);
		if (r < 0)
			return r;
		ch->n_pools++;
		ch->bridge->fds_held++;
		return 0;
	case VMAPP_TRANSPORT_SHM_RESIZE:
		hp = host_pool_find(ch, f->shm.ref);
		return hp ? vmapp_mirror_pool_resize(&hp->pool, f->shm.size) : -ENOENT;
	case VMAPP_TRANSPORT_SHM_UPDATE:
		hp = host_pool_find(ch, f->shm_update.ref);
		r = hp ? vmapp_mirror_pool_update(&hp->pool, f->shm_update.offset,
						  f->shm_update.data, f->shm_update.size)
		       : -ENOENT;
		vmapp_bridge_credit(ch, f->length);
		return r;
	case VMAPP_TRANSPORT_SHM_DESTROY:
		hp = host_pool_find(ch, f->ref.ref);
		if (!hp)
			return -ENOENT;
		vmapp_mirror_pool_finish(&hp->pool);
		*hp = ch->pools[--ch->n_pools];
		ch->bridge->fds_held--;
		return 0;
	}
	return -EINVAL;
}

int vmapp_bridge_deliver_content(struct vmapp_bridge_channel *ch, const struct vmapp_transport_frame *f)
{
	struct content *c = content_find(ch, f->fd_content.ref);
	vmapp_bridge_credit(ch, f->length);
	if (!c) {
		if (ch->n_contents == ch->cap_contents) {
			uint32_t cap = ch->cap_contents ? ch->cap_contents * 2 : 4;
			struct content *cs = realloc(ch->contents, cap * sizeof(*cs));
			if (!cs)
				return -ENOMEM;
			ch->contents = cs;
			ch->cap_contents = cap;
		}
		c = &ch->contents[ch->n_contents++];
		memset(c, 0, sizeof(*c));
		c->ref = f->fd_content.ref;
	}
	return vmapp_buf_append(&c->data, f->fd_content.data, f->fd_content.size);
}

static void on_sigbus(int sig, siginfo_t *info, void *context)
{
	if (sigbus_jump)
		siglongjmp(*sigbus_jump, 1);
	/* Not ours: die as SIGBUS would have. */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

void vmapp_bridge_catch_sigbus(void)
{
	static bool installed;
	if (installed)
		return;
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	installed = sigaction(SIGBUS, &sa, NULL) == 0;
}

/* One SHM_UPDATE frame of the op's next `chunk` bytes, read from the
 * client's pool; -EFAULT when they are gone. */
int vmapp_bridge_send_update(struct vmapp_bridge *b, struct vmapp_bridge_channel *ch,
		       const struct op *op, uint32_t chunk)
{
	sigjmp_buf jump;
	/* The frame is appended only once its bytes are copied: a jump out
	 * of the copy leaves the buffer and the accounts as they were. */
	if (sigsetjmp(jump, 1)) {
		sigbus_jump = NULL;
		return -EFAULT;
	}
	sigbus_jump = &jump;
	const uint8_t *data = b->config.guest->data(ch->shm, op->ref, op->offset, chunk);
	if (!data) {
		sigbus_jump = NULL;
		return -EFAULT;
	}
	int r = vmapp_transport_send_shm_update(&b->state, &b->out, ch->id, op->ref, op->offset,
						data, chunk);
	sigbus_jump = NULL;
	return r;
}
