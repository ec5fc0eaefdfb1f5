/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "hooks-impl.h"
#include "vmapp-tables.h"

struct hook {
	const struct vmapp_interface *interface;
	enum vmapp_direction direction;
	uint32_t opcode;
	enum vmapp_rule (*fn)(struct vmapp_hook_ctx *ctx);
};

/* Grouped by interface: an object finds its interface's run of hooks once
 * (see hooks_of) and scans only that run for each of its messages. */
static const struct hook hooks[] = {
	{ &vmapp_iface_wl_display, VMAPP_EVENT, VMAPP_EVT_WL_DISPLAY_DELETE_ID, vmapp_hook_delete_id },
	{ &vmapp_iface_wl_registry, VMAPP_EVENT, VMAPP_EVT_WL_REGISTRY_GLOBAL, vmapp_hook_global },
	{ &vmapp_iface_wl_registry, VMAPP_EVENT, VMAPP_EVT_WL_REGISTRY_GLOBAL_REMOVE, vmapp_hook_global_remove },
	{ &vmapp_iface_wl_registry, VMAPP_REQUEST, VMAPP_REQ_WL_REGISTRY_BIND, vmapp_hook_bind },
	{ &vmapp_iface_wl_shm, VMAPP_EVENT, VMAPP_EVT_WL_SHM_FORMAT, vmapp_hook_shm_format },
	{ &vmapp_iface_wl_shm, VMAPP_REQUEST, VMAPP_REQ_WL_SHM_CREATE_POOL, vmapp_hook_shm_create_pool },
	{ &vmapp_iface_wl_shm_pool, VMAPP_REQUEST, VMAPP_REQ_WL_SHM_POOL_CREATE_BUFFER, vmapp_hook_shm_create_buffer },
	{ &vmapp_iface_wl_shm_pool, VMAPP_REQUEST, VMAPP_REQ_WL_SHM_POOL_RESIZE, vmapp_hook_shm_resize },
	{ &vmapp_iface_wl_shm_pool, VMAPP_REQUEST, VMAPP_REQ_WL_SHM_POOL_DESTROY, vmapp_hook_shm_pool_destroy },
	{ &vmapp_iface_xdg_wm_base, VMAPP_REQUEST, VMAPP_REQ_XDG_WM_BASE_GET_XDG_SURFACE, vmapp_hook_get_xdg_surface },
	{ &vmapp_iface_xdg_surface, VMAPP_REQUEST, VMAPP_REQ_XDG_SURFACE_DESTROY, vmapp_hook_xdg_surface_destroy },
	{ &vmapp_iface_xdg_surface, VMAPP_REQUEST, VMAPP_REQ_XDG_SURFACE_GET_TOPLEVEL, vmapp_hook_get_role_object },
	{ &vmapp_iface_xdg_surface, VMAPP_REQUEST, VMAPP_REQ_XDG_SURFACE_GET_POPUP, vmapp_hook_get_role_object },
	{ &vmapp_iface_xdg_surface, VMAPP_EVENT, VMAPP_EVT_XDG_SURFACE_CONFIGURE, vmapp_hook_configure },
	{ &vmapp_iface_xdg_surface, VMAPP_REQUEST, VMAPP_REQ_XDG_SURFACE_ACK_CONFIGURE, vmapp_hook_ack_configure },
	{ &vmapp_iface_xdg_popup, VMAPP_REQUEST, VMAPP_REQ_XDG_POPUP_DESTROY, vmapp_hook_role_object_destroy },
	{ &vmapp_iface_wl_subcompositor, VMAPP_REQUEST, VMAPP_REQ_WL_SUBCOMPOSITOR_GET_SUBSURFACE, vmapp_hook_get_subsurface },
	{ &vmapp_iface_wl_subsurface, VMAPP_REQUEST, VMAPP_REQ_WL_SUBSURFACE_DESTROY, vmapp_hook_subsurface_destroy },
	{ &vmapp_iface_wl_pointer, VMAPP_REQUEST, VMAPP_REQ_WL_POINTER_SET_CURSOR, vmapp_hook_set_cursor },
	{ &vmapp_iface_xdg_toplevel, VMAPP_REQUEST, VMAPP_REQ_XDG_TOPLEVEL_DESTROY, vmapp_hook_role_object_destroy },
	{ &vmapp_iface_xdg_toplevel, VMAPP_REQUEST, VMAPP_REQ_XDG_TOPLEVEL_SET_TITLE, vmapp_hook_set_title },
	{ &vmapp_iface_xdg_toplevel, VMAPP_REQUEST, VMAPP_REQ_XDG_TOPLEVEL_SET_APP_ID, vmapp_hook_set_app_id },
	{ &vmapp_iface_zxdg_toplevel_decoration_v1, VMAPP_REQUEST, VMAPP_REQ_ZXDG_TOPLEVEL_DECORATION_V1_SET_MODE, vmapp_hook_decoration_set_mode },
	{ &vmapp_iface_zxdg_toplevel_decoration_v1, VMAPP_REQUEST, VMAPP_REQ_ZXDG_TOPLEVEL_DECORATION_V1_UNSET_MODE, vmapp_hook_decoration_unset_mode },
	{ &vmapp_iface_wl_data_device, VMAPP_EVENT, VMAPP_EVT_WL_DATA_DEVICE_ENTER, vmapp_hook_data_enter },
	{ &vmapp_iface_wl_data_device, VMAPP_EVENT, VMAPP_EVT_WL_DATA_DEVICE_SELECTION, vmapp_hook_selection_event },
	{ &vmapp_iface_wl_data_device, VMAPP_REQUEST, VMAPP_REQ_WL_DATA_DEVICE_SET_SELECTION, vmapp_hook_set_selection },
	{ &vmapp_iface_wl_data_offer, VMAPP_REQUEST, VMAPP_REQ_WL_DATA_OFFER_RECEIVE, vmapp_hook_receive },
	{ &vmapp_iface_zwp_primary_selection_device_v1, VMAPP_EVENT, VMAPP_EVT_ZWP_PRIMARY_SELECTION_DEVICE_V1_SELECTION, vmapp_hook_selection_event },
	{ &vmapp_iface_zwp_primary_selection_device_v1, VMAPP_REQUEST, VMAPP_REQ_ZWP_PRIMARY_SELECTION_DEVICE_V1_SET_SELECTION, vmapp_hook_set_selection },
	{ &vmapp_iface_zwp_primary_selection_offer_v1, VMAPP_REQUEST, VMAPP_REQ_ZWP_PRIMARY_SELECTION_OFFER_V1_RECEIVE, vmapp_hook_receive },
};

#define N_HOOKS (sizeof(hooks) / sizeof(hooks[0]))
/* vmapp_object.hooks: KNOWN once looked up, then the run's first index in
 * the low 16 bits and its length in the next 8. */
#define HOOKS_KNOWN (1u << 31)

static uint32_t hooks_of(const struct vmapp_interface *interface)
{
	for (uint32_t i = 0; i < N_HOOKS; i++) {
		if (hooks[i].interface != interface)
			continue;
		uint32_t n = 1;
		while (i + n < N_HOOKS && hooks[i + n].interface == interface)
			n++;
		return HOOKS_KNOWN | n << 16 | i;
	}
	return HOOKS_KNOWN;
}

enum vmapp_rule vmapp_hooks_run(struct vmapp_hook_ctx *ctx, enum vmapp_direction direction)
{
	const struct vmapp_message_view *view = ctx->view;
	struct vmapp_object *obj = vmapp_objmap_get_mut(&ctx->conn->objects, view->object_id);
	bool hooked = false;
	enum vmapp_rule r = VMAPP_RULE_OK;

	if (!(obj->hooks & HOOKS_KNOWN))
		obj->hooks = hooks_of(obj->interface);
	uint32_t first = obj->hooks & 0xffff, end = first + ((obj->hooks >> 16) & 0xff);
	for (uint32_t i = first; i < end; i++) {
		const struct hook *h = &hooks[i];
		if (h->direction == direction && h->opcode == view->opcode) {
			hooked = true;
			r = h->fn(ctx);
			break;
		}
	}
	if (r != VMAPP_RULE_OK)
		return r;

	/* A client fd that no hook vouched for is never passed on: only
	 * hooks know what an fd is supposed to be. */
	if (direction == VMAPP_REQUEST && view->n_fds > 0 && !hooked)
		return VMAPP_RULE_FD_TYPE;
	return VMAPP_RULE_OK;
}

int vmapp_hook_rewrite_string(struct vmapp_hook_ctx *ctx, const char *s, size_t len)
{
	struct vmapp_buf *out = ctx->out;
	size_t padded = (len + 1 + 3) & ~(size_t)3;
	uint32_t size = (uint32_t)(8 + 4 + padded);

	if (size > VMAPP_MAX_MESSAGE_SIZE)
		return -E2BIG;
	out->len = out->start + ctx->mark;
	uint8_t *p = vmapp_buf_reserve(out, size);
	if (!p)
		return -ENOMEM;
	memset(p, 0, size);
	vmapp_wire_put_u32(p, ctx->view->object_id);
	vmapp_wire_put_u32(p + 4, size << 16 | ctx->view->opcode);
	vmapp_wire_put_u32(p + 8, (uint32_t)(len + 1));
	memcpy(p + 12, s, len);
	out->len += size;
	return 0;
}
