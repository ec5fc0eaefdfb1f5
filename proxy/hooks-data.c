/* SPDX-License-Identifier: MIT */
/*
 * Clipboard mediation.  A client never reads the host selection just
 * because it got keyboard focus: unless the policy says "both", selection
 * offers reach it as "no selection", and reading any offer but the one of
 * a drag the user is doing onto its window is dropped (its pipe closed, so
 * the reader sees an empty transfer).  Setting the host selection needs
 * the policy's "guest-to-host" or "both".
 */
#include "hooks-impl.h"
#include "vmapp-tables.h"

#define OFFER_FROM_DRAG 1u

static enum vmapp_clipboard_mode mode(const struct vmapp_hook_ctx *ctx)
{
	return vmapp_policy_clipboard(ctx->conn->config->policy);
}

enum vmapp_rule vmapp_hook_data_enter(struct vmapp_hook_ctx *ctx)
{
	/* serial, surface, x, y, offer (may be null) */
	struct vmapp_object *offer = vmapp_objmap_get_mut(&ctx->conn->objects,
							  ctx->view->args[4].u);
	if (offer && offer->interface == &vmapp_iface_wl_data_offer)
		offer->data |= OFFER_FROM_DRAG;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_selection_event(struct vmapp_hook_ctx *ctx)
{
	/* selection(offer): the only argument, right after the header */
	if (mode(ctx) != VMAPP_CLIPBOARD_BOTH)
		vmapp_wire_put_u32(vmapp_hook_message(ctx) + 8, 0);
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_set_selection(struct vmapp_hook_ctx *ctx)
{
	if (mode(ctx) == VMAPP_CLIPBOARD_OFF)
		ctx->forward = false;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_receive(struct vmapp_hook_ctx *ctx)
{
	/* mime_type, fd */
	int fd = ctx->fds[ctx->view->args[1].fd_index];

	if (!ctx->conn->config->pass_fds || vmapp_fd_check(fd, VMAPP_FD_PIPE, 0) < 0)
		return VMAPP_RULE_FD_TYPE;
	bool from_drag = ctx->view->interface == &vmapp_iface_wl_data_offer &&
			 (ctx->view->object->data & OFFER_FROM_DRAG);
	if (mode(ctx) != VMAPP_CLIPBOARD_BOTH && !from_drag)
		ctx->forward = false;
	return VMAPP_RULE_OK;
}
