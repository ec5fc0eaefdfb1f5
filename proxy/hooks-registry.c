/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "hooks-impl.h"
#include "track.h"
#include "vmapp-tables.h"

enum vmapp_rule vmapp_hook_delete_id(struct vmapp_hook_ctx *ctx)
{
	vmapp_track_delete_id(&ctx->conn->objects, ctx->view->args[0].u);
	return VMAPP_RULE_OK;
}

static struct vmapp_global *find_global(struct vmapp_conn *conn, uint32_t name)
{
	for (uint32_t i = 0; i < conn->n_globals; i++)
		if (conn->globals[i].name == name)
			return &conn->globals[i];
	return NULL;
}

/*
 * A global reaches the client only if the policy allows its interface and
 * the tables know it; its version is clamped to min(host, policy cap,
 * tables), rewritten in place.
 */
enum vmapp_rule vmapp_hook_global(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	const struct vmapp_message_view *view = ctx->view;
	uint32_t name = view->args[0].u;
	const char *interface = view->args[1].str.data;
	uint32_t version = view->args[2].u;

	const struct vmapp_interface *iface =
		vmapp_protocol_find(conn->config->protocols, interface);
	uint32_t cap = vmapp_policy_version_cap(conn->config->policy, interface);
	if (!iface || cap == 0 || version == 0) {
		ctx->forward = false;
		return VMAPP_RULE_OK;
	}
	if (version > cap)
		version = cap;
	if (version > iface->version)
		version = iface->version;

	struct vmapp_global *g = find_global(conn, name);
	if (!g) {
		if (conn->n_globals == conn->cap_globals) {
			uint32_t cap_n = conn->cap_globals ? conn->cap_globals * 2 : 32;
			if (cap_n > 4096)
				return VMAPP_RULE_LIMIT_OBJECTS;
			struct vmapp_global *n = realloc(conn->globals, cap_n * sizeof(*n));
			if (!n)
				return VMAPP_RULE_NO_MEMORY;
			conn->globals = n;
			conn->cap_globals = cap_n;
		}
		g = &conn->globals[conn->n_globals++];
	}
	g->name = name;
	g->version = version;
	g->interface = iface;
	g->removed = false;
	vmapp_wire_put_u32(vmapp_hook_message(ctx) + view->size - 4, version);
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_global_remove(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_global *g = find_global(ctx->conn, ctx->view->args[0].u);
	if (!g || g->removed)
		ctx->forward = false;
	else
		g->removed = true;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_bind(struct vmapp_hook_ctx *ctx)
{
	const struct vmapp_message_view *view = ctx->view;
	struct vmapp_global *g = find_global(ctx->conn, view->args[0].u);

	/* A removed global may still be bound for a moment (the client had
	 * not seen global_remove yet); the compositor makes that inert. */
	if (!g)
		return VMAPP_RULE_BIND_NOT_ADVERTISED;
	if (strcmp(view->new_interface_name, g->interface->name) != 0)
		return VMAPP_RULE_BIND_INTERFACE;
	if (view->new_version == 0 || view->new_version > g->version)
		return VMAPP_RULE_BIND_VERSION;
	return VMAPP_RULE_OK;
}
