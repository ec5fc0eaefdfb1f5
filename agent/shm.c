/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"
#include "shmdiff.h"
#include "transport.h"
#include "vmapp-tables.h"

/* Damage rectangles kept per buffer and per surface; beyond that they
 * collapse into their bounding box (never less than the damage). */
#define MAX_RECTS 16
/* Changed spans closer than this are sent as one update: the bytes in
 * between cost less than another frame header and its handling. */
#define MERGE_GAP 256
/* Spans of one commit's damage (one per row at most: an 8K-tall buffer's
 * worth); past that the last span reaches to the end of the damage. */
#define MAX_DAMAGE_SPANS 8192
/* vmapp_shmdiff_damage walks every row of the damage; damage taller than
 * this (a hostile 1x2^29 buffer) is sent as whole rows without a walk. */
#define MAX_WALK_ROWS 65536
/* Buffers committed on a surface that receive its damage (buffer age);
 * one pushed out is sent whole when it comes back.  Clients use 2 to 4. */
#define MAX_SHOWN 32
/* The shadow is compared this many bytes at a time, so that its spans
 * (at most one per two blocks) always fit MAX_SHADOW_SPANS. */
#define SHADOW_CHUNK (256 * 1024)
#define MAX_SHADOW_SPANS (SHADOW_CHUNK / VMAPP_SHMDIFF_BLOCK / 2 + 1)
/* AUTO: a pool drops its shadow after this many commits in a row that
 * declared at least half of their buffer and changed more than 90% of
 * what they declared (a full-frame animation: the comparison only costs). */
#define AUTO_STREAK 3


/* Half-open, in 64 bits so that x + width of any int32s neither wraps nor
 * needs clamping before it is clipped to a buffer. */
struct box {
	int64_t x0, y0, x1, y1;
};

struct damage {
	struct box boxes[MAX_RECTS];
	uint32_t n;
	bool whole; /* all of the buffer, whatever boxes says */
};

struct vmapp_shm_pool {
	struct vmapp_shm_pool *prev, *next;
	uint32_t id; /* the wl_shm_pool; 0 once the client destroyed it */
	uint32_t ref;
	int fd;       /* our own dup */
	uint8_t *map; /* read-only, shared, `size` bytes */
	uint64_t size;
	/* What the host has: an anonymous mapping, so that it starts as zero
	 * as the host's fresh memfd and grows with zeros as the host's does.
	 * Every byte of it equals the host's, or is covered by an UPDATE not
	 * sent yet: vmapp_shm_data() copies what it sends into it and sends
	 * that copy, so the bytes between two merged changes (never
	 * compared) and bytes a client changes between a commit and the
	 * send keep it exact.  NULL before the first commit, and for good
	 * once no_shadow is set. */
	uint8_t *shadow;
	uint64_t shadow_size;
	bool no_shadow;
	unsigned streak;
	uint32_t n_buffers;
	bool dead; /* DESTROY handed out; waits for vmapp_shm_release */
};

struct vmapp_shm_buffer {
	struct vmapp_shm_buffer *prev, *next;
	uint32_t id;
	struct vmapp_shm_pool *pool;
	uint64_t offset;
	int32_t width, height, stride;
	uint32_t bpp; /* 0: a format we do not know, damage taken as whole rows */
	bool sent;    /* once: sent whole at its first commit */
	/* Buffer coordinates, clipped: what changed on screen since this
	 * buffer was last sent, which the client redraws into it. */
	struct damage pending;
};

struct vmapp_shm_surface {
	struct vmapp_shm_surface *prev, *next;
	uint32_t id;
	uint32_t viewport_id; /* 0: none */
	int32_t scale;
	int32_t transform;
	bool attached;                      /* since the last commit */
	struct vmapp_shm_buffer *attached_buffer; /* may be NULL: none, or not shm */
	struct vmapp_shm_buffer *current;   /* may be NULL */
	struct damage damage;               /* surface coordinates, unclipped */
	struct damage buffer_damage;        /* buffer coordinates, unclipped */
	/* Every live shm buffer ever committed here, for buffer age. */
	struct vmapp_shm_buffer **shown;
	size_t n_shown, cap_shown;
};

#define LIST_INSERT(head, e) do { \
	(e)->prev = NULL; \
	(e)->next = (head); \
	if (head) \
		(head)->prev = (e); \
	(head) = (e); \
} while (0)

#define LIST_REMOVE(head, e) do { \
	if ((e)->prev) \
		(e)->prev->next = (e)->next; \
	else \
		(head) = (e)->next; \
	if ((e)->next) \
		(e)->next->prev = (e)->prev; \
} while (0)

/* The index: (kind, id) -> object.  Object ids of one client are unique
 * among live objects whatever their interface, but a kind in the key
 * keeps an id reused under another interface from finding a stale entry,
 * and puts refs in the same table. */
enum key_kind {
	KEY_POOL = 1, /* wl_shm_pool id */
	KEY_REF,      /* pool ref */
	KEY_BUFFER,   /* wl_buffer id */
	KEY_SURFACE,  /* wl_surface id */
	KEY_VIEWPORT, /* wp_viewport id -> its surface */
};

struct vmapp_shm_slot {
	uint64_t key; /* 0: empty */
	void *value;
};

static uint64_t key_of(enum key_kind kind, uint32_t id)
{
	return (uint64_t)kind << 32 | id;
}

static size_t slot_home(uint64_t key, size_t cap)
{
	uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(h ^ h >> 29) & (cap - 1);
}

static void *index_get(const struct vmapp_shm_tracker *t, enum key_kind kind, uint32_t id)
{
	uint64_t key = key_of(kind, id);

	if (t->cap_slots == 0)
		return NULL;
	for (size_t i = slot_home(key, t->cap_slots);; i = (i + 1) & (t->cap_slots - 1)) {
		if (t->slots[i].key == key)
			return t->slots[i].value;
		if (t->slots[i].key == 0)
			return NULL;
	}
}

static void slot_place(struct vmapp_shm_slot *slots, size_t cap, uint64_t key, void *value)
{
	size_t i = slot_home(key, cap);
	while (slots[i].key != 0 && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	slots[i] = (struct vmapp_shm_slot){ .key = key, .value = value };
}

/* Inserts or replaces. */
static int index_put(struct vmapp_shm_tracker *t, enum key_kind kind, uint32_t id, void *value)
{
	if ((t->n_slots + 1) * 2 > t->cap_slots) {
		size_t cap = t->cap_slots ? t->cap_slots * 2 : 64;
		struct vmapp_shm_slot *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (size_t i = 0; i < t->cap_slots; i++)
			if (t->slots[i].key)
				slot_place(slots, cap, t->slots[i].key, t->slots[i].value);
		free(t->slots);
		t->slots = slots;
		t->cap_slots = cap;
	}
	if (!index_get(t, kind, id))
		t->n_slots++;
	slot_place(t->slots, t->cap_slots, key_of(kind, id), value);
	return 0;
}

/* Linear probing with backward-shift deletion: no tombstones to pile up
 * under a client that creates and destroys objects forever. */
static void index_del(struct vmapp_shm_tracker *t, enum key_kind kind, uint32_t id)
{
	uint64_t key = key_of(kind, id);
	size_t mask = t->cap_slots - 1, i;

	if (t->cap_slots == 0)
		return;
	for (i = slot_home(key, t->cap_slots); t->slots[i].key != key; i = (i + 1) & mask)
		if (t->slots[i].key == 0)
			return;
	for (size_t j = (i + 1) & mask; t->slots[j].key != 0; j = (j + 1) & mask) {
		size_t home = slot_home(t->slots[j].key, t->cap_slots);
		/* j's entry may move to the hole at i unless its home lies
		 * cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		t->slots[i] = t->slots[j];
		i = j;
	}
	t->slots[i] = (struct vmapp_shm_slot){ 0 };
	t->n_slots--;
}

static int push_op(struct vmapp_shm_ops *ops, enum vmapp_shm_op_kind kind, uint32_t ref,
		   uint64_t offset, uint64_t size)
{
	if (ops->n == ops->cap) {
		size_t cap = ops->cap ? ops->cap * 2 : 16;
		struct vmapp_shm_op *grown = realloc(ops->ops, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		ops->ops = grown;
		ops->cap = cap;
	}
	ops->ops[ops->n++] = (struct vmapp_shm_op){
		.kind = kind, .ref = ref, .offset = offset, .size = size,
	};
	return 0;
}

static bool box_contains(const struct box *outer, const struct box *inner)
{
	return outer->x0 <= inner->x0 && outer->y0 <= inner->y0 &&
	       outer->x1 >= inner->x1 && outer->y1 >= inner->y1;
}

static void damage_add(struct damage *d, struct box b)
{
	if (d->whole || b.x0 >= b.x1 || b.y0 >= b.y1)
		return;
	for (uint32_t i = 0; i < d->n; i++)
		if (box_contains(&d->boxes[i], &b))
			return;
	for (uint32_t i = 0; i < d->n;) {
		if (box_contains(&b, &d->boxes[i]))
			d->boxes[i] = d->boxes[--d->n];
		else
			i++;
	}
	if (d->n == MAX_RECTS) {
		/* Out of room: one bounding box, never less than the damage. */
		for (uint32_t i = 0; i < d->n; i++) {
			const struct box *o = &d->boxes[i];
			b.x0 = o->x0 < b.x0 ? o->x0 : b.x0;
			b.y0 = o->y0 < b.y0 ? o->y0 : b.y0;
			b.x1 = o->x1 > b.x1 ? o->x1 : b.x1;
			b.y1 = o->y1 > b.y1 ? o->y1 : b.y1;
		}
		d->n = 0;
	}
	d->boxes[d->n++] = b;
}

static void damage_merge(struct damage *dst, const struct damage *src)
{
	if (src->whole) {
		dst->whole = true;
		return;
	}
	for (uint32_t i = 0; i < src->n; i++)
		damage_add(dst, src->boxes[i]);
}

static bool damage_empty(const struct damage *d)
{
	return !d->whole && d->n == 0;
}

static void damage_clear(struct damage *d)
{
	d->n = 0;
	d->whole = false;
}

static struct box box_clip(struct box b, int64_t width, int64_t height)
{
	b.x0 = b.x0 < 0 ? 0 : b.x0;
	b.y0 = b.y0 < 0 ? 0 : b.y0;
	b.x1 = b.x1 > width ? width : b.x1;
	b.y1 = b.y1 > height ? height : b.y1;
	return b;
}

static struct box box_of(int32_t x, int32_t y, int32_t width, int32_t height)
{
	return (struct box){ x, y, (int64_t)x + width, (int64_t)y + height };
}

/* Pools */

static void pool_free(struct vmapp_shm_tracker *t, struct vmapp_shm_pool *pool)
{
	if (pool->id)
		index_del(t, KEY_POOL, pool->id);
	index_del(t, KEY_REF, pool->ref);
	LIST_REMOVE(t->pools, pool);
	munmap(pool->map, pool->size);
	if (pool->shadow)
		munmap(pool->shadow, pool->shadow_size);
	close(pool->fd);
	free(pool);
}

static void pool_drop_shadow(struct vmapp_shm_pool *pool)
{
	if (pool->shadow)
		munmap(pool->shadow, pool->shadow_size);
	pool->shadow = NULL;
	pool->shadow_size = 0;
	pool->no_shadow = true;
}

/* A file at least `size` bytes long: a shorter one would SIGBUS us on
 * the first read past its end. */
static bool fd_holds(int fd, uint64_t size)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_size >= 0 && (uint64_t)st.st_size >= size;
}

static int create_pool(struct vmapp_shm_tracker *t, const struct vmapp_message_view *view,
		       const int *fds, struct vmapp_shm_ops *ops, uint32_t *ret_fd_ref)
{
	uint32_t id = view->args[0].u;
	uint32_t fd_index = view->args[1].fd_index;
	int32_t untrusted_size = view->args[2].i;
	int r;

	if (untrusted_size <= 0 || fd_index >= view->n_fds || !fds)
		return -EINVAL;
	if (t->next_ref == 0 || t->next_ref > VMAPP_TRANSPORT_GUEST_REF_LAST)
		return -ENOSPC;
	uint64_t size = (uint64_t)untrusted_size;
	if (index_get(t, KEY_POOL, id))
		return -EINVAL; /* the decoder refuses a live id; be sure */

	struct vmapp_shm_pool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->fd = fcntl(fds[fd_index], F_DUPFD_CLOEXEC, 3);
	if (pool->fd < 0) {
		r = -errno;
		goto err_free;
	}
	if (!fd_holds(pool->fd, size)) {
		r = -EINVAL;
		goto err_close;
	}
	pool->map = mmap(NULL, size, PROT_READ, MAP_SHARED, pool->fd, 0);
	if (pool->map == MAP_FAILED) {
		r = errno == ENOMEM ? -ENOMEM : -EINVAL;
		goto err_close;
	}
	pool->id = id;
	pool->ref = t->next_ref;
	pool->size = size;
	pool->no_shadow = t->diff == VMAPP_SHM_DIFF_DAMAGE;
	/* Room for the op first, so that nothing below can fail half-way. */
	r = push_op(ops, VMAPP_SHM_OP_CREATE, pool->ref, 0, size);
	if (r < 0)
		goto err_unmap;
	r = index_put(t, KEY_POOL, id, pool);
	if (r < 0)
		goto err_op;
	r = index_put(t, KEY_REF, pool->ref, pool);
	if (r < 0)
		goto err_index;
	LIST_INSERT(t->pools, pool);
	t->next_ref++;
	if (ret_fd_ref)
		*ret_fd_ref = pool->ref;
	return 0;

err_index:
	index_del(t, KEY_POOL, id);
err_op:
	ops->n--;
err_unmap:
	munmap(pool->map, size);
err_close:
	close(pool->fd);
err_free:
	free(pool);
	return r;
}

static int resize_pool(struct vmapp_shm_tracker *t, struct vmapp_shm_pool *pool,
		       int32_t untrusted_size, struct vmapp_shm_ops *ops)
{
	/* wl_shm_pool.resize: "This request can only be used to make the
	 * pool bigger"; the host's pool, sealed against shrinking, agrees. */
	if (untrusted_size <= 0 || (uint64_t)untrusted_size < pool->size)
		return -EINVAL;
	uint64_t size = (uint64_t)untrusted_size;
	if (size == pool->size)
		return 0;
	if (!fd_holds(pool->fd, size))
		return -EINVAL;
	int r = push_op(ops, VMAPP_SHM_OP_RESIZE, pool->ref, 0, size);
	if (r < 0)
		return r;
	void *map = mremap(pool->map, pool->size, size, MREMAP_MAYMOVE);
	if (map == MAP_FAILED) {
		ops->n--;
		return -ENOMEM;
	}
	pool->map = map;
	pool->size = size;
	if (pool->shadow) {
		/* An anonymous mapping grows with zero pages, as the host's
		 * memfd grows with zeros, and costs nothing until written. */
		void *shadow = mremap(pool->shadow, pool->shadow_size, size, MREMAP_MAYMOVE);
		if (shadow == MAP_FAILED) {
			pool_drop_shadow(pool);
		} else {
			pool->shadow = shadow;
			pool->shadow_size = size;
		}
	}
	return 0;
}

static int pool_maybe_destroy(struct vmapp_shm_pool *pool, struct vmapp_shm_ops *ops)
{
	if (pool->id != 0 || pool->n_buffers > 0 || pool->dead)
		return 0;
	int r = push_op(ops, VMAPP_SHM_OP_DESTROY, pool->ref, 0, 0);
	if (r < 0)
		return r;
	pool->dead = true;
	return 0;
}

static int destroy_pool(struct vmapp_shm_tracker *t, struct vmapp_shm_pool *pool,
			struct vmapp_shm_ops *ops)
{
	index_del(t, KEY_POOL, pool->id);
	pool->id = 0;
	return pool_maybe_destroy(pool, ops);
}

/* Buffers */

static void surface_forget_buffer(struct vmapp_shm_surface *s, struct vmapp_shm_buffer *b)
{
	for (size_t i = 0; i < s->n_shown; i++) {
		if (s->shown[i] == b) {
			memmove(s->shown + i, s->shown + i + 1, (s->n_shown - i - 1) * sizeof(*s->shown));
			s->n_shown--;
			break;
		}
	}
	if (s->current == b)
		s->current = NULL;
	/* "If the pending wl_buffer is destroyed, the result is not
	 * specified": we show nothing of it. */
	if (s->attached_buffer == b)
		s->attached_buffer = NULL;
}

static void buffer_free(struct vmapp_shm_tracker *t, struct vmapp_shm_buffer *b)
{
	for (struct vmapp_shm_surface *s = t->surfaces; s; s = s->next)
		surface_forget_buffer(s, b);
	index_del(t, KEY_BUFFER, b->id);
	LIST_REMOVE(t->buffers, b);
	b->pool->n_buffers--;
	free(b);
}

static int destroy_buffer(struct vmapp_shm_tracker *t, struct vmapp_shm_buffer *b,
			  struct vmapp_shm_ops *ops)
{
	struct vmapp_shm_pool *pool = b->pool;
	buffer_free(t, b);
	return pool_maybe_destroy(pool, ops);
}

static int create_buffer(struct vmapp_shm_tracker *t, struct vmapp_shm_pool *pool,
			 const struct vmapp_message_view *view, struct vmapp_shm_ops *ops)
{
	const union vmapp_arg_value *a = view->args;
	uint32_t id = a[0].u;
	int32_t untrusted_offset = a[1].i, untrusted_width = a[2].i;
	int32_t untrusted_height = a[3].i, untrusted_stride = a[4].i;
	uint32_t untrusted_format = a[5].u;

	struct vmapp_shm_buffer *old = index_get(t, KEY_BUFFER, id);
	if (old) {
		/* The decoder refuses a live id; be sure. */
		int r = destroy_buffer(t, old, ops);
		if (r < 0)
			return r;
	}
	/* The host proxy refuses such a buffer and the client with it; it
	 * is no shm buffer of ours meanwhile. */
	if (untrusted_offset < 0 || untrusted_width <= 0 || untrusted_height <= 0 ||
	    untrusted_stride <= 0)
		return 0;

	struct vmapp_shm_buffer *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	*b = (struct vmapp_shm_buffer){
		.id = id,
		.pool = pool,
		.offset = (uint64_t)untrusted_offset,
		.width = untrusted_width,
		.height = untrusted_height,
		.stride = untrusted_stride,
		.bpp = vmapp_shm_format_bpp(untrusted_format),
	};
	int r = index_put(t, KEY_BUFFER, id, b);
	if (r < 0) {
		free(b);
		return r;
	}
	LIST_INSERT(t->buffers, b);
	pool->n_buffers++;
	return 0;
}

/* Surfaces */

static struct vmapp_shm_surface *surface_get(struct vmapp_shm_tracker *t, uint32_t id)
{
	struct vmapp_shm_surface *s = index_get(t, KEY_SURFACE, id);
	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	s->scale = 1;
	if (index_put(t, KEY_SURFACE, id, s) < 0) {
		free(s);
		return NULL;
	}
	LIST_INSERT(t->surfaces, s);
	return s;
}

static void surface_free(struct vmapp_shm_tracker *t, struct vmapp_shm_surface *s)
{
	if (s->viewport_id)
		index_del(t, KEY_VIEWPORT, s->viewport_id);
	index_del(t, KEY_SURFACE, s->id);
	LIST_REMOVE(t->surfaces, s);
	free(s->shown);
	free(s);
}

/* Puts `b` last in the surface's shown buffers, the least recently shown
 * first. */
static int surface_show(struct vmapp_shm_surface *s, struct vmapp_shm_buffer *b)
{
	for (size_t i = 0; i < s->n_shown; i++) {
		if (s->shown[i] == b) {
			memmove(s->shown + i, s->shown + i + 1, (s->n_shown - i - 1) * sizeof(*s->shown));
			s->shown[s->n_shown - 1] = b;
			return 0;
		}
	}
	if (s->n_shown == MAX_SHOWN) {
		/* It will not hear of this surface's damage any more. */
		s->shown[0]->pending.whole = true;
		memmove(s->shown, s->shown + 1, (s->n_shown - 1) * sizeof(*s->shown));
		s->n_shown--;
	}
	if (s->n_shown == s->cap_shown) {
		size_t cap = s->cap_shown ? s->cap_shown * 2 : 4;
		struct vmapp_shm_buffer **grown = realloc(s->shown, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		s->shown = grown;
		s->cap_shown = cap;
	}
	s->shown[s->n_shown++] = b;
	return 0;
}

/* This commit's damage in the coordinates of `b`, clipped to it. */
static void commit_damage(const struct vmapp_shm_surface *s, const struct vmapp_shm_buffer *b,
			  struct damage *ret)
{
	int64_t w = b->width, h = b->height;

	damage_clear(ret);
	for (uint32_t i = 0; i < s->buffer_damage.n; i++)
		damage_add(ret, box_clip(s->buffer_damage.boxes[i], w, h));
	if (s->damage.n == 0)
		return;
	/* Under a transform or a viewport the mapping from surface to buffer
	 * is not a plain scale: the whole buffer is the safe answer. */
	if (s->transform != 0 || s->viewport_id != 0) {
		ret->whole = true;
		return;
	}
	for (uint32_t i = 0; i < s->damage.n; i++) {
		/* Clipped first (scale >= 1, so the surface is no larger than
		 * the buffer) so that the product stays within 64 bits. */
		struct box sb = box_clip(s->damage.boxes[i], w, h);
		sb.x0 *= s->scale;
		sb.y0 *= s->scale;
		sb.x1 *= s->scale;
		sb.y1 *= s->scale;
		damage_add(ret, box_clip(sb, w, h));
	}
}

struct sender {
	struct vmapp_shm_ops *ops;
	size_t start; /* ops from here on are this commit's */
	uint32_t ref;
	uint64_t sent;
};

/* Spans come in ascending order; one close enough to the last update of
 * this commit extends it. */
static int emit_update(struct sender *c, uint64_t offset, uint64_t length)
{
	if (length == 0)
		return 0;
	if (c->ops->n > c->start) {
		struct vmapp_shm_op *last = &c->ops->ops[c->ops->n - 1];
		uint64_t last_end = last->offset + last->size;
		if (last->kind == VMAPP_SHM_OP_UPDATE && last->ref == c->ref &&
		    offset >= last->offset && offset <= last_end + MERGE_GAP) {
			if (offset + length > last_end) {
				c->sent += offset + length - last_end;
				last->size = offset + length - last->offset;
			}
			return 0;
		}
	}
	c->sent += length;
	return push_op(c->ops, VMAPP_SHM_OP_UPDATE, c->ref, offset, length);
}

static int send_buffer(struct vmapp_shm_tracker *t, struct vmapp_shm_buffer *b, bool first,
		       struct vmapp_shm_ops *ops)
{
	struct vmapp_shm_pool *pool = b->pool;
	struct vmapp_rect rects[MAX_RECTS];
	size_t n_rects = 0;
	int32_t width = b->width;
	uint32_t bpp = b->bpp;
	int r;

	if (damage_empty(&b->pending))
		return 0;
	/* A client that cut its pool short is broken (compositors kill it on
	 * SIGBUS); reading it would SIGBUS us. */
	if (!fd_holds(pool->fd, pool->size))
		return -EINVAL;

	/* Rows past the end of the pool have nothing to send (such a buffer
	 * is the host's to refuse); counting only rows within it bounds the
	 * work by the pool's size. */
	if (b->offset >= pool->size)
		return 0;
	uint64_t rows = (pool->size - b->offset + (uint64_t)b->stride - 1) / (uint64_t)b->stride;
	int32_t height = rows < (uint64_t)b->height ? (int32_t)rows : b->height;

	if (b->pending.whole) {
		rects[n_rects++] = (struct vmapp_rect){ 0, 0, b->width, height };
	} else {
		for (uint32_t i = 0; i < b->pending.n; i++) {
			const struct box *x = &b->pending.boxes[i];
			rects[n_rects++] = (struct vmapp_rect){
				(int32_t)x->x0, (int32_t)x->y0,
				(int32_t)(x->x1 - x->x0), (int32_t)(x->y1 - x->y0),
			};
		}
	}
	/* An unknown format, or a stride too short for its pixels: whole
	 * rows, which hold every byte of the rows damaged whatever the
	 * layout within them. */
	if (bpp == 0 || (uint64_t)b->stride < (uint64_t)b->width * bpp) {
		for (size_t i = 0; i < n_rects; i++) {
			rects[i].x = 0;
			rects[i].width = b->stride;
		}
		width = b->stride;
		bpp = 1;
	}

	if (!t->scratch) {
		t->scratch = malloc((MAX_DAMAGE_SPANS + MAX_SHADOW_SPANS) * sizeof(*t->scratch));
		if (!t->scratch)
			return -ENOMEM;
	}
	struct vmapp_span *spans = t->scratch, *changes = t->scratch + MAX_DAMAGE_SPANS;
	int64_t y0 = height, y1 = 0;
	for (size_t i = 0; i < n_rects; i++) {
		int64_t end = (int64_t)rects[i].y + rects[i].height;
		y0 = rects[i].y < y0 ? rects[i].y : y0;
		y1 = end > y1 ? end : y1;
	}
	y0 = y0 < 0 ? 0 : y0;
	y1 = y1 > height ? height : y1;
	size_t n_spans;
	if (y0 >= y1) {
		n_spans = 0;
	} else if (y1 - y0 > MAX_WALK_ROWS) {
		spans[0].offset = b->offset + (uint64_t)y0 * (uint64_t)b->stride;
		spans[0].length = (uint64_t)(y1 - y0 - 1) * (uint64_t)b->stride + (uint64_t)width * bpp;
		n_spans = 1;
	} else {
		n_spans = vmapp_shmdiff_damage(b->offset, width, height, b->stride, bpp, rects,
					       n_rects, spans, MAX_DAMAGE_SPANS);
	}

	if (!pool->shadow && !pool->no_shadow) {
		/* Zero like the host's pool: nothing was sent from it yet, as
		 * every update so far went through a shadow. */
		void *shadow = mmap(NULL, pool->size, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (shadow == MAP_FAILED) {
			pool_drop_shadow(pool);
		} else {
			pool->shadow = shadow;
			pool->shadow_size = pool->size;
		}
	}

	struct sender c = { .ops = ops, .start = ops->n, .ref = pool->ref };
	uint64_t declared = 0, changed = 0;
	for (size_t i = 0; i < n_spans; i++) {
		uint64_t offset = spans[i].offset, length = spans[i].length;
		if (offset >= pool->size)
			continue;
		if (length > pool->size - offset)
			length = pool->size - offset;
		declared += length;
		if (!pool->shadow) {
			r = emit_update(&c, offset, length);
			if (r < 0)
				return r;
			continue;
		}
		for (uint64_t at = offset; at < offset + length; at += SHADOW_CHUNK) {
			size_t chunk = offset + length - at < SHADOW_CHUNK
					       ? (size_t)(offset + length - at) : SHADOW_CHUNK;
			size_t k = vmapp_shmdiff_shadow(pool->map + at, pool->shadow + at, chunk, 0,
							changes, MAX_SHADOW_SPANS);
			for (size_t j = 0; j < k; j++) {
				changed += changes[j].length;
				r = emit_update(&c, at + changes[j].offset, changes[j].length);
				if (r < 0)
					return r;
			}
		}
	}
	t->bytes_declared += declared;
	t->bytes_sent += c.sent;

	uint64_t buffer_bytes = (uint64_t)b->stride * (uint64_t)height;
	if (t->diff == VMAPP_SHM_DIFF_AUTO && pool->shadow && !first &&
	    declared * 2 >= buffer_bytes) {
		/* Small damage is cheap to compare and an honest client's is
		 * all changed: only large declarations count either way. */
		pool->streak = changed * 10 > declared * 9 ? pool->streak + 1 : 0;
		if (pool->streak >= AUTO_STREAK)
			pool_drop_shadow(pool);
	}
	return 0;
}

static int commit(struct vmapp_shm_tracker *t, struct vmapp_shm_surface *s,
		  struct vmapp_shm_ops *ops)
{
	struct vmapp_shm_buffer *b = s->current;
	struct damage d;
	int r = 0;

	if (s->attached) {
		b = s->attached_buffer;
		s->current = b;
		s->attached = false;
		s->attached_buffer = NULL;
	}
	if (!b) {
		/* No shm buffer shown (none, or another kind): whatever the
		 * client draws next into one of ours, it owes no damage for
		 * what the compositor shows now. */
		for (size_t i = 0; i < s->n_shown; i++)
			s->shown[i]->pending.whole = true;
		goto out;
	}
	r = surface_show(s, b);
	if (r < 0)
		goto out;

	commit_damage(s, b, &d);
	if (!damage_empty(&d)) {
		for (size_t i = 0; i < s->n_shown; i++) {
			struct vmapp_shm_buffer *o = s->shown[i];
			if (o == b)
				continue;
			/* Another size: its coordinates mean nothing here. */
			if (o->width != b->width || o->height != b->height)
				o->pending.whole = true;
			else
				damage_merge(&o->pending, &d);
		}
	}
	bool first = !b->sent;
	damage_merge(&b->pending, &d);
	if (first)
		b->pending.whole = true;
	r = send_buffer(t, b, first, ops);
	b->sent = true;
	damage_clear(&b->pending);
out:
	damage_clear(&s->damage);
	damage_clear(&s->buffer_damage);
	return r;
}

static int surface_request(struct vmapp_shm_tracker *t, const struct vmapp_message_view *view,
			   struct vmapp_shm_ops *ops)
{
	const union vmapp_arg_value *a = view->args;
	struct vmapp_shm_surface *s;

	if (view->opcode == VMAPP_REQ_WL_SURFACE_DESTROY) {
		s = index_get(t, KEY_SURFACE, view->object_id);
		if (s)
			surface_free(t, s);
		return 0;
	}
	if (view->opcode == VMAPP_REQ_WL_SURFACE_COMMIT) {
		s = index_get(t, KEY_SURFACE, view->object_id);
		return s ? commit(t, s, ops) : 0;
	}
	switch (view->opcode) {
	case VMAPP_REQ_WL_SURFACE_ATTACH:
	case VMAPP_REQ_WL_SURFACE_DAMAGE:
	case VMAPP_REQ_WL_SURFACE_DAMAGE_BUFFER:
	case VMAPP_REQ_WL_SURFACE_SET_BUFFER_SCALE:
	case VMAPP_REQ_WL_SURFACE_SET_BUFFER_TRANSFORM:
		break;
	default:
		return 0;
	}
	s = surface_get(t, view->object_id);
	if (!s)
		return -ENOMEM;
	switch (view->opcode) {
	case VMAPP_REQ_WL_SURFACE_ATTACH:
		s->attached = true;
		s->attached_buffer = a[0].u ? index_get(t, KEY_BUFFER, a[0].u) : NULL;
		break;
	case VMAPP_REQ_WL_SURFACE_DAMAGE:
		damage_add(&s->damage, box_of(a[0].i, a[1].i, a[2].i, a[3].i));
		break;
	case VMAPP_REQ_WL_SURFACE_DAMAGE_BUFFER:
		damage_add(&s->buffer_damage, box_of(a[0].i, a[1].i, a[2].i, a[3].i));
		break;
	case VMAPP_REQ_WL_SURFACE_SET_BUFFER_SCALE:
		/* Below 1 is a protocol error the host refuses. */
		s->scale = a[0].i < 1 ? 1 : a[0].i;
		break;
	case VMAPP_REQ_WL_SURFACE_SET_BUFFER_TRANSFORM:
		s->transform = a[0].i;
		break;
	}
	return 0;
}

void vmapp_shm_tracker_init(struct vmapp_shm_tracker *t, enum vmapp_shm_diff diff)
{
	*t = (struct vmapp_shm_tracker){ .diff = diff, .next_ref = 1 };
}

void vmapp_shm_tracker_finish(struct vmapp_shm_tracker *t)
{
	while (t->surfaces)
		surface_free(t, t->surfaces);
	while (t->buffers)
		buffer_free(t, t->buffers);
	while (t->pools)
		pool_free(t, t->pools);
	free(t->slots);
	free(t->scratch);
	vmapp_shm_tracker_init(t, t->diff);
}

int vmapp_shm_request(struct vmapp_shm_tracker *t, const struct vmapp_message_view *view,
		      const int *fds, struct vmapp_shm_ops *ops, uint32_t *ret_fd_ref)
{
	const struct vmapp_interface *iface = view->interface;
	const union vmapp_arg_value *a = view->args;

	if (ret_fd_ref)
		*ret_fd_ref = 0;

	if (iface == &vmapp_iface_wl_shm) {
		if (view->opcode == VMAPP_REQ_WL_SHM_CREATE_POOL)
			return create_pool(t, view, fds, ops, ret_fd_ref);
		return 0;
	}
	if (iface == &vmapp_iface_wl_shm_pool) {
		struct vmapp_shm_pool *pool = index_get(t, KEY_POOL, view->object_id);
		if (!pool)
			return 0;
		switch (view->opcode) {
		case VMAPP_REQ_WL_SHM_POOL_CREATE_BUFFER:
			return create_buffer(t, pool, view, ops);
		case VMAPP_REQ_WL_SHM_POOL_RESIZE:
			return resize_pool(t, pool, a[0].i, ops);
		case VMAPP_REQ_WL_SHM_POOL_DESTROY:
			return destroy_pool(t, pool, ops);
		}
		return 0;
	}
	if (iface == &vmapp_iface_wl_buffer) {
		struct vmapp_shm_buffer *b = index_get(t, KEY_BUFFER, view->object_id);
		if (b && view->opcode == VMAPP_REQ_WL_BUFFER_DESTROY)
			return destroy_buffer(t, b, ops);
		return 0;
	}
	if (iface == &vmapp_iface_wl_surface)
		return surface_request(t, view, ops);
	if (iface == &vmapp_iface_wp_viewporter &&
	    view->opcode == VMAPP_REQ_WP_VIEWPORTER_GET_VIEWPORT) {
		struct vmapp_shm_surface *s = surface_get(t, a[1].u);
		if (!s)
			return -ENOMEM;
		int r = index_put(t, KEY_VIEWPORT, a[0].u, s);
		if (r < 0)
			return r;
		/* A second viewport is a protocol error (viewport_exists). */
		if (s->viewport_id && s->viewport_id != a[0].u)
			index_del(t, KEY_VIEWPORT, s->viewport_id);
		s->viewport_id = a[0].u;
		return 0;
	}
	if (iface == &vmapp_iface_wp_viewport && view->opcode == VMAPP_REQ_WP_VIEWPORT_DESTROY) {
		/* "the crop and scale state is removed from the wl_surface"
		 * at its next commit; a viewport whose surface is gone is
		 * no longer in the index. */
		struct vmapp_shm_surface *s = index_get(t, KEY_VIEWPORT, view->object_id);
		if (s) {
			index_del(t, KEY_VIEWPORT, view->object_id);
			s->viewport_id = 0;
		}
		return 0;
	}
	return 0;
}

const uint8_t *vmapp_shm_data(struct vmapp_shm_tracker *t, uint32_t ref, uint64_t offset,
			      uint64_t size)
{
	struct vmapp_shm_pool *pool = index_get(t, KEY_REF, ref);

	if (!pool || size > pool->size || offset > pool->size - size)
		return NULL;
	if (!fd_holds(pool->fd, offset + size))
		return NULL;
	if (!pool->shadow)
		return pool->map + offset;
	memcpy(pool->shadow + offset, pool->map + offset, size);
	return pool->shadow + offset;
}

void vmapp_shm_release(struct vmapp_shm_tracker *t, uint32_t ref)
{
	struct vmapp_shm_pool *pool = index_get(t, KEY_REF, ref);

	/* A live pool still has buffers or an object pointing at it. */
	if (pool && pool->dead)
		pool_free(t, pool);
}
