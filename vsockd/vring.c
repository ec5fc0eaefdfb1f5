/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vring.h"

/* virtio 1.x, 2.7.5 and 2.7.6: struct virtq_desc and the ring flags. */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#define DESC_SIZE 16
#define AVAIL_HDR 4	/* le16 flags, le16 idx, then le16 ring[num] */
#define USED_HDR 4	/* le16 flags, le16 idx, then {le32 id, le32 len}[num] */

uint8_t *vmapp_mem_uva(const struct vmapp_mem *mem, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < mem->n_regions; i++) {
		const struct vmapp_mem_region *r = &mem->regions[i];
		if (addr >= r->uva && addr - r->uva < r->size &&
		    len <= r->size - (addr - r->uva))
			return r->ptr + (addr - r->uva);
	}
	return NULL;
}

uint8_t *vmapp_mem_gpa(const struct vmapp_mem *mem, uint64_t addr, uint64_t len,
		uint64_t *ret_len)
{
	for (unsigned i = 0; i < mem->n_regions; i++) {
		const struct vmapp_mem_region *r = &mem->regions[i];
		if (addr >= r->gpa && addr - r->gpa < r->size) {
			uint64_t left = r->size - (addr - r->gpa);
			*ret_len = len < left ? len : left;
			return r->ptr + (addr - r->gpa);
		}
	}
	*ret_len = 0;
	return NULL;
}

static const char *const rule_names[] = {
	[VMAPP_VRING_OK] = "ok",
	[VMAPP_VRING_HEAD_RANGE] = "chain head out of range",
	[VMAPP_VRING_NEXT_RANGE] = "descriptor next out of range",
	[VMAPP_VRING_CHAIN_LOOP] = "chain longer than the ring (a loop)",
	[VMAPP_VRING_INDIRECT] = "indirect descriptor not negotiated",
	[VMAPP_VRING_OUTSIDE_MEMORY] = "buffer outside guest memory",
	[VMAPP_VRING_WRITABLE_FIRST] = "readable descriptor after a writable one",
	[VMAPP_VRING_TOO_MANY_SEGMENTS] = "chain in too many pieces",
	[VMAPP_VRING_AVAIL_AHEAD] = "avail index more than the ring size ahead",
};

const char *vmapp_vring_rule_name(enum vmapp_vring_rule rule)
{
	if ((size_t)rule < sizeof(rule_names) / sizeof(rule_names[0]) && rule_names[rule])
		return rule_names[rule];
	return "unknown";
}

void vmapp_vring_init(struct vmapp_vring *vr)
{
	*vr = (struct vmapp_vring){ .call_fd = -1 };
}

void vmapp_vring_finish(struct vmapp_vring *vr)
{
	if (vr->call_fd >= 0)
		close(vr->call_fd);
	free(vr->segs);
	vmapp_vring_init(vr);
}

int vmapp_vring_set_num(struct vmapp_vring *vr, uint32_t num)
{
	if (num == 0 || num > VMAPP_VRING_MAX_NUM || (num & (num - 1)))
		return -EINVAL;
	/* A descriptor may straddle regions: one piece per region it
	 * touches, so twice the ring size covers any sane chain. */
	size_t cap = (size_t)num * 2;
	struct vmapp_vring_seg *segs = calloc(cap, sizeof(*segs));
	if (!segs)
		return -ENOMEM;
	free(vr->segs);
	vr->segs = segs;
	vr->segs_cap = cap;
	vr->num = (uint16_t)num;
	vr->desc = vr->avail = vr->used = NULL;
	return 0;
}

static uint32_t ring_num(const struct vmapp_vring *vr)
{
	return vr->num;
}

int vmapp_vring_map(struct vmapp_vring *vr, const struct vmapp_mem *mem, bool reset_used)
{
	uint32_t num = ring_num(vr);

	vr->desc = vr->avail = vr->used = NULL;
	if (num == 0 || !vr->addr_set)
		return -EINVAL;
	uint8_t *desc = vmapp_mem_uva(mem, vr->desc_addr, (uint64_t)DESC_SIZE * num);
	/* The trailing used_event / avail_event words exist only with
	 * EVENT_IDX, which we do not offer: not required here. */
	uint8_t *avail = vmapp_mem_uva(mem, vr->avail_addr, AVAIL_HDR + 2ull * num);
	uint8_t *used = vmapp_mem_uva(mem, vr->used_addr, USED_HDR + 8ull * num);
	if (!desc || !avail || !used)
		return -EINVAL;
	/* 2.7: alignment 16, 2 and 4; the atomic index accesses need it. */
	if ((uintptr_t)desc % 16 || (uintptr_t)avail % 2 || (uintptr_t)used % 4)
		return -EINVAL;
	vr->desc = desc;
	vr->avail = avail;
	vr->used = used;
	if (reset_used)
		vr->used_idx = le16toh(__atomic_load_n((uint16_t *)(used + 2), __ATOMIC_ACQUIRE));
	return 0;
}

bool vmapp_vring_ready(const struct vmapp_vring *vr)
{
	return vr->desc && vr->started && vr->enabled && !vr->broken;
}

static uint16_t avail_idx(const struct vmapp_vring *vr)
{
	/* Acquire: the ring entries the index covers are read after it. */
	return le16toh(__atomic_load_n((uint16_t *)(vr->avail + 2), __ATOMIC_ACQUIRE));
}

bool vmapp_vring_has_avail(struct vmapp_vring *vr)
{
	if (!vmapp_vring_ready(vr))
		return false;
	return avail_idx(vr) != vr->last_avail;
}

static enum vmapp_vring_rule add_segment(struct vmapp_vring *vr, const struct vmapp_mem *mem,
		struct vmapp_vring_chain *chain, uint64_t untrusted_addr,
		uint32_t untrusted_len, bool writable)
{
	uint64_t addr = untrusted_addr;
	uint64_t left = untrusted_len;

	if (addr > UINT64_MAX - left)
		return VMAPP_VRING_OUTSIDE_MEMORY;
	while (left > 0) {
		uint64_t piece;
		uint8_t *p = vmapp_mem_gpa(mem, addr, left, &piece);
		if (!p)
			return VMAPP_VRING_OUTSIDE_MEMORY;
		if (chain->n_segs == vr->segs_cap)
			return VMAPP_VRING_TOO_MANY_SEGMENTS;
		chain->segs[chain->n_segs++] = (struct vmapp_vring_seg){
			.ptr = p, .len = (uint32_t)piece, .writable = writable,
		};
		addr += piece;
		left -= piece;
	}
	if (writable)
		chain->writable += untrusted_len;
	else
		chain->readable += untrusted_len;
	return VMAPP_VRING_OK;
}

static enum vmapp_vring_rule walk_chain(struct vmapp_vring *vr, const struct vmapp_mem *mem,
		struct vmapp_vring_chain *chain)
{
	uint32_t num = ring_num(vr);
	uint32_t i = chain->head;
	bool seen_writable = false;

	if (i >= num)
		return VMAPP_VRING_HEAD_RANGE;
	for (uint32_t count = 0;; count++) {
		/* A chain visits each descriptor at most once, so a chain
		 * longer than the table loops (2.7.5.3.1). */
		if (count >= num)
			return VMAPP_VRING_CHAIN_LOOP;

		/* One copy: the guest may rewrite the descriptor meanwhile. */
		uint8_t untrusted_desc[DESC_SIZE];
		memcpy(untrusted_desc, vr->desc + (size_t)i * DESC_SIZE, DESC_SIZE);
		uint64_t untrusted_addr;
		uint32_t untrusted_len;
		uint16_t untrusted_flags, untrusted_next;
		memcpy(&untrusted_addr, untrusted_desc, 8);
		memcpy(&untrusted_len, untrusted_desc + 8, 4);
		memcpy(&untrusted_flags, untrusted_desc + 12, 2);
		memcpy(&untrusted_next, untrusted_desc + 14, 2);
		untrusted_addr = le64toh(untrusted_addr);
		untrusted_len = le32toh(untrusted_len);
		untrusted_flags = le16toh(untrusted_flags);
		untrusted_next = le16toh(untrusted_next);

		if (untrusted_flags & VIRTQ_DESC_F_INDIRECT)
			return VMAPP_VRING_INDIRECT;
		bool writable = untrusted_flags & VIRTQ_DESC_F_WRITE;
		if (!writable && seen_writable)
			return VMAPP_VRING_WRITABLE_FIRST;
		seen_writable |= writable;
		enum vmapp_vring_rule rule = add_segment(vr, mem, chain, untrusted_addr,
				untrusted_len, writable);
		if (rule != VMAPP_VRING_OK)
			return rule;

		if (!(untrusted_flags & VIRTQ_DESC_F_NEXT))
			return VMAPP_VRING_OK;
		if (untrusted_next >= num)
			return VMAPP_VRING_NEXT_RANGE;
		i = untrusted_next;
	}
}

int vmapp_vring_pop(struct vmapp_vring *vr, const struct vmapp_mem *mem,
		struct vmapp_vring_chain *ret_chain, enum vmapp_vring_rule *ret_rule)
{
	uint32_t num = ring_num(vr);

	*ret_rule = VMAPP_VRING_OK;
	if (!vmapp_vring_ready(vr))
		return 0;
	uint16_t untrusted_idx = avail_idx(vr);
	uint16_t pending = (uint16_t)(untrusted_idx - vr->last_avail);
	if (pending == 0)
		return 0;
	if (pending > num) {
		vr->broken = true;
		*ret_rule = VMAPP_VRING_AVAIL_AHEAD;
		return -EINVAL;
	}

	uint16_t untrusted_head;
	memcpy(&untrusted_head, vr->avail + AVAIL_HDR + 2 * (size_t)(vr->last_avail % num), 2);
	vr->last_avail++;

	*ret_chain = (struct vmapp_vring_chain){
		.head = le16toh(untrusted_head),
		.segs = vr->segs,
	};
	enum vmapp_vring_rule rule = walk_chain(vr, mem, ret_chain);
	if (rule != VMAPP_VRING_OK) {
		/* Only this chain is lost: give it back empty so that the
		 * guest can reuse its descriptors. */
		vmapp_vring_push(vr, ret_chain->head, 0);
		*ret_rule = rule;
		return -EINVAL;
	}
	return 1;
}

void vmapp_vring_unpop(struct vmapp_vring *vr)
{
	vr->last_avail--;
}

void vmapp_vring_push(struct vmapp_vring *vr, uint16_t head, uint32_t len)
{
	uint32_t num = ring_num(vr);

	if (!vr->used || num == 0)
		return;
	uint8_t *elem = vr->used + USED_HDR + 8 * (size_t)(vr->used_idx % num);
	uint32_t id = htole32(head), l = htole32(len);
	memcpy(elem, &id, 4);
	memcpy(elem + 4, &l, 4);
	vr->used_idx++;
	/* Release: the element is visible before the index that covers it. */
	__atomic_store_n((uint16_t *)(vr->used + 2), htole16(vr->used_idx), __ATOMIC_RELEASE);
}

void vmapp_vring_signal(struct vmapp_vring *vr)
{
	if (vr->call_fd < 0 || !vr->avail)
		return;
	/* The used index store must be ordered before the flags load, or a
	 * guest that just cleared NO_INTERRUPT could miss this one. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t untrusted_flags = le16toh(__atomic_load_n((uint16_t *)vr->avail, __ATOMIC_RELAXED));
	if (untrusted_flags & VIRTQ_AVAIL_F_NO_INTERRUPT)
		return;
	uint64_t one = 1;
	/* EAGAIN: the counter is saturated, the guest is signalled anyway. */
	ssize_t n = write(vr->call_fd, &one, sizeof(one));
	(void)n;
}

static size_t chain_copy(const struct vmapp_vring_chain *chain, bool writable, uint64_t offset,
		uint8_t *buf, size_t len, bool to_chain)
{
	size_t done = 0;

	for (size_t i = 0; i < chain->n_segs && done < len; i++) {
		const struct vmapp_vring_seg *s = &chain->segs[i];
		if (s->writable != writable)
			continue;
		if (offset >= s->len) {
			offset -= s->len;
			continue;
		}
		size_t n = s->len - offset;
		if (n > len - done)
			n = len - done;
		if (to_chain)
			memcpy(s->ptr + offset, buf + done, n);
		else
			memcpy(buf + done, s->ptr + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

size_t vmapp_vring_chain_read(const struct vmapp_vring_chain *chain, uint64_t offset,
		void *dst, size_t len)
{
	return chain_copy(chain, false, offset, dst, len, false);
}

size_t vmapp_vring_chain_write(const struct vmapp_vring_chain *chain, uint64_t offset,
		const void *src, size_t len)
{
	return chain_copy(chain, true, offset, (uint8_t *)src, len, true);
}
