/* SPDX-License-Identifier: MIT */
/*
 * The guest half of shm mirroring, fed real requests through the decoder
 * and real memfds as pools.  A model host applies every op as the host
 * proxy would (a zeroed pool per CREATE, grown by RESIZE, written by
 * UPDATE with the bytes vmapp_shm_data gives, freed by DESTROY), so that
 * most tests check the one thing that matters: after a commit, the host
 * holds what the client drew.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "msg.h"
#include "shm.h"
#include "vmapp-tables.h"
#include "wire.h"

#define RGB565 0x36314752u
#define YUYV 0x56595559u

enum { DISPLAY = 1, COMPOSITOR, SHM, VIEWPORTER, FIRST_ID };

static struct vmapp_objmap map;
static struct vmapp_shm_tracker tr;
static struct vmapp_shm_ops ops;
static struct msg m;
static uint32_t next_id;

struct host_pool {
	uint32_t ref;
	uint8_t *bytes;
	uint64_t size;
};
static struct host_pool host[32];

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void setup(enum vmapp_shm_diff diff)
{
	vmapp_objmap_init(&map, 10000);
	vmapp_objmap_insert(&map, DISPLAY, &vmapp_iface_wl_display, 1);
	vmapp_objmap_insert(&map, COMPOSITOR, &vmapp_iface_wl_compositor, 5);
	vmapp_objmap_insert(&map, SHM, &vmapp_iface_wl_shm, 1);
	vmapp_objmap_insert(&map, VIEWPORTER, &vmapp_iface_wp_viewporter, 1);
	next_id = FIRST_ID;
	vmapp_shm_tracker_init(&tr, diff);
	ops.n = 0;
}

static void teardown(void)
{
	vmapp_shm_tracker_finish(&tr);
	vmapp_objmap_finish(&map);
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		free(host[i].bytes);
		host[i] = (struct host_pool){ 0 };
	}
	free(ops.ops);
	ops = (struct vmapp_shm_ops){ 0 };
}

static struct host_pool *host_find(uint32_t ref)
{
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
		if (host[i].ref == ref)
			return &host[i];
	return NULL;
}

/* What the host proxy does with the ops, in order, checking each as the
 * transport would (refs live, updates inside the pool); then empties them. */
static void host_apply(void)
{
	for (size_t i = 0; i < ops.n; i++) {
		const struct vmapp_shm_op *op = &ops.ops[i];
		struct host_pool *p = host_find(op->ref);
		switch (op->kind) {
		case VMAPP_SHM_OP_CREATE:
			CHECK(op->ref != 0 && !p);
			p = host_find(0);
			p->ref = op->ref;
			p->bytes = calloc(1, op->size);
			p->size = op->size;
			break;
		case VMAPP_SHM_OP_RESIZE:
			CHECK(p && op->size > p->size);
			if (!p || op->size <= p->size)
				break;
			p->bytes = realloc(p->bytes, op->size);
			memset(p->bytes + p->size, 0, op->size - p->size);
			p->size = op->size;
			break;
		case VMAPP_SHM_OP_UPDATE: {
			CHECK(p && op->size > 0 && op->offset + op->size <= p->size);
			if (!p || op->offset + op->size > p->size)
				break;
			const uint8_t *data = vmapp_shm_data(&tr, op->ref, op->offset, op->size);
			CHECK(data != NULL);
			if (data)
				memcpy(p->bytes + op->offset, data, op->size);
			break;
		}
		case VMAPP_SHM_OP_DESTROY:
			CHECK(p != NULL);
			if (!p)
				break;
			free(p->bytes);
			*p = (struct host_pool){ 0 };
			vmapp_shm_release(&tr, op->ref);
			break;
		}
	}
	ops.n = 0;
}

/* Decodes the message in `m`, hands it to the tracker, then tracks its
 * objects as the agent's object map would (new ids in, destructors out). */
static int send_fds(const int *fds, size_t n_fds, uint32_t *ret_ref)
{
	struct vmapp_message_view view;
	enum vmapp_rule rule = vmapp_wire_decode(&vmapp_protocols, &map, VMAPP_REQUEST, m.data,
						 m.len, n_fds, &view);
	CHECK_RULE(rule, VMAPP_RULE_OK);
	if (rule != VMAPP_RULE_OK)
		return -1000;
	uint32_t ref = 0xdeadbeef;
	ops.n = 0;
	int r = vmapp_shm_request(&tr, &view, fds, &ops, &ref);
	if (ret_ref)
		*ret_ref = ref;
	else
		CHECK(ref == 0);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < view.message->n_args; i++)
		if (view.message->args[i].type == VMAPP_ARG_NEW_ID)
			CHECK(vmapp_objmap_insert(&map, view.args[i].u,
						  view.message->args[i].interface,
						  view.object->version) == 0);
	if (view.message->destructor)
		vmapp_objmap_remove(&map, view.object_id);
	return r;
}

static int send0(void)
{
	return send_fds(NULL, 0, NULL);
}

static uint32_t new_id(void)
{
	return next_id++;
}

static uint32_t create_surface(void)
{
	uint32_t id = new_id();
	msg_reset(&m);
	msg_begin(&m, COMPOSITOR, VMAPP_REQ_WL_COMPOSITOR_CREATE_SURFACE);
	msg_u32(&m, id);
	msg_end(&m);
	CHECK(send0() == 0);
	CHECK(ops.n == 0);
	return id;
}

static int create_pool(uint32_t id, int fd, int32_t size, uint32_t *ret_ref)
{
	msg_reset(&m);
	msg_begin(&m, SHM, VMAPP_REQ_WL_SHM_CREATE_POOL);
	msg_u32(&m, id);
	msg_u32(&m, (uint32_t)size);
	msg_end(&m);
	return send_fds(&fd, 1, ret_ref);
}

static int create_buffer(uint32_t pool, uint32_t id, int32_t offset, int32_t width,
			 int32_t height, int32_t stride, uint32_t format)
{
	msg_reset(&m);
	msg_begin(&m, pool, VMAPP_REQ_WL_SHM_POOL_CREATE_BUFFER);
	msg_u32(&m, id);
	msg_u32(&m, (uint32_t)offset);
	msg_u32(&m, (uint32_t)width);
	msg_u32(&m, (uint32_t)height);
	msg_u32(&m, (uint32_t)stride);
	msg_u32(&m, format);
	msg_end(&m);
	return send0();
}

static int simple(uint32_t id, uint32_t opcode)
{
	msg_reset(&m);
	msg_begin(&m, id, opcode);
	msg_end(&m);
	return send0();
}

static int one_int(uint32_t id, uint32_t opcode, int32_t v)
{
	msg_reset(&m);
	msg_begin(&m, id, opcode);
	msg_u32(&m, (uint32_t)v);
	msg_end(&m);
	return send0();
}

static int four_ints(uint32_t id, uint32_t opcode, int32_t a, int32_t b, int32_t c, int32_t d)
{
	msg_reset(&m);
	msg_begin(&m, id, opcode);
	msg_u32(&m, (uint32_t)a);
	msg_u32(&m, (uint32_t)b);
	msg_u32(&m, (uint32_t)c);
	msg_u32(&m, (uint32_t)d);
	msg_end(&m);
	return send0();
}

static int attach(uint32_t surface, uint32_t buffer)
{
	msg_reset(&m);
	msg_begin(&m, surface, VMAPP_REQ_WL_SURFACE_ATTACH);
	msg_u32(&m, buffer);
	msg_u32(&m, 0);
	msg_u32(&m, 0);
	msg_end(&m);
	return send0();
}

static int damage(uint32_t surface, int32_t x, int32_t y, int32_t w, int32_t h)
{
	return four_ints(surface, VMAPP_REQ_WL_SURFACE_DAMAGE, x, y, w, h);
}

static int damage_buffer(uint32_t surface, int32_t x, int32_t y, int32_t w, int32_t h)
{
	return four_ints(surface, VMAPP_REQ_WL_SURFACE_DAMAGE_BUFFER, x, y, w, h);
}

static int commit(uint32_t surface)
{
	return simple(surface, VMAPP_REQ_WL_SURFACE_COMMIT);
}

/* A client's pool: a memfd and its writable mapping. */
struct client_pool {
	int fd;
	uint8_t *map;
	uint32_t id, ref;
	size_t size;
};

static void client_pool(struct client_pool *p, size_t size)
{
	p->fd = memfd_create("test-agent-shm", MFD_CLOEXEC);
	CHECK(p->fd >= 0 && ftruncate(p->fd, (off_t)size) == 0);
	p->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	CHECK(p->map != MAP_FAILED);
	p->size = size;
	p->id = new_id();
	p->ref = 0;
	CHECK(create_pool(p->id, p->fd, (int32_t)size, &p->ref) == 0);
	host_apply();
}

static void client_pool_close(struct client_pool *p)
{
	munmap(p->map, p->size);
	close(p->fd);
}

/* Whether the host's pool holds what the client's does in these rows of
 * `row_bytes` at `offset`, `stride` apart (the pixels, not the padding). */
static bool host_has(const struct client_pool *p, uint64_t offset, int32_t rows,
		     int32_t stride, int32_t row_bytes)
{
	const struct host_pool *h = host_find(p->ref);
	if (!h)
		return false;
	for (int32_t y = 0; y < rows; y++) {
		uint64_t at = offset + (uint64_t)y * (uint64_t)stride;
		if (at + (uint64_t)row_bytes > h->size ||
		    memcmp(h->bytes + at, p->map + at, (size_t)row_bytes) != 0)
			return false;
	}
	return true;
}

static bool op_is(size_t i, enum vmapp_shm_op_kind kind, uint32_t ref, uint64_t offset,
		  uint64_t size, int line)
{
	if (i >= ops.n) {
		fprintf(stderr, "line %d: no op %zu (%zu ops)\n", line, i, ops.n);
		return false;
	}
	const struct vmapp_shm_op *op = &ops.ops[i];
	if (op->kind != kind || op->ref != ref || op->offset != offset || op->size != size) {
		fprintf(stderr, "line %d: op %zu is %d ref %u [%llu, +%llu), want %d ref %u [%llu, +%llu)\n",
			line, i, op->kind, op->ref, (unsigned long long)op->offset,
			(unsigned long long)op->size, kind, ref, (unsigned long long)offset,
			(unsigned long long)size);
		return false;
	}
	return true;
}
#define OP_IS(i, kind, ref, offset, size) \
	CHECK(op_is(i, VMAPP_SHM_OP_##kind, ref, offset, size, __LINE__))

static uint64_t update_bytes(void)
{
	uint64_t n = 0;
	for (size_t i = 0; i < ops.n; i++)
		if (ops.ops[i].kind == VMAPP_SHM_OP_UPDATE)
			n += ops.ops[i].size;
	return n;
}

static void fill(struct client_pool *p, uint64_t offset, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p->map[offset + i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static void test_pool_lifecycle(void)
{
	int fds_before = count_fds();
	setup(VMAPP_SHM_DIFF_DAMAGE);
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, 8192) == 0);
	uint32_t pool1 = new_id(), pool2 = new_id(), ref = 0;

	CHECK(create_pool(pool1, fd, 4096, &ref) == 0);
	CHECK(ref == 1);
	CHECK(ops.n == 1);
	OP_IS(0, CREATE, 1, 0, 4096);
	host_apply();
	CHECK(create_pool(pool2, fd, 8192, &ref) == 0);
	CHECK(ref == 2);
	OP_IS(0, CREATE, 2, 0, 8192);
	host_apply();
	/* the tracker holds its own dup: the client's fd may go */
	close(fd);
	CHECK(vmapp_shm_data(&tr, 1, 0, 4096) != NULL);
	CHECK(vmapp_shm_data(&tr, 1, 1, 4096) == NULL);
	CHECK(vmapp_shm_data(&tr, 1, 4096, 0) != NULL);
	CHECK(vmapp_shm_data(&tr, 1, UINT64_MAX, 2) == NULL);
	CHECK(vmapp_shm_data(&tr, 3, 0, 1) == NULL);

	/* growth within the file: RESIZE; past it, a shrink: refused */
	CHECK(one_int(pool1, VMAPP_REQ_WL_SHM_POOL_RESIZE, 8192) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, RESIZE, 1, 0, 8192);
	host_apply();
	CHECK(vmapp_shm_data(&tr, 1, 4096, 4096) != NULL);
	CHECK(one_int(pool1, VMAPP_REQ_WL_SHM_POOL_RESIZE, 8192) == 0);
	CHECK(ops.n == 0);
	CHECK(one_int(pool1, VMAPP_REQ_WL_SHM_POOL_RESIZE, 12288) == -EINVAL);
	CHECK(ops.n == 0);
	CHECK(one_int(pool1, VMAPP_REQ_WL_SHM_POOL_RESIZE, 4096) == -EINVAL);
	CHECK(ops.n == 0);

	/* no buffers: the pool goes with its object, readable until released */
	CHECK(simple(pool1, VMAPP_REQ_WL_SHM_POOL_DESTROY) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, DESTROY, 1, 0, 0);
	CHECK(vmapp_shm_data(&tr, 1, 0, 8192) != NULL);
	vmapp_shm_release(&tr, 1);
	ops.n = 0;
	CHECK(vmapp_shm_data(&tr, 1, 0, 1) == NULL);
	CHECK(vmapp_shm_data(&tr, 2, 0, 8192) != NULL);
	/* a live pool is not released by mistake */
	vmapp_shm_release(&tr, 2);
	CHECK(vmapp_shm_data(&tr, 2, 0, 8192) != NULL);

	/* finish closes what is left */
	teardown();
	CHECK(count_fds() == fds_before);
}

static void test_pool_refused(void)
{
	int fds_before = count_fds();
	setup(VMAPP_SHM_DIFF_AUTO);
	int fd = memfd_create("pool", MFD_CLOEXEC);
	CHECK(ftruncate(fd, 4096) == 0);
	uint32_t ref = 1234, id = new_id(); /* a refusal tracks no object */

	/* a file shorter than the pool would SIGBUS whoever reads its end */
	CHECK(create_pool(id, fd, 8192, &ref) == -EINVAL);
	CHECK(ref == 0 && ops.n == 0);
	CHECK(create_pool(id, fd, 0, &ref) == -EINVAL);
	CHECK(create_pool(id, fd, -4096, &ref) == -EINVAL);
	CHECK(ops.n == 0);
	/* not a file at all */
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	CHECK(create_pool(id, p[0], 4096, &ref) == -EINVAL);
	/* write-only: not mappable for reading */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int wfd = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(wfd >= 0);
	CHECK(create_pool(id, wfd, 4096, &ref) == -EINVAL);
	CHECK(ops.n == 0);
	/* refusals used no ref */
	CHECK(create_pool(id, fd, 4096, &ref) == 0);
	CHECK(ref == 1);
	close(wfd);
	close(p[0]);
	close(p[1]);
	close(fd);
	teardown();
	CHECK(count_fds() == fds_before);
}

/* 100x20 xrgb8888, rows of 512 bytes (112 of padding) at offset 1024. */
enum { W = 100, H = 20, STRIDE = 512, OFF = 1024 };

static void test_first_whole_then_damage(void)
{
	setup(VMAPP_SHM_DIFF_DAMAGE);
	struct client_pool p;
	client_pool(&p, 16384);
	uint32_t s = create_surface(), b = new_id();
	CHECK(create_buffer(p.id, b, OFF, W, H, STRIDE, 1) == 0);
	CHECK(ops.n == 0);
	fill(&p, OFF, STRIDE * H, 1);

	/* the first commit sends it whole, no damage needed */
	CHECK(attach(s, b) == 0);
	CHECK(commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, OFF, STRIDE * (H - 1) + W * 4);
	CHECK(tr.bytes_sent == STRIDE * (H - 1) + W * 4);
	host_apply();
	CHECK(host_has(&p, OFF, H, STRIDE, W * 4));

	/* then only the damage: 2x2 pixels at (10, 5), rows far apart */
	fill(&p, OFF + 5 * STRIDE + 40, 8, 50);
	fill(&p, OFF + 6 * STRIDE + 40, 8, 60);
	fill(&p, OFF + 9 * STRIDE, 400, 70); /* drawn, not declared */
	CHECK(damage(s, 10, 5, 2, 2) == 0);
	CHECK(ops.n == 0);
	CHECK(commit(s) == 0);
	CHECK(ops.n == 2);
	OP_IS(0, UPDATE, p.ref, OFF + 5 * STRIDE + 40, 8);
	OP_IS(1, UPDATE, p.ref, OFF + 6 * STRIDE + 40, 8);
	host_apply();
	CHECK(host_has(&p, OFF + 5 * STRIDE + 40, 2, STRIDE, 8));
	CHECK(!host_has(&p, OFF + 9 * STRIDE, 1, STRIDE, 400));

	/* a commit without attach redraws the current buffer in place */
	CHECK(damage(s, 0, 9, W, 1) == 0);
	CHECK(commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, OFF + 9 * STRIDE, W * 4);
	host_apply();
	CHECK(host_has(&p, OFF, H, STRIDE, W * 4));

	/* nothing declared, nothing sent; damage is clipped to the buffer */
	CHECK(commit(s) == 0);
	CHECK(ops.n == 0);
	CHECK(damage(s, -50, -50, 51, 51) == 0);
	CHECK(damage(s, W - 1, H - 1, 0x7fffffff, 0x7fffffff) == 0);
	CHECK(commit(s) == 0);
	CHECK(ops.n == 2);
	OP_IS(0, UPDATE, p.ref, OFF, 4);
	OP_IS(1, UPDATE, p.ref, OFF + (H - 1) * STRIDE + (W - 1) * 4, 4);
	/* close spans make one update: rows 0..1 of pixels 30..99, the
	 * 232 bytes between them sent along */
	CHECK(damage(s, 30, 0, 70, 2) == 0);
	CHECK(commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, OFF + 120, STRIDE + 280);
	host_apply();
	CHECK(tr.bytes_declared <= tr.bytes_sent);

	client_pool_close(&p);
	teardown();
}

static void test_buffer_age(void)
{
	setup(VMAPP_SHM_DIFF_DAMAGE);
	struct client_pool p;
	client_pool(&p, 2 * STRIDE * H);
	uint32_t s = create_surface(), a = new_id(), b = new_id();
	CHECK(create_buffer(p.id, a, 0, W, H, STRIDE, 1) == 0);
	CHECK(create_buffer(p.id, b, STRIDE * H, W, H, STRIDE, 1) == 0);
	fill(&p, 0, 2 * STRIDE * H, 3);
	CHECK(attach(s, a) == 0 && commit(s) == 0);
	host_apply();
	CHECK(attach(s, b) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, STRIDE * H, STRIDE * (H - 1) + W * 4);
	host_apply();

	/* A draws row 2; then B draws rows 2 (its age) and 10, declares 10 */
	fill(&p, 2 * STRIDE, W * 4, 9);
	CHECK(attach(s, a) == 0 && damage(s, 0, 2, W, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 2 * STRIDE, W * 4);
	host_apply();
	memcpy(p.map + STRIDE * H + 2 * STRIDE, p.map + 2 * STRIDE, W * 4);
	fill(&p, STRIDE * H + 10 * STRIDE, W * 4, 11);
	CHECK(attach(s, b) == 0 && damage(s, 0, 10, W, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 2);
	OP_IS(0, UPDATE, p.ref, STRIDE * H + 2 * STRIDE, W * 4);
	OP_IS(1, UPDATE, p.ref, STRIDE * H + 10 * STRIDE, W * 4);
	host_apply();
	CHECK(host_has(&p, STRIDE * H, H, STRIDE, W * 4));

	/* A again: owes B's row 10 only, row 2 was sent to it already */
	memcpy(p.map + 10 * STRIDE, p.map + STRIDE * H + 10 * STRIDE, W * 4);
	CHECK(attach(s, a) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 10 * STRIDE, W * 4);
	host_apply();
	CHECK(host_has(&p, 0, H, STRIDE, W * 4));

	/* another surface's damage is none of A's business */
	struct client_pool q;
	client_pool(&q, STRIDE * H);
	uint32_t s2 = create_surface(), c = new_id();
	CHECK(create_buffer(q.id, c, 0, W, H, STRIDE, 1) == 0);
	CHECK(attach(s2, c) == 0 && commit(s2) == 0);
	host_apply();
	CHECK(damage(s2, 0, 15, W, 1) == 0 && commit(s2) == 0);
	host_apply();
	CHECK(commit(s) == 0);
	CHECK(ops.n == 0);

	/* a buffer of another size: the damage of A means nothing to it,
	 * so it owes all of itself */
	uint32_t small = new_id();
	CHECK(create_buffer(q.id, small, 0, W / 2, H / 2, STRIDE, 1) == 0);
	CHECK(attach(s, small) == 0 && commit(s) == 0);
	host_apply();
	CHECK(attach(s, a) == 0 && damage(s, 0, 0, 1, 1) == 0 && commit(s) == 0);
	host_apply();
	CHECK(attach(s, small) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, q.ref, 0, STRIDE * (H / 2 - 1) + W / 2 * 4);
	host_apply();
	CHECK(attach(s, a) == 0 && commit(s) == 0);
	host_apply();

	/* more rectangles than kept: a bounding box, never less */
	for (int i = 0; i < 20; i++)
		CHECK(damage(s, i * 4, i, 1, 1) == 0);
	CHECK(commit(s) == 0);
	CHECK(ops.n >= 1);
	CHECK(ops.ops[0].offset == 0);
	CHECK(ops.ops[ops.n - 1].offset + ops.ops[ops.n - 1].size >= 19 * STRIDE + 77 * 4);
	ops.n = 0;

	client_pool_close(&p);
	client_pool_close(&q);
	teardown();
}

static void test_scale_transform_viewport(void)
{
	setup(VMAPP_SHM_DIFF_DAMAGE);
	struct client_pool p;
	client_pool(&p, STRIDE * H);
	uint32_t s = create_surface(), b = new_id();
	CHECK(create_buffer(p.id, b, 0, W, H, STRIDE, 1) == 0);
	fill(&p, 0, STRIDE * H, 5);
	CHECK(attach(s, b) == 0 && commit(s) == 0);
	host_apply();

	/* scale 1: the surface rectangle is the buffer's */
	CHECK(damage(s, 1, 1, 2, 2) == 0 && commit(s) == 0);
	CHECK(ops.n == 2);
	OP_IS(0, UPDATE, p.ref, 1 * STRIDE + 4, 8);
	OP_IS(1, UPDATE, p.ref, 2 * STRIDE + 4, 8);
	/* scale 2: twice as large in the buffer */
	CHECK(one_int(s, VMAPP_REQ_WL_SURFACE_SET_BUFFER_SCALE, 2) == 0);
	CHECK(damage(s, 1, 1, 2, 2) == 0 && commit(s) == 0);
	CHECK(ops.n == 4);
	OP_IS(0, UPDATE, p.ref, 2 * STRIDE + 8, 16);
	OP_IS(3, UPDATE, p.ref, 5 * STRIDE + 8, 16);
	/* damage_buffer is in buffer coordinates whatever the scale */
	CHECK(damage_buffer(s, 1, 1, 2, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 1 * STRIDE + 4, 8);
	/* a huge surface rectangle times the scale stays in the buffer */
	CHECK(damage(s, 0x40000000, 0, 0x7fffffff, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 0);
	CHECK(one_int(s, VMAPP_REQ_WL_SURFACE_SET_BUFFER_SCALE, 1) == 0);

	/* a transform: surface damage means the whole buffer ... */
	CHECK(one_int(s, VMAPP_REQ_WL_SURFACE_SET_BUFFER_TRANSFORM, 1) == 0);
	CHECK(damage(s, 1, 1, 2, 2) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 0, STRIDE * (H - 1) + W * 4);
	/* ... buffer damage stays exact */
	CHECK(damage_buffer(s, 1, 1, 2, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 1 * STRIDE + 4, 8);
	CHECK(one_int(s, VMAPP_REQ_WL_SURFACE_SET_BUFFER_TRANSFORM, 0) == 0);
	CHECK(damage(s, 1, 1, 1, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 1 * STRIDE + 4, 4);

	/* a viewport: whole buffer, until it goes */
	uint32_t vp = new_id();
	msg_reset(&m);
	msg_begin(&m, VIEWPORTER, VMAPP_REQ_WP_VIEWPORTER_GET_VIEWPORT);
	msg_u32(&m, vp);
	msg_u32(&m, s);
	msg_end(&m);
	CHECK(send0() == 0);
	CHECK(damage(s, 1, 1, 1, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 0, STRIDE * (H - 1) + W * 4);
	CHECK(simple(vp, VMAPP_REQ_WP_VIEWPORT_DESTROY) == 0);
	CHECK(damage(s, 1, 1, 1, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 1 * STRIDE + 4, 4);

	/* a viewport outliving its surface is inert */
	uint32_t s2 = create_surface(), vp2 = new_id();
	msg_reset(&m);
	msg_begin(&m, VIEWPORTER, VMAPP_REQ_WP_VIEWPORTER_GET_VIEWPORT);
	msg_u32(&m, vp2);
	msg_u32(&m, s2);
	msg_end(&m);
	CHECK(send0() == 0);
	CHECK(simple(s2, VMAPP_REQ_WL_SURFACE_DESTROY) == 0);
	CHECK(simple(vp2, VMAPP_REQ_WP_VIEWPORT_DESTROY) == 0);
	CHECK(ops.n == 0);

	client_pool_close(&p);
	teardown();
}

static void test_shadow(void)
{
	setup(VMAPP_SHM_DIFF_SHADOW);
	struct client_pool p;
	client_pool(&p, STRIDE * H);
	uint32_t s = create_surface(), b = new_id();
	CHECK(create_buffer(p.id, b, 0, W, H, STRIDE, 1) == 0);

	/* the host's pool starts zero: a first commit sends what is not */
	p.map[3 * STRIDE + 10] = 1;
	CHECK(attach(s, b) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 3 * STRIDE, 64);
	CHECK(tr.bytes_sent == 64);
	CHECK(tr.bytes_declared == STRIDE * (H - 1) + W * 4);
	host_apply();
	CHECK(host_has(&p, 0, H, STRIDE, W * 4));

	/* full damage, one pixel changed: one block */
	p.map[7 * STRIDE + 100] = 2;
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 7 * STRIDE + 64, 64);
	host_apply();
	/* full damage, nothing changed: nothing */
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 0);

	/*
	 * Two damaged rows close enough to go as one update carry the
	 * undeclared bytes between them to the host: the shadow must take
	 * them too, or undoing them later would go unseen.
	 */
	fill(&p, 1 * STRIDE - 112 - 64, 64, 20); /* row 0, last 16 pixels */
	fill(&p, 1 * STRIDE + 8, 4, 30);         /* row 1, pixel 2, undeclared */
	fill(&p, 1 * STRIDE + 40, 4, 40);        /* row 1, pixel 10 */
	CHECK(damage(s, W - 16, 0, 16, 1) == 0 && damage(s, 10, 1, 1, 1) == 0);
	CHECK(commit(s) == 0);
	CHECK(ops.n == 1);
	host_apply();
	CHECK(host_has(&p, 0, H, STRIDE, W * 4));
	p.map[1 * STRIDE + 8] = 0;
	p.map[1 * STRIDE + 9] = 0;
	p.map[1 * STRIDE + 10] = 0;
	p.map[1 * STRIDE + 11] = 0;
	CHECK(damage(s, 2, 1, 1, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	host_apply();
	CHECK(host_has(&p, 0, H, STRIDE, W * 4));
	CHECK(tr.bytes_sent < tr.bytes_declared);

	/* bytes changed between the commit and the send go out as they are
	 * at the send, and the shadow keeps those (a client that draws into
	 * a buffer it has not got back, or another buffer's bytes in the
	 * padding of this one) */
	p.map[4 * STRIDE] = 0x11;
	CHECK(damage(s, 0, 4, 1, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	p.map[4 * STRIDE] = 0x22;
	host_apply();
	CHECK(host_has(&p, 4 * STRIDE, 1, STRIDE, 4));
	p.map[4 * STRIDE] = 0x11;
	CHECK(damage(s, 0, 4, 1, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	host_apply();
	CHECK(host_has(&p, 0, H, STRIDE, W * 4));

	client_pool_close(&p);
	teardown();
}

static void full_change(struct client_pool *p, uint32_t s, unsigned seed)
{
	fill(p, 0, STRIDE * H, seed);
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
}

static void test_auto(void)
{
	setup(VMAPP_SHM_DIFF_AUTO);
	struct client_pool p;
	client_pool(&p, STRIDE * H);
	uint32_t s = create_surface(), b = new_id();
	CHECK(create_buffer(p.id, b, 0, W, H, STRIDE, 1) == 0);
	fill(&p, 0, STRIDE * H, 1);
	CHECK(attach(s, b) == 0 && commit(s) == 0);
	host_apply();

	/* two whole changes, then a small one under full damage: the
	 * streak is broken and the shadow still finds the small one */
	full_change(&p, s, 2);
	host_apply();
	full_change(&p, s, 3);
	host_apply();
	p.map[5 * STRIDE] ^= 0xff;
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 1 && update_bytes() == 64);
	host_apply();
	full_change(&p, s, 4);
	host_apply();
	full_change(&p, s, 5);
	host_apply();
	p.map[5 * STRIDE] ^= 0xff;
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 1 && update_bytes() == 64);
	host_apply();

	/* small honest damage, all changed, however often: kept */
	for (int i = 0; i < 6; i++) {
		p.map[i * STRIDE] ^= 0xff;
		CHECK(damage(s, 0, i, 1, 1) == 0 && commit(s) == 0);
		CHECK(update_bytes() == 4);
		host_apply();
	}
	p.map[5 * STRIDE] ^= 0xff;
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 1 && update_bytes() == 64);
	host_apply();

	/* three whole changes in a row: the damage alone from then on */
	full_change(&p, s, 6);
	host_apply();
	full_change(&p, s, 7);
	host_apply();
	full_change(&p, s, 8);
	host_apply();
	p.map[5 * STRIDE] ^= 0xff;
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 1 && update_bytes() == STRIDE * (H - 1) + W * 4);
	host_apply();
	CHECK(host_has(&p, 0, H, STRIDE, W * 4));

	/* another pool keeps its own shadow */
	struct client_pool q;
	client_pool(&q, STRIDE * H);
	uint32_t s2 = create_surface(), c = new_id();
	CHECK(create_buffer(q.id, c, 0, W, H, STRIDE, 1) == 0);
	CHECK(attach(s2, c) == 0 && commit(s2) == 0);
	CHECK(ops.n == 0); /* all zero: nothing the host lacks */
	q.map[5 * STRIDE] = 1;
	CHECK(damage(s2, 0, 0, W, H) == 0 && commit(s2) == 0);
	CHECK(ops.n == 1 && update_bytes() == 64);
	host_apply();

	client_pool_close(&p);
	client_pool_close(&q);
	teardown();
}

static void test_truncated(void)
{
	setup(VMAPP_SHM_DIFF_AUTO);
	struct client_pool p;
	client_pool(&p, STRIDE * H);
	uint32_t s = create_surface(), b = new_id();
	CHECK(create_buffer(p.id, b, 0, W, H, STRIDE, 1) == 0);
	fill(&p, 0, STRIDE * H, 1);
	CHECK(attach(s, b) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	struct vmapp_shm_op queued = ops.ops[0];

	/* cut short after the update was queued: no bytes, no SIGBUS */
	munmap(p.map, p.size);
	CHECK(ftruncate(p.fd, STRIDE) == 0);
	CHECK(vmapp_shm_data(&tr, p.ref, queued.offset, queued.size) == NULL);
	CHECK(vmapp_shm_data(&tr, p.ref, 0, STRIDE) != NULL);
	CHECK(vmapp_shm_data(&tr, p.ref, STRIDE - 1, 2) == NULL);
	/* a commit that would read it is refused, in every mode */
	CHECK(damage(s, 0, 0, W, H) == 0);
	CHECK(commit(s) == -EINVAL);
	ops.n = 0;
	/* and so is a resize of it */
	CHECK(one_int(p.id, VMAPP_REQ_WL_SHM_POOL_RESIZE, STRIDE * H * 2) == -EINVAL);
	close(p.fd);
	teardown();
}

static void test_destroy_order(void)
{
	int fds_before = count_fds();
	setup(VMAPP_SHM_DIFF_AUTO);
	struct client_pool p;
	client_pool(&p, 2 * STRIDE * H);
	uint32_t s = create_surface(), a = new_id(), b = new_id();
	CHECK(create_buffer(p.id, a, 0, W, H, STRIDE, 1) == 0);
	CHECK(create_buffer(p.id, b, STRIDE * H, W, H, STRIDE, 1) == 0);
	fill(&p, 0, 2 * STRIDE * H, 1);
	CHECK(attach(s, a) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	struct vmapp_shm_op queued = ops.ops[0];
	ops.n = 0;

	/* attached, then destroyed before the commit (its id taken again
	 * meanwhile): nothing is shown */
	uint32_t s3 = create_surface(), d = new_id();
	CHECK(create_buffer(p.id, d, STRIDE * H, W, H, STRIDE, 1) == 0);
	CHECK(attach(s3, d) == 0);
	CHECK(simple(d, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
	CHECK(ops.n == 0);
	CHECK(create_buffer(p.id, d, STRIDE * H, W, H, STRIDE, 1) == 0);
	CHECK(damage(s3, 0, 0, W, H) == 0 && commit(s3) == 0);
	CHECK(ops.n == 0);
	CHECK(simple(s3, VMAPP_REQ_WL_SURFACE_DESTROY) == 0);
	CHECK(simple(d, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
	CHECK(ops.n == 0);

	/* the pool object goes first: the pool lives on with its buffers */
	CHECK(simple(p.id, VMAPP_REQ_WL_SHM_POOL_DESTROY) == 0);
	CHECK(ops.n == 0);
	CHECK(simple(a, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
	CHECK(ops.n == 0);
	/* the surface shows nothing of ours now; a commit is harmless */
	CHECK(damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 0);
	CHECK(simple(b, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, DESTROY, p.ref, 0, 0);
	/* the update queued before the DESTROY can still be sent */
	CHECK(vmapp_shm_data(&tr, p.ref, queued.offset, queued.size) != NULL);
	vmapp_shm_release(&tr, p.ref);
	CHECK(vmapp_shm_data(&tr, p.ref, 0, 1) == NULL);
	ops.n = 0;
	client_pool_close(&p);

	/* buffers first: the pool goes with its object */
	client_pool(&p, STRIDE * H);
	CHECK(p.ref == 2);
	uint32_t c = new_id();
	CHECK(create_buffer(p.id, c, 0, W, H, STRIDE, 1) == 0);
	CHECK(attach(s, c) == 0 && commit(s) == 0);
	host_apply();
	CHECK(simple(c, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
	CHECK(ops.n == 0);
	CHECK(simple(p.id, VMAPP_REQ_WL_SHM_POOL_DESTROY) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, DESTROY, 2, 0, 0);
	host_apply();
	CHECK(host_find(2) == NULL);

	/* an id that was a shm buffer and comes back as another kind */
	CHECK(vmapp_objmap_insert(&map, c, &vmapp_iface_wl_buffer, 1) == 0);
	CHECK(attach(s, c) == 0 && damage(s, 0, 0, W, H) == 0 && commit(s) == 0);
	CHECK(ops.n == 0);
	CHECK(simple(c, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
	CHECK(ops.n == 0);
	CHECK(simple(s, VMAPP_REQ_WL_SURFACE_DESTROY) == 0);
	client_pool_close(&p);
	teardown();
	CHECK(count_fds() == fds_before);
}

static void test_formats_and_others(void)
{
	setup(VMAPP_SHM_DIFF_DAMAGE);
	struct client_pool p;
	client_pool(&p, 65536);
	uint32_t s = create_surface(), b565 = new_id(), yuyv = new_id(), wide = new_id();
	/* 100x10 rgb565, rows of 256 bytes */
	CHECK(create_buffer(p.id, b565, 0, 100, 10, 256, RGB565) == 0);
	CHECK(attach(s, b565) == 0 && commit(s) == 0);
	OP_IS(0, UPDATE, p.ref, 0, 9 * 256 + 200);
	CHECK(damage_buffer(s, 10, 2, 3, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 2 * 256 + 20, 6);

	/* a format we do not know: whole rows of stride bytes */
	CHECK(create_buffer(p.id, yuyv, 4096, 16, 10, 64, YUYV) == 0);
	CHECK(attach(s, yuyv) == 0 && commit(s) == 0);
	OP_IS(0, UPDATE, p.ref, 4096, 640);
	CHECK(damage_buffer(s, 4, 3, 2, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 4096 + 3 * 64, 64);

	/* a stride too short for its pixels: whole rows too */
	CHECK(create_buffer(p.id, wide, 8192, 100, 10, 128, 0) == 0);
	CHECK(attach(s, wide) == 0 && commit(s) == 0);
	OP_IS(0, UPDATE, p.ref, 8192, 1280);
	CHECK(damage_buffer(s, 90, 3, 2, 1) == 0 && commit(s) == 0);
	OP_IS(0, UPDATE, p.ref, 8192 + 3 * 128, 128);

	/* a buffer reaching past the pool is clipped to it */
	uint32_t past = new_id();
	CHECK(create_buffer(p.id, past, 65536 - 600, 100, 10, 512, 1) == 0);
	CHECK(attach(s, past) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 65536 - 600, 600);

	/* damage taller than any screen: whole rows, without a walk of
	 * every row (a column of 70000 rows, 2 pixels a row) */
	struct client_pool t;
	client_pool(&t, 70000 * 8);
	uint32_t tall = new_id();
	CHECK(create_buffer(t.id, tall, 0, 2, 70000, 8, 1) == 0);
	CHECK(attach(s, tall) == 0 && commit(s) == 0);
	CHECK(damage_buffer(s, 0, 0, 1, 70000) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, t.ref, 0, 70000 * 8);
	CHECK(damage_buffer(s, 0, 0, 1, 60000) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, t.ref, 0, 59999 * 8 + 4);
	client_pool_close(&t);

	/* only rows within the pool count: 8192 of these 100000 */
	uint32_t beyond = new_id();
	CHECK(create_buffer(p.id, beyond, 0, 2, 100000, 8, 1) == 0);
	CHECK(attach(s, beyond) == 0 && commit(s) == 0);
	OP_IS(0, UPDATE, p.ref, 0, 65536);
	CHECK(damage_buffer(s, 0, 0, 1, 100000) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 0, 65536 - 4);

	/* geometry the host refuses: not a shm buffer of ours */
	uint32_t bad = new_id();
	CHECK(create_buffer(p.id, bad, 0, -1, 10, 512, 1) == 0);
	CHECK(attach(s, bad) == 0 && commit(s) == 0);
	CHECK(ops.n == 0);

	/* a wl_buffer from elsewhere (dmabuf): ignored, and then showing
	 * ours again sends it whole, whatever damage comes with it */
	uint32_t dmabuf = new_id();
	CHECK(vmapp_objmap_insert(&map, dmabuf, &vmapp_iface_wl_buffer, 1) == 0);
	CHECK(attach(s, dmabuf) == 0 && damage(s, 0, 0, 10, 10) == 0 && commit(s) == 0);
	CHECK(ops.n == 0);
	CHECK(attach(s, b565) == 0 && damage_buffer(s, 0, 0, 1, 1) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 0, 9 * 256 + 200);
	CHECK(simple(dmabuf, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
	CHECK(ops.n == 0);
	/* attaching nothing is the same */
	CHECK(attach(s, 0) == 0 && commit(s) == 0);
	CHECK(ops.n == 0);
	CHECK(attach(s, b565) == 0 && commit(s) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, 0, 9 * 256 + 200);

	/* requests the tracker has no business with leave no ops */
	ops.n = 0;
	CHECK(one_int(s, VMAPP_REQ_WL_SURFACE_FRAME, (int32_t)new_id()) == 0);
	CHECK(ops.n == 0);
	client_pool_close(&p);
	teardown();
}

static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/* Thousands of buffers come and go in any order: each is found again,
 * and the pool goes exactly with the last of them. */
static void test_many_buffers(void)
{
	enum { N = 3000 };
	setup(VMAPP_SHM_DIFF_DAMAGE);
	struct client_pool p;
	client_pool(&p, N * 4);
	uint32_t s = create_surface(), first = next_id;
	static bool live[N];
	for (int i = 0; i < N; i++) {
		CHECK(create_buffer(p.id, new_id(), i * 4, 1, 1, 4, 1) == 0);
		live[i] = true;
	}
	CHECK(simple(p.id, VMAPP_REQ_WL_SHM_POOL_DESTROY) == 0);
	for (int i = 0; i < N / 2; i++) {
		int k = (int)rnd(N);
		if (!live[k])
			continue;
		CHECK(simple(first + (uint32_t)k, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
		CHECK(ops.n == 0);
		live[k] = false;
	}
	/* a surface keeps the damage of its last 32 buffers only; one
	 * pushed out owes all of itself when it comes back */
	int shown[33], n_shown = 0;
	for (int i = 0; i < N && n_shown < 33; i++)
		if (live[i])
			shown[n_shown++] = i;
	uint32_t s2 = create_surface();
	for (int i = 0; i < 33; i++) {
		CHECK(attach(s2, first + (uint32_t)shown[i]) == 0 && commit(s2) == 0);
		CHECK(ops.n == 1);
	}
	CHECK(attach(s2, first + (uint32_t)shown[1]) == 0 && commit(s2) == 0);
	CHECK(ops.n == 0);
	CHECK(attach(s2, first + (uint32_t)shown[0]) == 0 && commit(s2) == 0);
	CHECK(ops.n == 1);
	OP_IS(0, UPDATE, p.ref, (uint64_t)shown[0] * 4, 4);
	CHECK(simple(s2, VMAPP_REQ_WL_SURFACE_DESTROY) == 0);
	/* (the buffers are new to surface s below, and sent whole there) */
	for (int i = 0; i < 33; i++)
		live[shown[i]] = false;
	for (int i = 0; i < 33; i++)
		CHECK(simple(first + (uint32_t)shown[i], VMAPP_REQ_WL_BUFFER_DESTROY) == 0);

	int n_live = 0;
	for (int j = 0; j < N; j++) {
		int i = (j * 7 + 11) % N;
		if (!live[i])
			continue;
		n_live++;
		CHECK(attach(s, first + (uint32_t)i) == 0 && commit(s) == 0);
		CHECK(ops.n == 1);
		OP_IS(0, UPDATE, p.ref, (uint64_t)i * 4, 4);
	}
	for (int i = 0; i < N; i++) {
		if (!live[i])
			continue;
		CHECK(simple(first + (uint32_t)i, VMAPP_REQ_WL_BUFFER_DESTROY) == 0);
		CHECK(ops.n == (--n_live == 0 ? 1u : 0u));
	}
	OP_IS(0, DESTROY, p.ref, 0, 0);
	host_apply();
	client_pool_close(&p);
	teardown();
}

/*
 * A client drawing frames the way real ones do: it keeps the frame it
 * shows, changes a random rectangle of it each frame, redraws into the
 * buffer it reuses everything that changed since that buffer was last
 * shown (buffer age), and declares only this frame's change, sometimes
 * more (full damage, as toolkits do), sometimes in buffer coordinates.
 * After every commit the host must hold the frame, in every mode.
 */
enum { RW = 37, RH = 29, RSTRIDE = 160, NBUF = 3 };

static void test_random_frames(enum vmapp_shm_diff diff)
{
	rng = 12345;
	setup(diff);
	struct client_pool p;
	client_pool(&p, NBUF * RSTRIDE * RH + 100);
	uint32_t s = create_surface(), buf[NBUF];
	uint8_t frame[RH][RW * 4];
	struct { int x0, y0, x1, y1; bool shown; } age[NBUF];
	memset(frame, 0, sizeof(frame));
	for (int i = 0; i < NBUF; i++) {
		buf[i] = new_id();
		CHECK(create_buffer(p.id, buf[i], 100 + i * RSTRIDE * RH, RW, RH, RSTRIDE, 1) == 0);
		age[i].shown = false;
	}
	int last = -1;
	for (int n = 0; n < 300; n++) {
		int x = (int)rnd(RW), y = (int)rnd(RH);
		int w = 1 + (int)rnd(RW - x), h = 1 + (int)rnd(RH - y);
		if (rnd(4) == 0)
			w = h = 0; /* a frame that changes nothing */
		for (int yy = y; yy < y + h; yy++)
			for (int xx = x * 4; xx < (x + w) * 4; xx++)
				frame[yy][xx] = (uint8_t)rnd(rnd(3) ? 256 : 2);
		int i = rnd(5) == 0 && last >= 0 ? last : (int)rnd(NBUF);
		uint8_t *pixels = p.map + 100 + i * RSTRIDE * RH;
		/* redraw what it lacks: all if never shown, else its age */
		int x0 = 0, y0 = 0, x1 = RW, y1 = RH;
		if (age[i].shown) {
			x0 = age[i].x0 < x ? age[i].x0 : x;
			y0 = age[i].y0 < y ? age[i].y0 : y;
			x1 = age[i].x1 > x + w ? age[i].x1 : x + w;
			y1 = age[i].y1 > y + h ? age[i].y1 : y + h;
		}
		for (int yy = y0; yy < y1; yy++)
			memcpy(pixels + yy * RSTRIDE + x0 * 4, frame[yy] + x0 * 4,
			       (size_t)(x1 - x0) * 4);
		for (int j = 0; j < NBUF; j++) {
			if (j == i || w == 0)
				continue;
			if (age[j].x1 <= age[j].x0) {
				age[j].x0 = x, age[j].y0 = y, age[j].x1 = x + w, age[j].y1 = y + h;
				continue;
			}
			age[j].x0 = age[j].x0 < x ? age[j].x0 : x;
			age[j].y0 = age[j].y0 < y ? age[j].y0 : y;
			age[j].x1 = age[j].x1 > x + w ? age[j].x1 : x + w;
			age[j].y1 = age[j].y1 > y + h ? age[j].y1 : y + h;
		}
		age[i].x0 = age[i].y0 = age[i].x1 = age[i].y1 = 0;
		age[i].shown = true;

		if (i != last)
			CHECK(attach(s, buf[i]) == 0);
		switch (rnd(3)) {
		case 0:
			if (w)
				CHECK(damage(s, x, y, w, h) == 0);
			break;
		case 1:
			if (w)
				CHECK(damage_buffer(s, x, y, w, h) == 0);
			break;
		default:
			CHECK(damage(s, 0, 0, 0x7fffffff, 0x7fffffff) == 0);
		}
		CHECK(commit(s) == 0);
		host_apply();
		last = i;
		const struct host_pool *hp = host_find(p.ref);
		bool same = hp != NULL;
		for (int yy = 0; same && yy < RH; yy++)
			same = memcmp(hp->bytes + 100 + i * RSTRIDE * RH + yy * RSTRIDE, frame[yy],
				      RW * 4) == 0;
		if (!same) {
			fprintf(stderr, "mode %d frame %d: the host lacks what buffer %d shows\n",
				diff, n, i);
			test_failures++;
			break;
		}
	}
	/* over-declared frames: the shadow finds less than declared */
	if (diff == VMAPP_SHM_DIFF_SHADOW)
		CHECK(tr.bytes_sent < tr.bytes_declared);
	client_pool_close(&p);
	teardown();
}

int main(void)
{
	test_pool_lifecycle();
	test_pool_refused();
	test_first_whole_then_damage();
	test_buffer_age();
	test_scale_transform_viewport();
	test_shadow();
	test_auto();
	test_truncated();
	test_destroy_order();
	test_formats_and_others();
	test_many_buffers();
	test_random_frames(VMAPP_SHM_DIFF_DAMAGE);
	test_random_frames(VMAPP_SHM_DIFF_SHADOW);
	test_random_frames(VMAPP_SHM_DIFF_AUTO);
	TEST_DONE();
}
