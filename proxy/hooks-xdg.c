/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "hooks-impl.h"
#include "sanitize.h"
#include "vmapp-tables.h"

/* Room for the label, its decoration and the longest title a policy may
 * allow, well inside one message. */
#define LABELLED_MAX 2048

typedef size_t (*sanitize_fn)(const char *untrusted, size_t len, size_t max_bytes,
			      char *out, size_t out_size);

/* Cleans the message's one string, puts `before` LABEL `after` in front
 * of it, and rewrites the message with the result. */
static enum vmapp_rule label_string(struct vmapp_hook_ctx *ctx, sanitize_fn sanitize,
				    const char *before, const char *after)
{
	const struct vmapp_limits *limits = vmapp_policy_limits(ctx->conn->config->policy);
	const char *untrusted = ctx->view->args[0].str.data;
	size_t untrusted_len = ctx->view->args[0].str.size - 1;
	char clean[LABELLED_MAX];
	char labelled[LABELLED_MAX + 64];

	size_t max = limits->title_length < LABELLED_MAX - 1 ? limits->title_length
							     : LABELLED_MAX - 1;
	sanitize(untrusted, untrusted_len, max, clean, sizeof(clean));
	int n = snprintf(labelled, sizeof(labelled), "%s%s%s%s", before,
			 ctx->conn->config->label, after, clean);
	if (n < 0 || (size_t)n >= sizeof(labelled))
		return VMAPP_RULE_NO_MEMORY;
	return vmapp_hook_rewrite_string(ctx, labelled, (size_t)n) < 0 ? VMAPP_RULE_NO_MEMORY
								       : VMAPP_RULE_OK;
}

/* The title is the guest's to choose, within bounds; the "[label] " in
 * front of it is not: a guest can not draw a window that looks like the
 * host's own. */
enum vmapp_rule vmapp_hook_set_title(struct vmapp_hook_ctx *ctx)
{
	return label_string(ctx, vmapp_sanitize_title, "[", "] ");
}

enum vmapp_rule vmapp_hook_set_app_id(struct vmapp_hook_ctx *ctx)
{
	return label_string(ctx, vmapp_sanitize_app_id, "vmapp.", ".");
}

/* DESIGN.md: server-side decorations forced.  A guest that draws its own
 * frame could draw a host-looking title bar around its window. */
#define DECORATION_SERVER_SIDE 2

enum vmapp_rule vmapp_hook_decoration_set_mode(struct vmapp_hook_ctx *ctx)
{
	vmapp_wire_put_u32(vmapp_hook_message(ctx) + 8, DECORATION_SERVER_SIDE);
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_decoration_unset_mode(struct vmapp_hook_ctx *ctx)
{
	/* "let the compositor choose" becomes set_mode(server_side) */
	struct vmapp_buf *out = ctx->out;
	out->len = out->start + ctx->mark;
	uint8_t *p = vmapp_buf_reserve(out, 12);
	if (!p)
		return VMAPP_RULE_NO_MEMORY;
	vmapp_wire_put_u32(p, ctx->view->object_id);
	vmapp_wire_put_u32(p + 4, 12u << 16 | VMAPP_REQ_ZXDG_TOPLEVEL_DECORATION_V1_SET_MODE);
	vmapp_wire_put_u32(p + 8, DECORATION_SERVER_SIDE);
	out->len += 12;
	return VMAPP_RULE_OK;
}
