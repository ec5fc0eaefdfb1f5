/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "hooks-impl.h"
#include "shmdiff.h"
#include "vmapp-tables.h"

enum vmapp_rule vmapp_hook_shm_format(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	uint32_t format = ctx->view->args[0].u;

	for (uint32_t i = 0; i < conn->n_formats; i++)
		if (conn->formats[i] == format)
			return VMAPP_RULE_OK;
	if (conn->n_formats < sizeof(conn->formats) / sizeof(conn->formats[0]))
		conn->formats[conn->n_formats++] = format;
	return VMAPP_RULE_OK;
}

static struct vmapp_pool *find_pool(struct vmapp_conn *conn, uint32_t id)
{
	for (uint32_t i = 0; i < conn->n_pools; i++)
		if (conn->pools[i].id == id)
			return &conn->pools[i];
	return NULL;
}

enum vmapp_rule vmapp_hook_shm_create_pool(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	const struct vmapp_limits *limits = vmapp_policy_limits(conn->config->policy);
	uint32_t id = ctx->view->args[0].u;
	int fd = ctx->fds[ctx->view->args[1].fd_index];
	int32_t untrusted_size = ctx->view->args[2].i;

	if (untrusted_size <= 0)
		return VMAPP_RULE_SHM_POOL_SIZE;
	uint64_t size = (uint64_t)untrusted_size;
	if (conn->n_pools >= limits->shm_pools || size > limits->shm_bytes - conn->shm_bytes)
		return VMAPP_RULE_LIMIT_SHM;
	if (!conn->config->pass_fds || vmapp_fd_check(fd, VMAPP_FD_SHM, size) < 0)
		return VMAPP_RULE_FD_TYPE;

	if (conn->n_pools == conn->cap_pools) {
		uint32_t n = conn->cap_pools ? conn->cap_pools * 2 : 8;
		struct vmapp_pool *pools = realloc(conn->pools, n * sizeof(*pools));
		if (!pools)
			return VMAPP_RULE_NO_MEMORY;
		conn->pools = pools;
		conn->cap_pools = n;
	}
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return errno == EMFILE ? VMAPP_RULE_LIMIT_FDS : VMAPP_RULE_NO_MEMORY;
	conn->pools[conn->n_pools++] = (struct vmapp_pool){ .id = id, .fd = own, .size = size };
	conn->shm_bytes += size;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_shm_resize(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	const struct vmapp_limits *limits = vmapp_policy_limits(conn->config->policy);
	struct vmapp_pool *pool = find_pool(conn, ctx->view->object_id);
	int32_t untrusted_size = ctx->view->args[0].i;

	if (!pool)
		return VMAPP_RULE_OBJECT_UNKNOWN;
	if (untrusted_size <= 0)
		return VMAPP_RULE_SHM_POOL_SIZE;
	uint64_t size = (uint64_t)untrusted_size;
	/* wl_shm_pool.resize: "This request can only be used to make the pool bigger." */
	if (size < pool->size)
		return VMAPP_RULE_SHM_POOL_SHRINK;
	if (size - pool->size > limits->shm_bytes - conn->shm_bytes)
		return VMAPP_RULE_LIMIT_SHM;
	if (vmapp_fd_check(pool->fd, VMAPP_FD_SHM, size) < 0)
		return VMAPP_RULE_SHM_POOL_SIZE;
	conn->shm_bytes += size - pool->size;
	pool->size = size;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_shm_pool_destroy(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	struct vmapp_pool *pool = find_pool(conn, ctx->view->object_id);

	if (!pool)
		return VMAPP_RULE_OK;
	conn->shm_bytes -= pool->size;
	close(pool->fd);
	*pool = conn->pools[--conn->n_pools];
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_hook_shm_create_buffer(struct vmapp_hook_ctx *ctx)
{
	struct vmapp_conn *conn = ctx->conn;
	const union vmapp_arg_value *a = ctx->view->args;
	struct vmapp_pool *pool = find_pool(conn, ctx->view->object_id);
	/* id, offset, width, height, stride, format */
	int32_t untrusted_offset = a[1].i, untrusted_width = a[2].i;
	int32_t untrusted_height = a[3].i, untrusted_stride = a[4].i;
	uint32_t untrusted_format = a[5].u;

	if (!pool)
		return VMAPP_RULE_OBJECT_UNKNOWN;
	if (untrusted_offset < 0 || untrusted_width <= 0 || untrusted_height <= 0 ||
	    untrusted_stride <= 0)
		return VMAPP_RULE_SHM_BUFFER_GEOMETRY;
	/* All in 64 bits: width * bpp and stride * height overflow 32. */
	/* Formats of unknown size per pixel still bound stride >= width. */
	uint32_t bpp = vmapp_shm_format_bpp(untrusted_format);
	uint64_t row = (uint64_t)untrusted_width * (bpp ? bpp : 1);
	if ((uint64_t)untrusted_stride < row)
		return VMAPP_RULE_SHM_BUFFER_GEOMETRY;
	uint64_t end = (uint64_t)untrusted_offset +
		       (uint64_t)untrusted_stride * (uint64_t)untrusted_height;
	if (end > pool->size)
		return VMAPP_RULE_SHM_BUFFER_GEOMETRY;

	bool advertised = false;
	for (uint32_t i = 0; i < conn->n_formats; i++)
		advertised |= conn->formats[i] == untrusted_format;
	if (!advertised)
		return VMAPP_RULE_SHM_FORMAT;
	return VMAPP_RULE_OK;
}
