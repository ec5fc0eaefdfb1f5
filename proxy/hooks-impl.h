/* SPDX-License-Identifier: MIT */
/* The hooks, one file per concern; dispatched from hooks.c. */
#ifndef VMAPP_HOOKS_IMPL_H
#define VMAPP_HOOKS_IMPL_H

#include "hooks.h"

/* hooks-registry.c */
enum vmapp_rule vmapp_hook_delete_id(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_global(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_global_remove(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_bind(struct vmapp_hook_ctx *ctx);

/* hooks-shm.c */
enum vmapp_rule vmapp_hook_shm_format(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_shm_create_pool(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_shm_create_buffer(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_shm_resize(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_shm_pool_destroy(struct vmapp_hook_ctx *ctx);

/* hooks-xdg.c */
enum vmapp_rule vmapp_hook_set_title(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_set_app_id(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_decoration_set_mode(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_decoration_unset_mode(struct vmapp_hook_ctx *ctx);

/* hooks-data.c */
enum vmapp_rule vmapp_hook_data_enter(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_selection_event(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_set_selection(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_receive(struct vmapp_hook_ctx *ctx);

/* hooks-role.c */
enum vmapp_rule vmapp_hook_get_xdg_surface(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_xdg_surface_destroy(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_get_role_object(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_role_object_destroy(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_get_subsurface(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_subsurface_destroy(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_set_cursor(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_configure(struct vmapp_hook_ctx *ctx);
enum vmapp_rule vmapp_hook_ack_configure(struct vmapp_hook_ctx *ctx);

/* fdcheck.c: what an fd from the client really is. */
enum vmapp_fd_kind {
	VMAPP_FD_SHM,  /* a memfd or regular file */
	VMAPP_FD_PIPE, /* the write end of a data transfer */
};
/* 0 when fd is of the kind and, for shm, at least min_size bytes long. */
int vmapp_fd_check(int fd, enum vmapp_fd_kind kind, uint64_t min_size);

#endif
