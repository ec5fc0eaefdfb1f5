/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "hooks.h"
#include "track.h"
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
		r = vmapp_track_message(&conn->objects, conn->config->protocols, direction,
					&view, ctx.new_data);
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
