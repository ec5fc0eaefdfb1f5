/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"

void vmapp_buf_finish(struct vmapp_buf *buf)
{
	free(buf->data);
	memset(buf, 0, sizeof(*buf));
}

uint8_t *vmapp_buf_reserve(struct vmapp_buf *buf, size_t n)
{
	if (buf->start > 0 && buf->cap - buf->len < n) {
		memmove(buf->data, buf->data + buf->start, buf->len - buf->start);
		buf->len -= buf->start;
		buf->start = 0;
	}
	/* An empty buffer has no memory yet: even 0 bytes get some, so that
	 * the pointer returned is never NULL + 0 (a 0-byte PIPE_DATA). */
	if (!buf->data || buf->cap - buf->len < n) {
		size_t cap = buf->cap ? buf->cap : 4096;
		while (cap - buf->len < n) {
			if (cap > SIZE_MAX / 2)
				return NULL;
			cap *= 2;
		}
		uint8_t *data = realloc(buf->data, cap);
		if (!data)
			return NULL;
		buf->data = data;
		buf->cap = cap;
	}
	return buf->data + buf->len;
}

int vmapp_buf_append(struct vmapp_buf *buf, const void *data, size_t n)
{
	uint8_t *p = vmapp_buf_reserve(buf, n);
	if (!p)
		return -ENOMEM;
	memcpy(p, data, n);
	buf->len += n;
	return 0;
}

void vmapp_buf_consume(struct vmapp_buf *buf, size_t n)
{
	buf->start += n;
	if (buf->start >= buf->len)
		buf->start = buf->len = 0;
}

void vmapp_fdq_finish(struct vmapp_fdq *q)
{
	vmapp_fdq_drop(q, q->n);
}

int vmapp_fdq_push(struct vmapp_fdq *q, int fd)
{
	if (q->n >= VMAPP_FDQ_MAX)
		return -ENOSPC;
	q->fds[q->n++] = fd;
	return 0;
}

int vmapp_fdq_move(struct vmapp_fdq *src, struct vmapp_fdq *dst, size_t n)
{
	if (n > src->n || VMAPP_FDQ_MAX - dst->n < n)
		return -ENOSPC;
	memcpy(dst->fds + dst->n, src->fds, n * sizeof(int));
	dst->n += n;
	vmapp_fdq_shift(src, n);
	return 0;
}

void vmapp_fdq_drop(struct vmapp_fdq *q, size_t n)
{
	if (n > q->n)
		n = q->n;
	for (size_t i = 0; i < n; i++)
		close(q->fds[i]);
	vmapp_fdq_shift(q, n);
}

void vmapp_fdq_shift(struct vmapp_fdq *q, size_t n)
{
	if (n > q->n)
		n = q->n;
	memmove(q->fds, q->fds + n, (q->n - n) * sizeof(int));
	q->n -= n;
}
