/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "hooks.h"
#include "vmapp-tables.h"

int vmapp_conn_init(struct vmapp_conn *conn, const struct vmapp_conn_config *config)
{
	memset(conn, 0, sizeof(*conn));
	conn->config = config;
	vmapp_objmap_init(&conn->objects, vmapp_policy_limits(config->policy)->objects);
	/* wl_display is object 1 from the start, as in libwayland. */
	return vmapp_objmap_insert(&conn->objects, 1, &vmapp_iface_wl_display, 1);
}

void vmapp_conn_finish(struct vmapp_conn *conn)
{
	for (uint32_t i = 0; i < conn->n_pools; i++)
		close(conn->pools[i].fd);
	free(conn->pools);
	free(conn->globals);
	free(conn->configures);
	vmapp_objmap_finish(&conn->objects);
	memset(conn, 0, sizeof(*conn));
}

int vmapp_conn_write_error(struct vmapp_buf *out, uint32_t object_id, uint32_t code,
			   const char *text)
{
	size_t len = strlen(text) + 1;
	if (len > 1024)
		len = 1024;
	size_t padded = (len + 3) & ~(size_t)3;
	uint32_t size = (uint32_t)(8 + 4 + 4 + 4 + padded);
	uint8_t *p = vmapp_buf_reserve(out, size);
	if (!p)
		return -ENOMEM;
	memset(p, 0, size);
	vmapp_wire_put_u32(p, 1);
	vmapp_wire_put_u32(p + 4, size << 16 | VMAPP_EVT_WL_DISPLAY_ERROR);
	vmapp_wire_put_u32(p + 8, object_id);
	vmapp_wire_put_u32(p + 12, code);
	vmapp_wire_put_u32(p + 16, (uint32_t)len);
	memcpy(p + 20, text, len - 1);
	out->len += size;
	return 0;
}

/* Objects the message creates or destroys, once it is on its way. */
static enum vmapp_rule track(struct vmapp_conn *conn, enum vmapp_direction direction,
			     const struct vmapp_message_view *view, uint64_t new_data)
{
	const struct vmapp_message *m = view->message;
	uint32_t version = view->object->version;

	for (uint32_t i = 0; i < m->n_args; i++) {
		const struct vmapp_arg *arg = &m->args[i];
		if (arg->type != VMAPP_ARG_NEW_ID)
			continue;
		const struct vmapp_interface *iface = arg->interface;
		uint32_t v = version;
		if (!iface) {
			/* wl_registry.bind: the hook has checked the name and version */
			iface = vmapp_protocol_find(conn->config->protocols,
						    view->new_interface_name);
			v = view->new_version;
			if (!iface)
				return VMAPP_RULE_INTERFACE_UNKNOWN;
		}
		int r = vmapp_objmap_insert(&conn->objects, view->args[i].u, iface, v);
		if (r == -ENOSPC)
			return VMAPP_RULE_LIMIT_OBJECTS;
		if (r == -ENOMEM)
			return VMAPP_RULE_NO_MEMORY;
		if (r < 0)
			return direction == VMAPP_REQUEST ? VMAPP_RULE_NEW_ID_IN_USE
							  : VMAPP_RULE_SERVER_PROTOCOL;
		vmapp_objmap_get_mut(&conn->objects, view->args[i].u)->data = new_data;
	}

	/* A client id waits for the compositor's delete_id.  A compositor id
	 * gets none: it stays a zombie, so that events still in flight for it
	 * parse, until the compositor hands the id out again. */
	if (m->destructor)
		vmapp_objmap_zombify(&conn->objects, view->object_id);
	return VMAPP_RULE_OK;
}

struct vmapp_verdict vmapp_conn_handle(struct vmapp_conn *conn, enum vmapp_direction direction,
				       const uint8_t *untrusted_data, size_t len,
				       const int *fds, size_t n_fds, struct vmapp_buf *out)
{
	struct vmapp_verdict verdict = {
		.interface_name = "?",
		.message_name = "?",
	};
	struct vmapp_message_view view;
	enum vmapp_rule r;

	r = vmapp_wire_decode(conn->config->protocols, &conn->objects, direction,
			      untrusted_data, len, n_fds, &view);
	verdict.object_id = view.object_id;
	verdict.size = view.size;
	if (view.interface)
		verdict.interface_name = view.interface->name;
	if (view.message)
		verdict.message_name = view.message->name;
	if (r != VMAPP_RULE_OK) {
		if (direction == VMAPP_EVENT && r != VMAPP_RULE_HEADER_TRUNCATED &&
		    r != VMAPP_RULE_MESSAGE_TRUNCATED)
			r = VMAPP_RULE_SERVER_PROTOCOL;
		verdict.rule = r;
		return verdict;
	}
	verdict.n_fds = view.n_fds;

	/* Work on our own copy from here on: hooks rewrite it in place, and
	 * nothing the sender changes later can reach the compositor. */
	size_t mark = vmapp_buf_size(out);
	uint8_t *copy = vmapp_buf_reserve(out, view.size);
	if (!copy) {
		verdict.rule = VMAPP_RULE_NO_MEMORY;
		return verdict;
	}
	memcpy(copy, untrusted_data, view.size);
	out->len += view.size;

	struct vmapp_hook_ctx ctx = {
		.conn = conn,
		.view = &view,
		.fds = fds,
		.out = out,
		.mark = mark,
		.forward = true,
	};
	r = vmapp_hooks_run(&ctx, direction);
	if (r == VMAPP_RULE_OK && ctx.forward)
		r = track(conn, direction, &view, ctx.new_data);
	if (r != VMAPP_RULE_OK) {
		if (direction == VMAPP_EVENT && r != VMAPP_RULE_NO_MEMORY)
			r = VMAPP_RULE_SERVER_PROTOCOL;
		out->len = out->start + mark;
		verdict.rule = r;
		return verdict;
	}
	if (!ctx.forward)
		out->len = out->start + mark;
	verdict.forward = ctx.forward;
	verdict.rule = VMAPP_RULE_OK;
	return verdict;
}
