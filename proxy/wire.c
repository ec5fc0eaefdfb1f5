/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "wire.h"

enum vmapp_rule vmapp_wire_peek(const uint8_t *untrusted_data, size_t len,
				uint32_t *ret_size)
{
	if (len < VMAPP_HEADER_SIZE)
		return VMAPP_RULE_HEADER_TRUNCATED;

	uint32_t size = vmapp_wire_u32(untrusted_data + 4) >> 16;
	if (size < VMAPP_HEADER_SIZE)
		return VMAPP_RULE_SIZE_TOO_SMALL;
	if (size > VMAPP_MAX_MESSAGE_SIZE)
		return VMAPP_RULE_SIZE_TOO_LARGE;
	if (size % 4 != 0)
		return VMAPP_RULE_SIZE_UNALIGNED;
	if (len < size)
		return VMAPP_RULE_MESSAGE_TRUNCATED;
	*ret_size = size;
	return VMAPP_RULE_OK;
}

static bool enum_value_ok(const struct vmapp_enum *e, uint32_t value, uint32_t version)
{
	if (e->bitfield) {
		uint32_t mask = 0;
		for (uint32_t i = 0; i < e->n_entries; i++)
			if (e->entries[i].since <= version)
				mask |= e->entries[i].value;
		return (value & ~mask) == 0;
	}
	for (uint32_t i = 0; i < e->n_entries; i++)
		if (e->entries[i].value == value && e->entries[i].since <= version)
			return true;
	return false;
}

/*
 * A counted blob (string or array): a length word, then that many bytes
 * padded to 4.  The length is widened to 64 bits before the padding is
 * added, so 0xffffffff and 0xfffff000 can not wrap round to a small size
 * (the hole libwayland closed in connection.c).
 */
static enum vmapp_rule read_blob(const uint8_t *msg, uint32_t size, uint32_t *offset,
				 const uint8_t **ret_data, uint32_t *ret_len)
{
	if ((uint64_t)*offset + 4 > size)
		return VMAPP_RULE_ARG_OVERFLOW;
	uint32_t len = vmapp_wire_u32(msg + *offset);
	uint64_t padded = ((uint64_t)len + 3) & ~(uint64_t)3;
	if ((uint64_t)*offset + 4 + padded > size)
		return VMAPP_RULE_ARG_OVERFLOW;
	*ret_data = msg + *offset + 4;
	*ret_len = len;
	*offset += 4 + (uint32_t)padded;
	return VMAPP_RULE_OK;
}

static enum vmapp_rule check_string(const char *s, uint32_t len, bool nullable, bool strict)
{
	if (len == 0)
		return nullable ? VMAPP_RULE_OK : VMAPP_RULE_NULL_NOT_ALLOWED;
	if (s[len - 1] != '\0')
		return VMAPP_RULE_STRING_UNTERMINATED;
	if (!strict)
		return VMAPP_RULE_OK;
	if (memchr(s, '\0', len - 1))
		return VMAPP_RULE_STRING_EMBEDDED_NUL;
	if (!vmapp_utf8_valid(s, len - 1))
		return VMAPP_RULE_STRING_UTF8;
	return VMAPP_RULE_OK;
}

static enum vmapp_rule check_new_id(const struct vmapp_objmap *map, uint32_t id, bool strict)
{
	if (strict) {
		if (vmapp_objmap_client_id_ok(map, id))
			return VMAPP_RULE_OK;
		if (vmapp_objmap_get(map, id) && id < VMAPP_SERVER_ID_START)
			return VMAPP_RULE_NEW_ID_IN_USE;
		return VMAPP_RULE_NEW_ID_INVALID;
	}
	/* The compositor allocates from its own range, and may reuse an id
	 * whose object the client destroyed (libwayland's wl_map_remove). */
	const struct vmapp_object *obj = vmapp_objmap_get(map, id);
	if (id < VMAPP_SERVER_ID_START || (obj && obj->state == VMAPP_OBJECT_LIVE))
		return VMAPP_RULE_NEW_ID_INVALID;
	return VMAPP_RULE_OK;
}

static enum vmapp_rule check_object(const struct vmapp_objmap *map, const struct vmapp_arg *arg,
				    uint32_t id, bool strict)
{
	if (id == 0)
		return arg->nullable ? VMAPP_RULE_OK : VMAPP_RULE_NULL_NOT_ALLOWED;
	if (!strict)
		return VMAPP_RULE_OK; /* libwayland clients drop events naming dead objects */
	const struct vmapp_object *obj = vmapp_objmap_get(map, id);
	if (!obj || obj->state != VMAPP_OBJECT_LIVE)
		return VMAPP_RULE_OBJECT_ARG_UNKNOWN;
	if (arg->interface && obj->interface != arg->interface)
		return VMAPP_RULE_OBJECT_ARG_INTERFACE;
	return VMAPP_RULE_OK;
}

static enum vmapp_rule decode_args(const struct vmapp_objmap *map, bool strict,
				   const uint8_t *msg, uint32_t size,
				   struct vmapp_message_view *view)
{
	const struct vmapp_message *m = view->message;
	uint32_t offset = VMAPP_HEADER_SIZE;
	uint32_t n_fds = 0;
	enum vmapp_rule r;

	if (m->n_args > VMAPP_MAX_ARGS)
		return VMAPP_RULE_OPCODE_UNKNOWN;

	for (uint32_t i = 0; i < m->n_args; i++) {
		const struct vmapp_arg *arg = &m->args[i];
		union vmapp_arg_value *v = &view->args[i];
		const uint8_t *data;
		uint32_t len;

		view->bad_arg = i;
		if (arg->type == VMAPP_ARG_FD) {
			v->fd_index = n_fds++;
			continue;
		}
		if (arg->type == VMAPP_ARG_STRING || arg->type == VMAPP_ARG_ARRAY ||
		    (arg->type == VMAPP_ARG_NEW_ID && !arg->interface)) {
			uint32_t at = offset;
			r = read_blob(msg, size, &offset, &data, &len);
			if (r != VMAPP_RULE_OK)
				return r;
			if (arg->type == VMAPP_ARG_ARRAY) {
				v->array.data = data;
				v->array.size = len;
				continue;
			}
			bool nullable = arg->type == VMAPP_ARG_STRING && arg->nullable;
			r = check_string((const char *)data, len, nullable, strict);
			if (r != VMAPP_RULE_OK)
				return r;
			if (arg->type == VMAPP_ARG_STRING) {
				v->str.data = len ? (const char *)data : NULL;
				v->str.size = len;
				v->str.offset = at;
				continue;
			}
			/* untyped new_id: interface name, version, then the id */
			view->new_interface_name = (const char *)data;
			view->new_interface_size = len;
			if ((uint64_t)offset + 8 > size)
				return VMAPP_RULE_ARG_OVERFLOW;
			view->new_version = vmapp_wire_u32(msg + offset);
			offset += 4;
		} else if ((uint64_t)offset + 4 > size) {
			return VMAPP_RULE_ARG_OVERFLOW;
		}

		v->u = vmapp_wire_u32(msg + offset);
		offset += 4;

		switch (arg->type) {
		case VMAPP_ARG_OBJECT:
			r = check_object(map, arg, v->u, strict);
			break;
		case VMAPP_ARG_NEW_ID:
			r = check_new_id(map, v->u, strict);
			break;
		case VMAPP_ARG_INT:
		case VMAPP_ARG_UINT:
			r = VMAPP_RULE_OK;
			if (strict && arg->enumeration &&
			    !enum_value_ok(arg->enumeration, v->u, view->object->version))
				r = VMAPP_RULE_ENUM_INVALID;
			break;
		default:
			r = VMAPP_RULE_OK;
			break;
		}
		if (r != VMAPP_RULE_OK)
			return r;
	}

	view->bad_arg = m->n_args;
	if (offset != size)
		return VMAPP_RULE_TRAILING_BYTES;
	view->n_fds = n_fds;
	return VMAPP_RULE_OK;
}

enum vmapp_rule vmapp_wire_decode(const struct vmapp_protocol_set *set,
				  const struct vmapp_objmap *map,
				  enum vmapp_direction direction,
				  const uint8_t *untrusted_data, size_t len,
				  size_t n_fds_available,
				  struct vmapp_message_view *ret)
{
	bool strict = direction == VMAPP_REQUEST;
	uint32_t size;
	enum vmapp_rule r;

	(void)set;
	memset(ret, 0, sizeof(*ret));
	/* What the message claims to be, for the log line, even when its
	 * size is bad: nothing is trusted on the strength of it. */
	const struct vmapp_object *obj = NULL;
	if (len >= VMAPP_HEADER_SIZE) {
		ret->object_id = vmapp_wire_u32(untrusted_data);
		ret->opcode = vmapp_wire_u32(untrusted_data + 4) & 0xffff;
		obj = vmapp_objmap_get(map, ret->object_id);
		if (obj) {
			ret->object = obj;
			ret->interface = obj->interface;
			uint32_t n = strict ? obj->interface->n_requests : obj->interface->n_events;
			if (ret->opcode < n)
				ret->message = strict ? &obj->interface->requests[ret->opcode]
						      : &obj->interface->events[ret->opcode];
		}
	}
	r = vmapp_wire_peek(untrusted_data, len, &size);
	if (r != VMAPP_RULE_OK)
		return r;
	ret->size = size;

	if (!obj)
		return VMAPP_RULE_OBJECT_UNKNOWN;
	if (strict && obj->state != VMAPP_OBJECT_LIVE)
		return VMAPP_RULE_OBJECT_DESTROYED;
	if (!ret->message)
		return VMAPP_RULE_OPCODE_UNKNOWN;
	if (strict && ret->message->since > obj->version)
		return VMAPP_RULE_VERSION_TOO_LOW;

	r = decode_args(map, strict, untrusted_data, size, ret);
	if (r != VMAPP_RULE_OK)
		return r;

	/* fds travel beside the bytes; they must all be there with their message. */
	if (ret->n_fds > n_fds_available)
		return VMAPP_RULE_FD_MISSING;
	return VMAPP_RULE_OK;
}
