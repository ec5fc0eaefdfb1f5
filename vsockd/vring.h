/* SPDX-License-Identifier: MIT */
/*
 * A split virtqueue (virtio 1.x, 2.7) served from guest memory that the
 * front-end shared with us.  Everything in that memory is written by the
 * guest at any time: descriptors, the avail ring and its index are read
 * once into local copies and checked before use, and no pointer into
 * guest memory is ever formed from an unchecked value.
 *
 * Pure: no I/O besides vmapp_vring_signal(), no logging, no globals.
 */
#ifndef VMAPP_VRING_H
#define VMAPP_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The front-end may share at most this many regions (vhost-user's
 * VHOST_MEMORY_BASELINE_NREGIONS without CONFIGURE_MEM_SLOTS). */
#define VMAPP_MEM_MAX_REGIONS 8

/* vhost-user's largest ring, and the one the split ring's u16 indices
 * allow as a power of two. */
#define VMAPP_VRING_MAX_NUM 32768

struct vmapp_mem_region {
	uint64_t gpa;	/* guest physical address of the first byte */
	uint64_t uva;	/* the same byte in the front-end's address space */
	uint64_t size;
	uint8_t *ptr;	/* the same byte in ours */
};

/* The guest's memory as the front-end described it: a plain table, its
 * mappings owned by whoever filled it. */
struct vmapp_mem {
	unsigned n_regions;
	struct vmapp_mem_region regions[VMAPP_MEM_MAX_REGIONS];
};

/* Translates [addr, addr + len) in the front-end's address space into a
 * pointer if it lies entirely inside one region; NULL otherwise. */
uint8_t *vmapp_mem_uva(const struct vmapp_mem *mem, uint64_t addr, uint64_t len);

/* Translates the guest physical address addr: a pointer to it and, in
 * *ret_len, how many bytes from there (at most len) are in the same
 * region; NULL if addr is in no region. */
uint8_t *vmapp_mem_gpa(const struct vmapp_mem *mem, uint64_t addr, uint64_t len,
		uint64_t *ret_len);

/* Why a chain or a ring was refused: the log line and the tests name it. */
enum vmapp_vring_rule {
	VMAPP_VRING_OK = 0,
	VMAPP_VRING_HEAD_RANGE,		/* avail ring names a head >= num */
	VMAPP_VRING_NEXT_RANGE,		/* a descriptor's next >= num */
	VMAPP_VRING_CHAIN_LOOP,		/* more descriptors than the ring has */
	VMAPP_VRING_INDIRECT,		/* VIRTQ_DESC_F_INDIRECT, not negotiated */
	VMAPP_VRING_OUTSIDE_MEMORY,	/* a buffer not inside guest memory */
	VMAPP_VRING_WRITABLE_FIRST,	/* readable after writable (2.7.4.2) */
	VMAPP_VRING_TOO_MANY_SEGMENTS,	/* split into more pieces than we keep */
	VMAPP_VRING_AVAIL_AHEAD,	/* avail idx more than num ahead: ring broken */
};

const char *vmapp_vring_rule_name(enum vmapp_vring_rule rule);

/* One piece of a chain, inside guest memory. */
struct vmapp_vring_seg {
	uint8_t *ptr;
	uint32_t len;
	bool writable;
};

/* A chain taken from the avail ring; the segments are the ring's own and
 * valid until the next pop or until the memory table changes. */
struct vmapp_vring_chain {
	uint16_t head;
	size_t n_segs;
	struct vmapp_vring_seg *segs;
	uint64_t readable;	/* bytes in the readable segments, in front */
	uint64_t writable;	/* bytes in the writable segments, after them */
};

struct vmapp_vring {
	/* As the front-end set them. */
	uint16_t num;		/* 0 until SET_VRING_NUM */
	bool addr_set;
	uint64_t desc_addr, avail_addr, used_addr;	/* front-end addresses */
	uint16_t last_avail;	/* the next avail entry we take */
	uint16_t used_idx;	/* the next used entry we fill */
	bool started;		/* between SET_VRING_KICK and GET_VRING_BASE */
	bool enabled;		/* SET_VRING_ENABLE */
	int call_fd;		/* eventfd to signal the guest; -1: none */

	/* Resolved by vmapp_vring_map(); NULL when unusable. */
	uint8_t *desc, *avail, *used;
	/* A ring the guest broke beyond one chain is not served again until
	 * the front-end sets it up anew. */
	bool broken;

	struct vmapp_vring_seg *segs;
	size_t segs_cap;
};

void vmapp_vring_init(struct vmapp_vring *vr);
void vmapp_vring_finish(struct vmapp_vring *vr);

/* Sets the ring size (a power of 2, 1..VMAPP_VRING_MAX_NUM); -EINVAL or
 * -ENOMEM. Unmaps the ring until vmapp_vring_map(). */
int vmapp_vring_set_num(struct vmapp_vring *vr, uint32_t num);

/* Resolves the ring's three parts in mem, checking size and alignment,
 * and takes used_idx from the used ring when reset_used is set (a new
 * address); -EINVAL leaves the ring unmapped. */
int vmapp_vring_map(struct vmapp_vring *vr, const struct vmapp_mem *mem, bool reset_used);

/* Whether the ring may be served: mapped, started, enabled, not broken. */
bool vmapp_vring_ready(const struct vmapp_vring *vr);

/* Whether the avail ring holds a chain we did not take yet. */
bool vmapp_vring_has_avail(struct vmapp_vring *vr);

/*
 * Takes the next chain.  Returns 1 with *ret_chain filled, 0 when the
 * ring is empty (or not ready), or -EINVAL when the guest broke a rule,
 * named in *ret_rule: for a bad chain the chain is already returned as
 * used with length 0 and the ring goes on; for VMAPP_VRING_AVAIL_AHEAD
 * the ring is marked broken.
 */
int vmapp_vring_pop(struct vmapp_vring *vr, const struct vmapp_mem *mem,
		struct vmapp_vring_chain *ret_chain, enum vmapp_vring_rule *ret_rule);

/* Puts back the chain just popped, untouched (nothing was written). */
void vmapp_vring_unpop(struct vmapp_vring *vr);

/* Returns a chain to the guest: len bytes written to its writable part. */
void vmapp_vring_push(struct vmapp_vring *vr, uint16_t head, uint32_t len);

/* Signals the call eventfd unless the guest asked for no interrupts. */
void vmapp_vring_signal(struct vmapp_vring *vr);

/* Copies between a chain's readable (resp. writable) part, from byte
 * offset on, and a buffer; returns the bytes copied (short at the end). */
size_t vmapp_vring_chain_read(const struct vmapp_vring_chain *chain, uint64_t offset,
		void *dst, size_t len);
size_t vmapp_vring_chain_write(const struct vmapp_vring_chain *chain, uint64_t offset,
		const void *src, size_t len);

#endif
