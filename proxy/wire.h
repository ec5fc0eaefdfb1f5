/* SPDX-License-Identifier: MIT */
/*
 * The wire decoder and validator: bytes, an fd count, the object map and the
 * protocol tables in; a verdict (the rule broken, or OK with the decoded
 * message) out.  Pure: no I/O, no logging, no globals, no allocation.
 */
#ifndef VMAPP_WIRE_H
#define VMAPP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "objmap.h"
#include "rules.h"
#include "vmapp-protocol.h"

/* libwayland's own ceiling (WL_MAX_MESSAGE_SIZE in 1.21). */
#define VMAPP_MAX_MESSAGE_SIZE 4096
#define VMAPP_HEADER_SIZE 8
/* Above the largest argument count of any vendored protocol message;
 * a unit test checks every table against it. */
#define VMAPP_MAX_ARGS 20

enum vmapp_direction {
	VMAPP_REQUEST, /* client to compositor: untrusted, checked strictly */
	VMAPP_EVENT,   /* compositor to client: trusted, parsed for tracking */
};

union vmapp_arg_value {
	int32_t i;   /* int, fixed */
	uint32_t u;  /* uint, object, new_id */
	struct {
		const char *data; /* NULL for a null string; else NUL-terminated */
		uint32_t size;    /* bytes including the NUL, 0 when null */
		uint32_t offset;  /* of the length word, from the message start */
	} str;
	struct {
		const uint8_t *data;
		uint32_t size;
	} array;
	uint32_t fd_index; /* 0-based among this message's fds */
};

struct vmapp_message_view {
	uint32_t object_id;
	uint32_t opcode;
	uint32_t size;
	const struct vmapp_object *object;
	const struct vmapp_interface *interface;
	const struct vmapp_message *message;
	uint32_t n_fds;
	union vmapp_arg_value args[VMAPP_MAX_ARGS];
	/* The untyped new_id (wl_registry.bind): its interface name and
	 * version come on the wire before the id. */
	const char *new_interface_name; /* may be NULL */
	uint32_t new_interface_size;
	uint32_t new_version;
	/* When decoding stopped on a rule: the argument it stopped at. */
	uint32_t bad_arg;
};

/*
 * Reads the header.  OK and the message size when a whole message is in
 * `len` bytes; HEADER_TRUNCATED or MESSAGE_TRUNCATED when more bytes are
 * needed; SIZE_* when the header itself is bad.
 */
enum vmapp_rule vmapp_wire_peek(const uint8_t *untrusted_data, size_t len,
				uint32_t *ret_size);

/*
 * Decodes and validates one whole message (call vmapp_wire_peek first, or
 * pass a buffer of any length: it is checked again).  `ret` points into
 * `untrusted_data`, which must outlive it.  Requests are held to every
 * rule of DESIGN.md "Validation rules" that needs no hook state; events
 * only to the structural ones.
 */
enum vmapp_rule vmapp_wire_decode(const struct vmapp_protocol_set *set,
				  const struct vmapp_objmap *map,
				  enum vmapp_direction direction,
				  const uint8_t *untrusted_data, size_t len,
				  size_t n_fds_available,
				  struct vmapp_message_view *ret);

/* True when `data` (size bytes, no NUL) is valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool vmapp_utf8_valid(const char *data, size_t size);

static inline uint32_t vmapp_wire_u32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline void vmapp_wire_put_u32(uint8_t *p, uint32_t v)
{
	__builtin_memcpy(p, &v, sizeof(v));
}

#endif
