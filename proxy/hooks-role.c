/* SPDX-License-Identifier: MIT */
/*
 * Surface roles and configure serials.  A wrong role or an unknown serial
 * is a protocol error on the compositor's side; caught here, it costs the
 * client its connection with our own error text, before the compositor
 * sees it.
 *
 * Object data: wl_surface: its role (ROLE_*) and what it has now
 * (HAS_*); xdg_surface: its wl_surface's id, and XDG_HAS_ROLE_OBJECT;
 * xdg_toplevel and xdg_popup: their xdg_surface's id; wl_subsurface: its
 * wl_surface's id.
 */
#include <stdlib.h>
#include <string.h>

#include "hooks-impl.h"
#include "vmapp-tables.h"

enum {
	ROLE_NONE = 0,
	ROLE_XDG = 1,
	ROLE_SUBSURFACE = 2,
	ROLE_CURSOR = 3,
	ROLE_MASK = 3,
	HAS_XDG_SURFACE = 1 << 2,
	HAS_SUBSURFACE = 1 << 3,
};
#define XDG_HAS_ROLE_OBJECT (UINT64_C(1) << 32)
#define ID_MASK UINT64_C(0xffffffff)

static struct vmapp_object *object(struct vmapp_hook_ctx *ctx, uint32_t id)
{
	return vmapp_objmap_get_mut(&ctx->conn->objects, id);
}

/* Gives the surface a role, unless it has another one. */
static enum vmapp_rule take_role(struct vmapp_object *surface, uint64_t role)
{
	uint64_t now = surface->data & ROLE_MASK;
	if (now != ROLE_NONE && now != role)
		return VMAPP_RULE_ROLE;
	surface->data = (surface->data & ~(uint64_t)ROLE_MASK) | role;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_get_xdg_surface(struct vmapp_hook_ctx *ctx)
{
	/* id, surface */
	uint32_t surface_id = ctx->view->args[1].u;
	struct vmapp_object *surface = object(ctx, surface_id);

	if (surface->data & HAS_XDG_SURFACE)
		return VMAPP_RULE_ROLE;
	enum vmapp_rule r = take_role(surface, ROLE_XDG);
	if (r != VMAPP_RULE_OK)
		return r;
	surface->data |= HAS_XDG_SURFACE;
	ctx->new_data = surface_id;
	return VMAPP_RULE_OK;
}

static struct vmapp_configures *find_configures(struct vmapp_conn *conn, uint32_t xdg_surface)
{
	for (uint32_t i = 0; i < conn->n_configures; i++)
		if (conn->configures[i].xdg_surface == xdg_surface)
			return &conn->configures[i];
	return NULL;
}

enum vmapp_rule vmapp_hook_xdg_surface_destroy(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	const struct vmapp_object *xdg = ctx->view->object;

	/* xdg_surface: "destroyed after its role object" (defunct_role_object) */
	if (xdg->data & XDG_HAS_ROLE_OBJECT)
		return VMAPP_RULE_ROLE;
	struct vmapp_object *surface = object(ctx, (uint32_t)(xdg->data & ID_MASK));
	if (surface && surface->interface == &vmapp_iface_wl_surface)
		surface->data &= ~(uint64_t)HAS_XDG_SURFACE;
	struct vmapp_configures *c = find_configures(conn, ctx->view->object_id);
	if (c)
		*c = conn->configures[--conn->n_configures];
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_get_role_object(struct vmapp_hook_ctx *ctx)
{
	/* xdg_surface.get_toplevel(id) and get_popup(id, parent, positioner) */
	struct vmapp_object *xdg = object(ctx, ctx->view->object_id);

	if (xdg->data & XDG_HAS_ROLE_OBJECT)
		return VMAPP_RULE_ROLE;
	xdg->data |= XDG_HAS_ROLE_OBJECT;
	ctx->new_data = ctx->view->object_id;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_role_object_destroy(struct vmapp_hook_ctx *ctx)
{
	/* xdg_toplevel.destroy and xdg_popup.destroy */
	struct vmapp_object *xdg = object(ctx, (uint32_t)(ctx->view->object->data & ID_MASK));
	if (xdg && xdg->interface == &vmapp_iface_xdg_surface)
		xdg->data &= ~XDG_HAS_ROLE_OBJECT;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_get_subsurface(struct vmapp_hook_ctx *ctx)
{
	/* id, surface, parent */
	uint32_t surface_id = ctx->view->args[1].u;
	struct vmapp_object *surface = object(ctx, surface_id);

	if (surface_id == ctx->view->args[2].u || (surface->data & HAS_SUBSURFACE))
		return VMAPP_RULE_ROLE;
	enum vmapp_rule r = take_role(surface, ROLE_SUBSURFACE);
	if (r != VMAPP_RULE_OK)
		return r;
	surface->data |= HAS_SUBSURFACE;
	ctx->new_data = surface_id;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_subsurface_destroy(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_object *surface = object(ctx, (uint32_t)(ctx->view->object->data & ID_MASK));
	if (surface && surface->interface == &vmapp_iface_wl_surface)
		surface->data &= ~(uint64_t)HAS_SUBSURFACE;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_set_cursor(struct vmapp_hook_ctx *ctx)
{
	/* serial, surface (may be null), hotspot x, y */
	struct vmapp_object *surface = object(ctx, ctx->view->args[1].u);
	return surface ? take_role(surface, ROLE_CURSOR) : VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_configure(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	uint32_t id = ctx->view->object_id;
	struct vmapp_configures *c = find_configures(conn, id);

	if (!c) {
		if (conn->n_configures == conn->cap_configures) {
			uint32_t n = conn->cap_configures ? conn->cap_configures * 2 : 8;
			struct vmapp_configures *a = realloc(conn->configures, n * sizeof(*a));
			if (!a)
				return VMAPP_RULE_NO_MEMORY;
			conn->configures = a;
			conn->cap_configures = n;
		}
		c = &conn->configures[conn->n_configures++];
		c->xdg_surface = id;
		c->n = 0;
	}
	/* A client may skip configures and ack only the newest: keep the
	 * newest ones. */
	if (c->n == VMAPP_PENDING_SERIALS) {
		memmove(c->serials, c->serials + 1, (c->n - 1) * sizeof(c->serials[0]));
		c->n--;
	}
	c->serials[c->n++] = ctx->view->args[0].u;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_ack_configure(struct vmapp_hook_ctx *ctx)
{
	uint32_t serial = ctx->view->args[0].u;
	struct vmapp_configures *c = find_configures(ctx->conn, ctx->view->object_id);

	if (!c)
		return VMAPP_RULE_CONFIGURE_SERIAL;
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->serials[i] != serial)
			continue;
		/* it and every older one are done */
		memmove(c->serials, c->serials + i + 1, (c->n - i - 1) * sizeof(c->serials[0]));
		c->n -= i + 1;
		return VMAPP_RULE_OK;
	}
	return VMAPP_RULE_CONFIGURE_SERIAL;
}
