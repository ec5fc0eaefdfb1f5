/* SPDX-License-Identifier: MIT */
/*
 * Stateful hooks: the few messages whose meaning depends on more than the
 * message itself (registry, shm, toplevel labels, clipboard, fds).  Each
 * is registered against a generated interface and opcode.
 */
#ifndef VMAPP_HOOKS_H
#define VMAPP_HOOKS_H

#include "conn.h"

struct vmapp_hook_ctx {
	struct vmapp_conn *conn;
	const struct vmapp_message_view *view;
	const int *fds;        /* this message's fds, view->n_fds of them */
	struct vmapp_buf *out; /* the message's copy is at vmapp_hook_message() */
	/* Bytes pending in out before the message: an offset from out->start,
	 * since growing the buffer may move its contents to the front. */
	size_t mark;
	bool forward;          /* a hook clears it to drop the message */
	uint64_t new_data;     /* hook state for the object the message creates */
};

/* Runs the hook of the message, if it has one. */
enum vmapp_rule vmapp_hooks_run(struct vmapp_hook_ctx *ctx, enum vmapp_direction direction);

static inline uint8_t *vmapp_hook_message(const struct vmapp_hook_ctx *ctx)
{
	return ctx->out->data + ctx->out->start + ctx->mark;
}

/* Replaces the message's copy by one with a single string argument. */
int vmapp_hook_rewrite_string(struct vmapp_hook_ctx *ctx, const char *s, size_t len);

#endif
