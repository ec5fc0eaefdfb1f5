/* SPDX-License-Identifier: MIT */
/* Growable byte buffers and fd queues, bounded by their owner. */
#ifndef VMAPP_BUFFER_H
#define VMAPP_BUFFER_H

#include <stddef.h>
#include <stdint.h>

struct vmapp_buf {
	uint8_t *data;
	size_t start; /* bytes before start are consumed */
	size_t len;   /* end of valid bytes */
	size_t cap;
};

void vmapp_buf_finish(struct vmapp_buf *buf);
static inline size_t vmapp_buf_size(const struct vmapp_buf *buf)
{
	return buf->len - buf->start;
}
static inline const uint8_t *vmapp_buf_head(const struct vmapp_buf *buf)
{
	return buf->data + buf->start;
}
/* Room for `n` more bytes at the end; returns where they go, NULL on ENOMEM. */
uint8_t *vmapp_buf_reserve(struct vmapp_buf *buf, size_t n);
int vmapp_buf_append(struct vmapp_buf *buf, const void *data, size_t n);
void vmapp_buf_consume(struct vmapp_buf *buf, size_t n);

#define VMAPP_FDQ_MAX 256

/* Owns the fds it holds: vmapp_fdq_finish closes them. */
struct vmapp_fdq {
	int fds[VMAPP_FDQ_MAX];
	size_t n;
};

void vmapp_fdq_finish(struct vmapp_fdq *q);
/* -ENOSPC when full (the caller closes fd). */
int vmapp_fdq_push(struct vmapp_fdq *q, int fd);
/* Moves the first n fds to the end of dst; -ENOSPC leaves both untouched. */
int vmapp_fdq_move(struct vmapp_fdq *src, struct vmapp_fdq *dst, size_t n);
/* Closes the first n fds. */
void vmapp_fdq_drop(struct vmapp_fdq *q, size_t n);
/* Removes the first n fds without closing them (they were sent). */
void vmapp_fdq_shift(struct vmapp_fdq *q, size_t n);

#endif
